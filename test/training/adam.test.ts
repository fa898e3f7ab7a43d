import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { packStack, runParameters, stackLayout, type StackLayout } from '../../lib/model/stack';
import { StackedAdam, type AdamState } from '../../lib/training/adam';
import { burdaPhase, learningRateAt } from '../../lib/training/schedule';
import { stackBlocks, testStream } from '../model/fixtures';

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

const SETTINGS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 };
/** A small stack layout: blocks of 2 to 8 floats. */
const ARCH = { input: 4, hidden: [2], latent: 1 };

const zeroAdam = (size: number): AdamState => ({ m: new Float32Array(size), v: new Float32Array(size), step: 0 });

/** Indices of the stack vector that belong to a parameter block (not the padding). */
function blockIndices(layout: StackLayout): number[] {
  return layout.blocks.flatMap((b) => Array.from({ length: layout.runs * b.spec.size }, (_, i) => b.offset + i));
}

/** One update of `adam` with the stack vector `gradient` (as blocks). */
function applyVector(adam: StackedAdam, gradient: Float32Array, lr: number): void {
  const blocks = stackBlocks(adam.layout, gradient);
  try {
    adam.apply(blocks, lr);
  } finally {
    blocks.forEach((t) => t.dispose());
  }
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test("StackedAdam follows PyTorch's Adam (epsilon after bias correction), with the learning rate changing", () => {
  const layout = stackLayout(ARCH, 1);
  const used = blockIndices(layout);
  const start = new Float32Array(layout.size);
  used.forEach((at, n) => (start[at] = Math.fround(Math.cos(n) * 2)));
  // Gradients of mixed scales (1e-6 to 1e1), including ones small next to epsilon, where eps placement matters.
  const grads = Array.from({ length: 6 }, (_, t) => {
    const g = new Float32Array(layout.size);
    used.forEach((at, n) => (g[at] = Math.fround(Math.sin(1 + t * 3 + n) * 10 ** ((n % 8) - 6))));
    return g;
  });
  const lrs = [1e-3, 1e-3, 5e-4, 5e-4, 1e-2, 1e-3];
  const expected = torchAdamReference(Array.from(start), grads.map((g) => Array.from(g)), lrs, SETTINGS.beta1, SETTINGS.beta2, SETTINGS.epsilon);
  const adam = new StackedAdam(layout, SETTINGS, { parameters: start, adam: zeroAdam(layout.size) });
  const before = tf.memory().numTensors;
  grads.forEach((g, t) => applyVector(adam, g, lrs[t]));
  assert.equal(tf.memory().numTensors, before, 'an update leaks no tensors');
  assert.equal(adam.step, 6);
  const { parameters: actual, adam: state } = adam.state();
  assert.equal(state.step, 6);
  let smallMoved = 0;
  for (const i of used) {
    const moved = Math.abs(expected[i] - start[i]);
    assert.ok(moved > 0, `param ${i} moved`);
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-3 * moved + 1e-7, `param ${i}: ${actual[i]} vs ${expected[i]} (start ${start[i]})`);
    if (Math.abs(grads[0][i]) < 1e-4) smallMoved++;
  }
  assert.ok(smallMoved > 0, 'some gradients are small next to epsilon');
  adam.dispose();
});

test('each run of a stack of 2 gets, bit for bit, the update it gets alone (parameters and both moments)', () => {
  const pair = stackLayout(ARCH, 2);
  const alone = stackLayout(ARCH, 1);
  const run = pair.run.size;
  const starts = [0, 1].map((r) => testStream(80 + r, 'values').fillUniform(new Float32Array(run)).map((v) => 4 * v - 2));
  const grads = Array.from({ length: 5 }, (_, t) => [0, 1].map((r) => testStream(90 + 10 * t + r, 'values').fillNormal(new Float32Array(run)).map((v, i) => v * 10 ** ((i % 6) - 4))));
  const lrs = [1e-3, 1e-2, 1e-3, 5e-4, 1e-3];
  const stacked = new StackedAdam(pair, SETTINGS, { parameters: packStack(pair, starts), adam: zeroAdam(pair.size) });
  grads.forEach((g, t) => applyVector(stacked, packStack(pair, g), lrs[t]));
  const both = stacked.state();
  for (let r = 0; r < 2; r++) {
    const single = new StackedAdam(alone, SETTINGS, { parameters: packStack(alone, [starts[r]]), adam: zeroAdam(alone.size) });
    grads.forEach((g, t) => applyVector(single, packStack(alone, [g[r]]), lrs[t]));
    const own = single.state();
    assert.ok(bits(runParameters(pair, both.parameters, r)).equals(bits(runParameters(alone, own.parameters, 0))), `run ${r}: parameters`);
    assert.ok(bits(runParameters(pair, both.adam.m, r)).equals(bits(runParameters(alone, own.adam.m, 0))), `run ${r}: m`);
    assert.ok(bits(runParameters(pair, both.adam.v, r)).equals(bits(runParameters(alone, own.adam.v, 0))), `run ${r}: v`);
    assert.ok(runParameters(pair, both.parameters, r).some((p, i) => p !== runParameters(pair, packStack(pair, starts), r)[i]), 'the updates moved something');
    single.dispose();
  }
  stacked.dispose();
});

