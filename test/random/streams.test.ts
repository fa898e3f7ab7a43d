import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStream, permutation, restoreStream } from '../../lib/random/streams';

test('same seed and name give the same numbers; another name or seed gives others', () => {
  const a = createStream(135, 'noise').fillNormal(new Float32Array(64));
  const b = createStream(135, 'noise').fillNormal(new Float32Array(64));
  const otherName = createStream(135, 'init').fillNormal(new Float32Array(64));
  const otherSeed = createStream(630, 'noise').fillNormal(new Float32Array(64));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, otherName);
  assert.notDeepEqual(a, otherSeed);
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
  const z = createStream(1, 'noise').fillNormal(new Float32Array(n));
  let sum = 0;
  let sumSq = 0;
  for (const v of z) { sum += v; sumSq += v * v; }
  const mean = sum / n;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(sumSq / n - mean * mean - 1) < 0.02);
  const u = createStream(1, 'binarization').fillUniform(new Float32Array(n));
  assert.ok(u.every((v) => v >= 0 && v < 1));
});

test('permutation is a permutation and depends on the stream', () => {
  const p = permutation(1000, createStream(32, 'data-order'));
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(p, permutation(1000, createStream(33, 'data-order')));
});
