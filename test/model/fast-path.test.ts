import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES, type ModelName } from '../../lib/config/run-config';
import { STUDY_ARCHITECTURE, type Architecture } from '../../lib/model/architecture';
import { stackedLossAndGradient } from '../../lib/model/fast-gradient';
import { disposeModel, modelFromParameters } from '../../lib/model/model';
import { batchMajorNoise, lossAndGradient } from '../../lib/model/reference-gradient';
import { packStack, stackLayout, type StackLayout } from '../../lib/model/stack';
import { runGradient, runInputs, runVector, stackBlocks, stackInputs, testStream } from './fixtures';

/**
 * The hand-written stacked backward pass (the training step's fast path) against autograd (the
 * straightforward reference path, lib/model/reference-gradient.ts), run by run, on the same parameters,
 * batch and noise. Both are float32; they sum in different orders, so they agree to float32 rounding:
 * values to 1e-5 relative, and every gradient entry to 3e-5 of the gradient's largest entry (measured
 * worst ~4e-6, IWAE with k = 50; a wrong term is off by O(1)). Stacks of 1 and of 3 (each run its own
 * weights, images and noise), so a run's slice is checked wherever it sits in the stack.
 */
const CASES: Array<{ name: string; architecture: Architecture; batch: number; ks: number[] }> = [
  { name: 'tiny two-hidden-layer model', architecture: { input: 9, hidden: [7, 5], latent: 3 }, batch: 4, ks: [1, 2, 5] },
  { name: 'one hidden layer', architecture: { input: 6, hidden: [4], latent: 2 }, batch: 3, ks: [3] },
  { name: "the study's 784-200-200-50 model", architecture: STUDY_ARCHITECTURE, batch: 20, ks: [1, 5, 50] },
];


/** The autograd reference of one run: [loss, reconstruction, kl] and the gradient (run layout). */
function reference(layout: StackLayout, parameters: Float32Array, objective: ModelName, run: ReturnType<typeof runInputs>, batch: number, k: number) {
  const { input, latent } = layout.run.architecture;
  const model = modelFromParameters(layout.run, parameters);
  const x = tf.tensor2d(run.x, [batch, input]);
  const noise = tf.tensor3d(batchMajorNoise(run.noise, batch, k, latent), [batch, k, latent]);
  const out = lossAndGradient(model, objective, x, noise);
  const values = Array.from(out.values.dataSync());
  const gradient = out.gradient.dataSync() as Float32Array;
  [x, noise, out.values, out.gradient].forEach((t) => t.dispose());
  disposeModel(model);
  return { values, gradient };
}

for (const c of CASES) {
  for (const objective of MODEL_NAMES) {
    for (const runs of [1, 3]) {
      test(`${c.name}, ${objective}, stack of ${runs}: fast path = autograd run by run (values and gradient) for k = ${c.ks.join(', ')}`, () => {
        const layout = stackLayout(c.architecture, runs);
        const parameters = Array.from({ length: runs }, (_, r) => runVector(layout.run, 11 + 7 * r));
        const params = stackBlocks(layout, packStack(layout, parameters));
        for (const k of c.ks) {
          const inputs = parameters.map((_, r) => runInputs(c.architecture, c.batch, k, 13 + k + 100 * r));
          const { x, noise } = stackInputs(layout, c.batch, k, inputs);
          const before = tf.memory().numTensors;
          const fast = stackedLossAndGradient(layout, params, objective, x, noise, k);
          assert.equal(tf.memory().numTensors, before + layout.blocks.length, 'the fast path leaves exactly its gradient blocks behind');
          assert.equal(fast.runs.length, runs);
          for (let r = 0; r < runs; r++) {
            const at = `${objective} k=${k} run ${r}/${runs}`;
            const expected = reference(layout, parameters[r], objective, inputs[r], c.batch, k);
            const [loss, reconstruction, kl] = expected.values;
            const { values, lossPerImage } = fast.runs[r];
            assert.ok(values.finite, at);
            for (const [what, a, b] of [
              ['loss', values.loss, loss],
              ['reconstruction', values.reconstruction, reconstruction],
              ['kl', values.kl, kl],
            ] as const) {
              assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(loss)), `${at} ${what}: fast ${a}, autograd ${b}`);
            }
            assert.equal(lossPerImage.length, c.batch);
            const meanPerImage = lossPerImage.reduce((s, v) => s + v, 0) / c.batch;
            assert.ok(Math.abs(meanPerImage - values.loss) <= 1e-5 * Math.max(1, Math.abs(loss)), `${at}: per-image losses average ${meanPerImage}, loss ${values.loss}`);
            const got = runGradient(layout, fast.gradient, r);
            assert.equal(got.length, expected.gradient.length);
            let scale = 0;
            for (const g of expected.gradient) scale = Math.max(scale, Math.abs(g));
            assert.ok(scale > 0, 'a non-trivial gradient');
            for (let i = 0; i < got.length; i++) {
              if (!(Math.abs(got[i] - expected.gradient[i]) <= 3e-5 * scale)) {
                const spec = layout.run.specs.find((s) => i >= s.offset && i < s.offset + s.size);
                assert.fail(`${at} ${spec ? `${spec.name}[${i - spec.offset}]` : `padding[${i}]`}: fast ${got[i]}, autograd ${expected.gradient[i]} (scale ${scale})`);
              }
            }
          }
          [x, noise, ...fast.gradient].forEach((t) => t.dispose());
        }
        params.forEach((t) => t.dispose());
      });
    }
  }
}

