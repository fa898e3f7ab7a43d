import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES } from '../../lib/config/run-config';
import { outputBiasSpec, STUDY_ARCHITECTURE, type Architecture } from '../../lib/model/architecture';
import { fastLossAndGradient } from '../../lib/model/fast-gradient';
import { disposeModel, initModel, readParameters } from '../../lib/model/model';
import { normalNoise } from '../../lib/model/noise';
import { createStream } from '../../lib/random/streams';
import { FlatAdam } from '../../lib/training/adam';
import { lossAndGradient, trainStep } from '../../lib/training/step';

/**
 * The hand-written backward pass (the training step's fast path) against autograd (the straightforward
 * reference path) on the same parameters, batch and noise. Both are float32; they sum in different
 * orders, so they agree to float32 rounding: values to 1e-5 relative, and every gradient entry to 3e-5
 * of the gradient's largest entry (measured worst ~4e-6, IWAE with k = 50; a wrong term is off by O(1)).
 */
const CASES: Array<{ name: string; architecture: Architecture; batch: number; ks: number[] }> = [
  { name: 'tiny two-hidden-layer model', architecture: { input: 9, hidden: [7, 5], latent: 3 }, batch: 4, ks: [1, 2, 5] },
  { name: 'one hidden layer', architecture: { input: 6, hidden: [4], latent: 2 }, batch: 3, ks: [3] },
  { name: "the study's 784-200-200-50 model", architecture: STUDY_ARCHITECTURE, batch: 20, ks: [1, 5, 50] },
];

function batchOf(rows: number, pixels: number, seed: number): tf.Tensor2D {
  const u = createStream(seed, 'test-images').fillUniform(new Float32Array(rows * pixels));
  return tf.tensor2d(u.map((v) => (v < 0.3 ? 1 : 0)), [rows, pixels]);
}

for (const c of CASES) {
  for (const objective of MODEL_NAMES) {
    test(`${c.name}, ${objective}: fast path = autograd (values and gradient) for k = ${c.ks.join(', ')}`, () => {
      const model = initModel(c.architecture, 'he-normal', createStream(11, 'init'));
      // Non-zero biases, so the bias gradients are checked away from the symmetric point.
      const flat = readParameters(model);
      const biasStream = createStream(12, 'bias');
      for (const spec of model.layout.specs) {
        if (spec.role === 'bias') for (let i = 0; i < spec.size; i++) flat[spec.offset + i] = 0.2 * (biasStream.uniform() - 0.5);
      }
      tf.tidy(() => model.params.assign(tf.tensor1d(flat)));
      for (const k of c.ks) {
        const x = batchOf(c.batch, c.architecture.input, 13 + k);
        const noise = normalNoise(createStream(14 + k, 'noise'), c.batch, k, c.architecture.latent);
        const before = tf.memory().numTensors;
        const fast = fastLossAndGradient(model, objective, x, noise);
        assert.equal(tf.memory().numTensors, before + 1, 'the fast path leaves exactly its gradient behind');
        const reference = lossAndGradient(model, objective, x, noise);
        const [loss, reconstruction, kl] = reference.values.dataSync();
        const expected = reference.gradient.dataSync();
        assert.ok(fast.values.finite && fast.gradient);
        const got = fast.gradient.dataSync();
        const at = `${objective} k=${k}`;
        for (const [what, a, b] of [
          ['loss', fast.values.loss, loss],
          ['reconstruction', fast.values.reconstruction, reconstruction],
          ['kl', fast.values.kl, kl],
        ] as const) {
          assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(loss)), `${at} ${what}: fast ${a}, autograd ${b}`);
        }
        assert.equal(got.length, expected.length);
        let scale = 0;
        for (const g of expected) scale = Math.max(scale, Math.abs(g));
        assert.ok(scale > 0, 'a non-trivial gradient');
        for (let i = 0; i < got.length; i++) {
          if (!(Math.abs(got[i] - expected[i]) <= 3e-5 * scale)) {
            const spec = model.layout.specs.find((s) => i >= s.offset && i < s.offset + s.size)!;
            assert.fail(`${at} ${spec.name}[${i - spec.offset}]: fast ${got[i]}, autograd ${expected[i]} (scale ${scale})`);
          }
        }
        [x, noise, fast.gradient, reference.values, reference.gradient].forEach((t) => t.dispose());
      }
      disposeModel(model);
    });
  }
}

test('a non-finite loss: values say so, no gradient is computed, and no tensor is left behind', () => {
  const model = initModel({ input: 6, hidden: [4], latent: 2 }, 'xavier-normal', createStream(2, 'init'));
  const values = readParameters(model);
  values[0] = NaN;
  tf.tidy(() => model.params.assign(tf.tensor1d(values)));
  const x = tf.tensor2d([[1, 0, 1, 0, 1, 1]]);
  const noise = normalNoise(createStream(2, 'noise'), 1, 3, 2);
  for (const objective of MODEL_NAMES) {
    const before = tf.memory().numTensors;
    const result = fastLossAndGradient(model, objective, x, noise);
    assert.equal(result.values.finite, false, objective);
    assert.ok(Number.isNaN(result.values.loss), objective);
    assert.equal(result.gradient, null);
    assert.equal(tf.memory().numTensors, before, objective);
  }
  [x, noise].forEach((t) => t.dispose());
  disposeModel(model);
});

test('mismatched shapes are refused', () => {
  const model = initModel({ input: 6, hidden: [4], latent: 2 }, 'xavier-normal', createStream(3, 'init'));
  const x = tf.zeros([2, 6]) as tf.Tensor2D;
  const noise = tf.zeros([3, 1, 2]) as tf.Tensor3D;
  assert.throws(() => fastLossAndGradient(model, 'iwae', x, noise), RangeError);
  [x, noise].forEach((t) => t.dispose());
  disposeModel(model);
});

test('where log sigmoid underflows (a pixel predicted wrong with |logit| > 87), trainStep falls back to autograd and trains on', () => {
  const architecture = { input: 6, hidden: [4], latent: 2 };
  const model = initModel(architecture, 'xavier-normal', createStream(4, 'init'));
  const flat = readParameters(model);
  flat[outputBiasSpec(model.layout).offset] = -120; // pixel 0 "surely off"; the image has it on
  tf.tidy(() => model.params.assign(tf.tensor1d(flat)));
  const x = tf.tensor2d([[1, 0, 1, 0, 1, 1]]);
  const noise = normalNoise(createStream(4, 'noise'), 1, 2, 2);
  const fast = fastLossAndGradient(model, 'iwae', x, noise);
  assert.equal(fast.values.finite, false, 'the fast path gives up');
  const reference = lossAndGradient(model, 'iwae', x, noise);
  const expectedLoss = reference.values.dataSync()[0];
  [reference.values, reference.gradient].forEach((t) => t.dispose());
  assert.ok(Number.isFinite(expectedLoss) && expectedLoss > 100, `autograd loss ${expectedLoss}`);
  const adam = new FlatAdam(model.layout.size, { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 });
  const step = trainStep(model, adam, 'iwae', x, noise, 1e-3);
  assert.ok(step.finite);
  assert.equal(step.loss, expectedLoss);
  assert.equal(adam.step, 1, 'the update was applied');
  [x, noise].forEach((t) => t.dispose());
  adam.dispose();
  disposeModel(model);
});
