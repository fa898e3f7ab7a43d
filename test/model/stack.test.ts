import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES } from '../../lib/config/run-config';
import { ALIGN_FLOATS, STUDY_ARCHITECTURE, type Architecture } from '../../lib/model/architecture';
import { stackedLossAndGradient } from '../../lib/model/fast-gradient';
import { packStack, runParameters, stackLayout } from '../../lib/model/stack';
import { runGradient, runVector, stackBlocks, testStream } from './fixtures';

const TINY: Architecture = { input: 9, hidden: [7, 5], latent: 3 };

const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('packStack and runParameters round-trip every run; the vector is block-major and zero-padded', () => {
  const layout = stackLayout(TINY, 3);
  const perRun = [0, 1, 2].map((r) => testStream(30 + r, 'values').fillUniform(new Float32Array(layout.run.size)));
  // The run layout's own padding is not part of any parameter: zero it so the round trip is exact.
  for (const v of perRun) {
    const used = new Uint8Array(v.length);
    for (const spec of layout.run.specs) used.fill(1, spec.offset, spec.offset + spec.size);
    v.forEach((_, i) => {
      if (!used[i]) v[i] = 0;
    });
  }
  const flat = packStack(layout, perRun);
  assert.equal(flat.length, layout.size);
  assert.equal(layout.size % ALIGN_FLOATS, 0);
  assert.equal(layout.size, layout.blocks.reduce((s, b) => s + 3 * b.spec.size, 0) + layout.padding);
  perRun.forEach((v, r) => assert.ok(bits(runParameters(layout, flat, r)).equals(bits(v)), `run ${r}`));
  // Block-major: each parameter's block holds it for run 0, 1, 2 in turn.
  for (const { spec, offset } of layout.blocks) {
    for (let r = 0; r < 3; r++) {
      assert.deepEqual(flat.subarray(offset + r * spec.size, offset + (r + 1) * spec.size), perRun[r].subarray(spec.offset, spec.offset + spec.size), `${spec.name} run ${r}`);
    }
  }
  assert.ok(flat.subarray(layout.size - layout.padding).every((v) => v === 0), 'padding is zero');
  // Wrong sizes are refused.
  assert.throws(() => packStack(layout, perRun.slice(1)), RangeError);
  assert.throws(() => runParameters(layout, flat, 3), RangeError);
  assert.throws(() => runParameters(layout, flat.subarray(1), 0), RangeError);
  assert.throws(() => stackLayout(TINY, 0), RangeError);
});

/**
 * The kernel guarantee the stacked trainer rests on: a run's numbers do not depend on which runs share
 * its stack (or where it sits in it). Each run of a stack of 3 gets, bit for bit, the values, per-image
 * losses and gradient slice it gets alone, for the study's batches and for odd ones (an epoch's smaller
 * last batch), which the fast path pads with blank images (lib/model/fast-gradient.ts `paddedBatch`).
 */
