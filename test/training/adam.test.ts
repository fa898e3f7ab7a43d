import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { FlatAdam } from '../../lib/training/adam';
import { burdaPhase, learningRateAt } from '../../lib/training/schedule';

/** torch.optim.Adam's update (amsgrad off, no weight decay), in float64. */
function torchAdamReference(p: number[], grads: number[][], lrs: number[], b1: number, b2: number, eps: number): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, index) => {
    const t = index + 1;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
      p[i] -= (lrs[index] / bc1) * (m[i] / denom);
    }
  });
  return p;
}

test("FlatAdam follows PyTorch's Adam (epsilon after bias correction), with the learning rate changing", () => {
  const settings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 };
  const start = [0.5, -1.5, 2, 0.001, -0.3];
  // Gradients of mixed scales, including ones small next to epsilon, where eps placement matters.
  const grads = Array.from({ length: 6 }, (_, t) => start.map((_, i) => Math.sin(1 + t * 3 + i) * 10 ** (i - 3)));
  const lrs = [1e-3, 1e-3, 5e-4, 5e-4, 1e-2, 1e-3];
  const expected = torchAdamReference([...start], grads, lrs, settings.beta1, settings.beta2, settings.epsilon);
  const params = tf.variable(tf.tensor1d(start)) as tf.Variable<tf.Rank.R1>;
  const adam = new FlatAdam(start.length, settings);
  const before = tf.memory().numTensors;
  grads.forEach((g, t) => tf.tidy(() => adam.apply(params, tf.tensor1d(g), lrs[t])));
  assert.equal(tf.memory().numTensors, before, 'an update leaks no tensors');
  assert.equal(adam.step, 6);
  const actual = params.dataSync();
  expected.forEach((e, i) => {
    const moved = Math.abs(e - start[i]);
    assert.ok(Math.abs(actual[i] - e) <= 1e-3 * moved + 1e-7, `param ${i}: ${actual[i]} vs ${e}`);
  });
  params.dispose();
  adam.dispose();
});

test('FlatAdam resumes from its state exactly', () => {
  const settings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 };
  const grad = () => tf.tensor1d([0.1, -0.2, 0.3]);
  const a = tf.variable(tf.tensor1d([1, 2, 3])) as tf.Variable<tf.Rank.R1>;
  const adamA = new FlatAdam(3, settings);
  for (let i = 0; i < 3; i++) tf.tidy(() => adamA.apply(a, grad(), 1e-3));
  const b = tf.variable(tf.tensor1d(a.dataSync())) as tf.Variable<tf.Rank.R1>;
  const adamB = new FlatAdam(3, settings, adamA.state());
  tf.tidy(() => adamA.apply(a, grad(), 1e-3));
  tf.tidy(() => adamB.apply(b, grad(), 1e-3));
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  assert.equal(adamB.step, 4);
  [a, b].forEach((t) => t.dispose());
  adamA.dispose();
  adamB.dispose();
});

test("Burda's schedule: phases of 3^i epochs at lr 10^(-i/7); the study's 80 epochs are 1, 3, 9, 27, 40", () => {
  const phases = Array.from({ length: 80 }, (_, e) => burdaPhase(e + 1));
  const lengths = [0, 1, 2, 3, 4].map((i) => phases.filter((p) => p === i).length);
  assert.deepEqual(lengths, [1, 3, 9, 27, 40]);
  assert.equal(learningRateAt(1, 1e-3, 'burda'), 1e-3);
  assert.ok(Math.abs(learningRateAt(2, 1e-3, 'burda') - 1e-3 * 10 ** (-1 / 7)) < 1e-15);
  assert.ok(Math.abs(learningRateAt(3280, 1e-3, 'burda') - 1e-4) < 1e-15, 'the last of 3,280 epochs is at lr 1e-4');
  assert.equal(burdaPhase(3281), 7, 'beyond the schedule the last phase continues');
  assert.equal(learningRateAt(50, 1e-3, 'constant'), 1e-3);
  assert.throws(() => burdaPhase(0), /epoch must be/);
});

test('FlatAdam (fused ResourceApplyAdam) leaves a tensor holding the old parameters untouched, and leaks nothing', () => {
  const settings = { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 };
  const params = tf.variable(tf.tensor1d([1, 2, 3, 4])) as tf.Variable<tf.Rank.R1>;
  const old = params.clone(); // shares the buffer: the update must copy, not write into it
  const adam = new FlatAdam(4, settings);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.tidy(() => adam.apply(params, tf.tensor1d([0.1, -0.1, 0.2, 0]), 1e-2));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Array.from(old.dataSync()), [1, 2, 3, 4]);
  const moved = params.dataSync();
  assert.ok(moved[0] < 1 && moved[1] > 2 && moved[2] < 3 && moved[3] === 4, Array.from(moved).join(','));
  const state = adam.state();
  assert.equal(state.step, 3);
  assert.ok(state.m[0] > 0 && state.v[0] > 0 && state.m[3] === 0);
  [params, old].forEach((t) => t.dispose());
  adam.dispose();
});