test('StackedAdam resumes from its state exactly: state() round-trips through the constructor', () => {
  const layout = stackLayout(ARCH, 2);
  const grad = (t: number) => testStream(100 + t, 'values').fillNormal(new Float32Array(layout.size)).map((v) => v * 0.1);
  const start = testStream(99, 'values').fillUniform(new Float32Array(layout.size));
  const adamA = new StackedAdam(layout, SETTINGS, { parameters: start, adam: zeroAdam(layout.size) });
  for (let t = 0; t < 3; t++) applyVector(adamA, grad(t), 1e-3);
  const saved = adamA.state();
  const adamB = new StackedAdam(layout, SETTINGS, saved);
  const restored = adamB.state();
  assert.equal(restored.adam.step, 3);
  for (const [what, a, b] of [['parameters', saved.parameters, restored.parameters], ['m', saved.adam.m, restored.adam.m], ['v', saved.adam.v, restored.adam.v]] as const) {
    assert.ok(bits(b).equals(bits(a)), `${what} round-trip`);
  }
  assert.ok(saved.adam.m.some((m) => m !== 0) && saved.adam.v.some((v) => v !== 0), 'the moments hold something');
  applyVector(adamA, grad(3), 1e-3);
  applyVector(adamB, grad(3), 1e-3);
  const [a, b] = [adamA.state(), adamB.state()];
  assert.ok(bits(b.parameters).equals(bits(a.parameters)), 'the next step is identical');
  assert.ok(bits(b.adam.m).equals(bits(a.adam.m)) && bits(b.adam.v).equals(bits(a.adam.v)));
  assert.equal(adamB.step, 4);
  assert.throws(() => new StackedAdam(stackLayout(ARCH, 1), SETTINGS, saved), RangeError, 'a state of another stack size is refused');
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

test('StackedAdam (fused ResourceApplyAdam) leaves a parameter block read before the update untouched, and leaks nothing', () => {
  const layout = stackLayout(ARCH, 1);
  const start = new Float32Array(layout.size);
  for (const i of blockIndices(layout)) start[i] = 1 + (i % 4);
  const adam = new StackedAdam(layout, SETTINGS, { parameters: start, adam: zeroAdam(layout.size) });
  const old = adam.parameters(); // still held across the updates: they must copy, not write into it
  const gradient = new Float32Array(layout.size);
  const first = layout.blocks[0];
  gradient.fill(0.1, first.offset, first.offset + 1); // one entry up, one down, one unchanged
  gradient.fill(-0.1, first.offset + 1, first.offset + 2);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) applyVector(adam, gradient, 1e-2);
  assert.equal(tf.memory().numTensors, before);
  old.forEach((block, i) => {
    const { offset, spec } = layout.blocks[i];
    assert.deepEqual(block.dataSync(), start.subarray(offset, offset + spec.size), `block ${i} as read`);
  });
  const now = adam.parameters();
  const moved = now[0].dataSync();
  const was = start.subarray(first.offset, first.offset + first.spec.size);
  assert.ok(moved[0] < was[0] && moved[1] > was[1] && moved[2] === was[2], Array.from(moved).join(','));
  [...old, ...now].forEach((t) => t.dispose());
  const state = adam.state();
  assert.equal(state.adam.step, 3);
  assert.ok(state.adam.m[first.offset] > 0 && state.adam.v[first.offset] > 0 && state.adam.m[first.offset + 2] === 0);
  adam.dispose();
});
