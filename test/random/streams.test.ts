import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { counterStream, groupCounter, MAX_COUNTER } from '../../lib/random/counter-stream';
import { createStream, permutation, restoreStream, STREAMS } from '../../lib/random/streams';

test('same seed and name give the same numbers; another name, part or seed gives others', () => {
  const a = createStream(135, 'prior-samples').fillNormal(new Float32Array(64));
  const b = createStream(135, 'prior-samples').fillNormal(new Float32Array(64));
  const otherName = createStream(135, 'init').fillNormal(new Float32Array(64));
  const otherSeed = createStream(630, 'prior-samples').fillNormal(new Float32Array(64));
  const otherPart = createStream(135, 'prior-samples', 1).fillNormal(new Float32Array(64));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, otherName);
  assert.notDeepEqual(a, otherSeed);
  assert.notDeepEqual(a, otherPart);
  assert.deepEqual(createStream(135, 'data-order', 7).fillUniform(new Float32Array(8)), createStream(135, 'data-order', 7).fillUniform(new Float32Array(8)));
  assert.notDeepEqual(createStream(135, 'data-order', 7).fillUniform(new Float32Array(8)), createStream(135, 'data-order', 8).fillUniform(new Float32Array(8)));
});

test('a restored stream continues exactly where its snapshot was taken', () => {
  const s = createStream(10, 'data-order');
  s.fillUniform(new Float32Array(1001));
  const snapshot = structuredClone(s.state());
  const continued = s.fillNormal(new Float32Array(33));
  const restored = restoreStream('data-order', snapshot).fillNormal(new Float32Array(33));
  assert.deepEqual(restored, continued);
});

test('normals have mean 0 and variance 1; uniforms lie in [0, 1)', () => {
  const n = 200_000;
  const z = createStream(1, 'prior-samples').fillNormal(new Float32Array(n));
  let sum = 0;
  let sumSq = 0;
  for (const v of z) { sum += v; sumSq += v * v; }
  const mean = sum / n;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(sumSq / n - mean * mean - 1) < 0.02);
  const u = createStream(1, 'sample-binarization').fillUniform(new Float32Array(n));
  assert.ok(u.every((v) => v >= 0 && v < 1));
});

test('permutation is a permutation and depends on the stream', () => {
  const p = permutation(1000, createStream(32, 'data-order'));
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(p, permutation(1000, createStream(33, 'data-order')));
});

/** A counter stream's draw as JS numbers (no tensor left behind). */
function draw(kind: 'uniform' | 'normal', seed: number, name: 'noise' | 'binarization' | 'final-noise', counter: number, part?: number, shape = [4, 8]): Float32Array {
  return read(counterStream(seed, name, part)[kind](shape, counter));
}

function read(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

test('counter streams: draw c is a pure function of (seed, name, part, counter)', () => {
  const before = tf.memory().numTensors;
  // Same (seed, name, counter): the same numbers, from a fresh stream object or the same one, in any order.
  const stream = counterStream(7, 'noise');
  const late = read(stream.normal([4, 8], 5));
  read(stream.normal([4, 8], 0));
  assert.deepEqual(draw('normal', 7, 'noise', 5), late);
  assert.deepEqual(draw('uniform', 7, 'binarization', 3), draw('uniform', 7, 'binarization', 3));
  // Another counter, name, part or seed: other numbers.
  const base = draw('normal', 7, 'noise', 5);
  assert.notDeepEqual(draw('normal', 7, 'noise', 6), base, 'counter');
  assert.notDeepEqual(draw('normal', 7, 'final-noise', 5), base, 'name');
  assert.notDeepEqual(draw('normal', 7, 'final-noise', 5, 5000), draw('normal', 7, 'final-noise', 5, 50), 'part');
  assert.notDeepEqual(draw('normal', 8, 'noise', 5), base, 'seed');
  assert.notDeepEqual(draw('uniform', 7, 'binarization', 0), draw('uniform', 8, 'binarization', 0), 'seed (uniform)');
  assert.equal(tf.memory().numTensors, before, 'a read draw leaves nothing');
});

test('counter streams: uniforms lie in [0, 1) and normals have mean 0 and variance 1', () => {
  const n = 200_000;
  const u = draw('uniform', 1, 'binarization', 0, undefined, [n]);
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const uMean = u.reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(uMean - 0.5) < 0.01, `uniform mean ${uMean}`);
  const z = draw('normal', 1, 'noise', 0, undefined, [n]);
  let sum = 0;
  let sumSq = 0;
  for (const v of z) { sum += v; sumSq += v * v; }
  const mean = sum / n;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(sumSq / n - mean * mean - 1) < 0.02);
});

test('counters outside 0..2^31-1 and draws outside their group are refused', () => {
  const stream = counterStream(1, 'noise');
  for (const counter of [-1, 0.5, MAX_COUNTER + 1, NaN]) assert.throws(() => stream.normal([2], counter), RangeError, String(counter));
  assert.equal(groupCounter(3, 4, 10), 34);
  assert.throws(() => groupCounter(3, 10, 10), RangeError);
  assert.throws(() => groupCounter(3, -1, 10), RangeError);
});

test('the registry: every stream name is distinct as drawn, with its kind and who draws it', () => {
  const names = Object.keys(STREAMS) as Array<keyof typeof STREAMS>;
  assert.ok(names.length > 10);
  for (const name of names) {
    assert.ok(['sequential', 'counter'].includes(STREAMS[name].kind), name);
    assert.ok(STREAMS[name].drawnBy.length > 0, name);
  }
  // A name with a part can never collide with another registered name (no name is another's 'name/part').
  for (const a of names) for (const b of names) assert.ok(a === b || !a.startsWith(`${b}/`), `${a} vs ${b}`);
  // Distinct names give distinct draws, of either kind, for one seed.
  const seen = new Set<string>();
  for (const name of names) {
    const spec = STREAMS[name];
    const values =
      spec.kind === 'sequential'
        ? createStream(5, name as Parameters<typeof createStream>[1]).fillUniform(new Float32Array(16))
        : read(counterStream(5, name as Parameters<typeof counterStream>[1]).uniform([16], 0));
    const key = Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');
    assert.ok(!seen.has(key), `${name} draws what another stream draws`);
    seen.add(key);
  }
  // Counter streams of distinct names have distinct keys (what tells their draws apart).
  const keys = names.filter((n) => STREAMS[n].kind === 'counter').map((n) => counterStream(5, n as Parameters<typeof counterStream>[1]).key);
  assert.equal(new Set(keys).size, keys.length);
});