test('a run with a non-finite loss: its values say so, the other runs of its stack are still right, and only the gradient is left behind', () => {
  const architecture = { input: 6, hidden: [4], latent: 2 };
  const layout = stackLayout(architecture, 2);
  const good = runVector(layout.run, 2);
  const bad = runVector(layout.run, 3);
  bad[0] = NaN;
  const params = stackBlocks(layout, packStack(layout, [good, bad]));
  const k = 3;
  const inputs = [runInputs(architecture, 1, k, 4), runInputs(architecture, 1, k, 5)];
  const { x, noise } = stackInputs(layout, 1, k, inputs);
  for (const objective of MODEL_NAMES) {
    const before = tf.memory().numTensors;
    const result = stackedLossAndGradient(layout, params, objective, x, noise, k);
    assert.equal(tf.memory().numTensors, before + layout.blocks.length, objective);
    assert.equal(result.runs[1].values.finite, false, objective);
    assert.ok(Number.isNaN(result.runs[1].values.loss), objective);
    assert.equal(result.runs[0].values.finite, true, objective);
    const expected = reference(layout, good, objective, inputs[0], 1, k);
    assert.ok(Math.abs(result.runs[0].values.loss - expected.values[0]) <= 1e-5 * Math.max(1, Math.abs(expected.values[0])), objective);
    const got = runGradient(layout, result.gradient, 0);
    let scale = 0;
    for (const g of expected.gradient) scale = Math.max(scale, Math.abs(g));
    got.forEach((g, i) => assert.ok(Math.abs(g - expected.gradient[i]) <= 3e-5 * scale, `${objective} [${i}]: ${g} vs ${expected.gradient[i]}`));
    result.gradient.forEach((t) => t.dispose());
    assert.equal(tf.memory().numTensors, before, objective);
  }
  [x, noise, ...params].forEach((t) => t.dispose());
});

test('mismatched shapes and parameter blocks are refused', () => {
  const architecture = { input: 6, hidden: [4], latent: 2 };
  const layout = stackLayout(architecture, 1);
  const params = stackBlocks(layout, packStack(layout, [runVector(layout.run, 3)]));
  const x = tf.zeros([1, 2, 6]) as tf.Tensor3D;
  const before = tf.memory().numTensors;
  const badNoise = tf.zeros([1, 3, 2]) as tf.Tensor3D; // k = 1 needs [1, 2, 2]
  assert.throws(() => stackedLossAndGradient(layout, params, 'iwae', x, badNoise, 1), RangeError);
  const noise = tf.zeros([1, 2, 2]) as tf.Tensor3D;
  assert.throws(() => stackedLossAndGradient(stackLayout(architecture, 2), params, 'iwae', x, noise, 1), RangeError, 'a stack of 1 given as a stack of 2');
  assert.throws(() => stackedLossAndGradient(layout, params.slice(1), 'iwae', x, noise, 1), RangeError, 'a block missing');
  [badNoise, noise].forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before, 'a refused call leaves nothing behind');
  [x, ...params].forEach((t) => t.dispose());
});