for (const [name, architecture, batch, k] of [
  ["the study's model, a study batch (20 images, k = 5)", STUDY_ARCHITECTURE, 20, 5],
  ["the study's model, 20 images, k = 1", STUDY_ARCHITECTURE, 20, 1],
  ["the study's model, 8 images, k = 3", STUDY_ARCHITECTURE, 8, 3],
  ['tiny model (no size a multiple of 16), 8 images, k = 3', TINY, 8, 3],
  ["the study's model, 7 images, k = 1 (an odd last batch)", STUDY_ARCHITECTURE, 7, 1],
  ["the study's model, 3 images, k = 5", STUDY_ARCHITECTURE, 3, 5],
  ['tiny model, 5 images, k = 3', TINY, 5, 3],
] as const) {
  for (const objective of MODEL_NAMES) {
    test(`${name}, ${objective}: each run of a stack of 3 = that run alone, bit for bit`, () => {
      const R = 3;
      const layout = stackLayout(architecture, R);
      const alone = stackLayout(architecture, 1);
      const perRun = Array.from({ length: R }, (_, r) => runVector(layout.run, 40 + r));
      const { input, latent } = architecture;
      const xs = perRun.map((_, r) => testStream(50 + r, 'test-images').fillUniform(new Float32Array(batch * input)).map((u) => (u < 0.3 ? 1 : 0)));
      const eps = perRun.map((_, r) => testStream(60 + r, 'noise').fillNormal(new Float32Array(k * batch * latent)));
      const joined = (parts: Float32Array[]) => {
        const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
        parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
        return out;
      };
      const params = stackBlocks(layout, packStack(layout, perRun));
      const x = tf.tensor3d(joined(xs), [R, batch, input]);
      const noise = tf.tensor3d(joined(eps), [R, k * batch, latent]);
      const stacked = stackedLossAndGradient(layout, params, objective, x, noise, k);
      const again = stackedLossAndGradient(layout, params, objective, x, noise, k);
      for (let r = 0; r < R; r++) {
        const p1 = stackBlocks(alone, packStack(alone, [perRun[r]]));
        const x1 = tf.tensor3d(xs[r], [1, batch, input]);
        const n1 = tf.tensor3d(eps[r], [1, k * batch, latent]);
        const single = stackedLossAndGradient(alone, p1, objective, x1, n1, k);
        const at = `${objective} run ${r}`;
        assert.ok(single.runs[0].values.finite, at);
        const a = runGradient(layout, stacked.gradient, r);
        const b = runGradient(alone, single.gradient, 0);
        assert.ok(b.some((v) => v !== 0), 'a non-trivial gradient');
        // Determinism holds everywhere: the same stack, the same bits.
        assert.ok(bits(a).equals(bits(runGradient(layout, again.gradient, r))), `${at}: the same stack twice`);
        assert.deepEqual(stacked.runs[r].values, single.runs[0].values, `${at}: values`);
        assert.ok(bits(stacked.runs[r].lossPerImage).equals(bits(single.runs[0].lossPerImage)), `${at}: per-image losses`);
        if (!bits(a).equals(bits(b))) {
          const i = a.findIndex((v, j) => !Object.is(v, b[j]));
          const spec = layout.run.specs.find((s) => i >= s.offset && i < s.offset + s.size);
          assert.fail(`${at}: gradient differs first at ${spec?.name}[${i - (spec?.offset ?? 0)}]: stacked ${a[i]}, alone ${b[i]}`);
        }
        [x1, n1, ...p1, ...single.gradient].forEach((t) => t.dispose());
      }
      [x, noise, ...params, ...stacked.gradient, ...again.gradient].forEach((t) => t.dispose());
    });
  }
}

test('repeated stacked gradients leave the tensor count flat', () => {
  const layout = stackLayout(TINY, 3);
  const params = stackBlocks(layout, packStack(layout, [0, 1, 2].map((r) => runVector(layout.run, 70 + r))));
  const k = 4;
  const batch = 6;
  const x = tf.tidy(() => tf.cast(tf.less(tf.randomUniform([3, batch, TINY.input], 0, 1, 'float32', 1), 0.3), 'float32')) as tf.Tensor3D;
  const noise = tf.randomNormal([3, k * batch, TINY.latent], 0, 1, 'float32', 2) as tf.Tensor3D;
  for (const objective of MODEL_NAMES) {
    const first = stackedLossAndGradient(layout, params, objective, x, noise, k);
    first.gradient.forEach((t) => t.dispose());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const out = stackedLossAndGradient(layout, params, objective, x, noise, k);
      assert.ok(out.runs.every((r) => r.values.finite));
      out.gradient.forEach((t) => t.dispose());
      assert.equal(tf.memory().numTensors, before, `${objective} call ${i}`);
    }
  }
  [x, noise, ...params].forEach((t) => t.dispose());
});
