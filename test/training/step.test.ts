import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES, parseRunConfig, type ModelName, type RunConfig } from '../../lib/config/run-config';
import { binarizedRows, DeviceSplit } from '../../lib/data/device-split';
import type { MnistSplit } from '../../lib/data/mnist';
import { outputBiasSpec, parameterLayout, STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { stackedLossAndGradient } from '../../lib/model/fast-gradient';
import { initialParameters } from '../../lib/model/init';
import { disposeModel, modelFromParameters } from '../../lib/model/model';
import { batchMajorNoise, lossAndGradient } from '../../lib/model/reference-gradient';
import { runParameters, stackLayout } from '../../lib/model/stack';
import { counterStream } from '../../lib/random/counter-stream';
import { createStream, permutation } from '../../lib/random/streams';
import type { AdamState } from '../../lib/training/adam';
import { CHECKPOINT_VERSION, CheckpointError, readCheckpoint, writeCheckpoint } from '../../lib/training/checkpoint';
import { stackNoise } from '../../lib/training/evaluate';
import { buildStack, disposeStack, stackStep, type LiveStack, type MemberDraws } from '../../lib/training/train';
import { testStream } from '../model/fixtures';

/**
 * The training step of lib/training/train.ts (`stackStep` on a stack from `buildStack`): the fast
 * gradient, the exact reference for runs whose fast values are not finite, one Adam update; a run that
 * is not finite even there is reported failed and the others train on as if alone.
 */
const ARCH = STUDY_ARCHITECTURE;
const RUN = parseRunConfig({ model: 'vae', k: 5, init: 'he-normal', seed: 7, epochs: 2 });
const BATCH = 20;

/** `count` training images, each pixel 255 with probability 0.25 (else 0): every binarization of them is the same bits. */
function splitOf(count: number, seed: number, pixelZeroOn = false): MnistSplit {
  const stream = testStream(seed, 'images');
  const images = Uint8Array.from({ length: count * 784 }, (_, i) => ((pixelZeroOn && i % 784 === 0) || stream.uniform() < 0.25 ? 255 : 0));
  return { images, labels: new Uint8Array(count), count };
}

type Draws = Pick<MemberDraws, 'binarization' | 'noise' | 'order'>;

/** A run's draws as train.ts makes them: counter streams of its seed, epoch 1's shuffle. */
function drawsOf(seed: number, count: number): Draws {
  return {
    binarization: { kind: 'dynamic', stream: counterStream(seed, 'binarization') },
    noise: counterStream(seed, 'noise'),
    order: Int32Array.from(permutation(count, createStream(seed, 'data-order', 1))),
  };
}

interface Member {
  config: RunConfig;
  parameters: Float32Array;
  adam: AdamState;
}

function freshMember(config: RunConfig, edit?: (parameters: Float32Array) => void): Member {
  const layout = parameterLayout({ input: 784, ...config.architecture });
  const parameters = initialParameters(layout, config.init, createStream(config.seed, 'init'));
  edit?.(parameters);
  return { config, parameters, adam: { m: new Float32Array(layout.size), v: new Float32Array(layout.size), step: 0 } };
}

/** Run r of a live stack, as a member (parameters and Adam state in the run layout). */
function memberOf(stack: LiveStack, config: RunConfig, r: number): Member {
  const { parameters, adam } = stack.optimizer.state();
  return { config, parameters: runParameters(stack.layout, parameters, r), adam: { m: runParameters(stack.layout, adam.m, r), v: runParameters(stack.layout, adam.v, r), step: adam.step } };
}

/** Steps `from`..`from + n - 1` of the stack; the values of every run at every step. */
function steps(stack: LiveStack, config: RunConfig, device: DeviceSplit, draws: readonly Draws[], from: number, n: number, lr = 1e-3) {
  const perEpoch = Math.ceil(device.count / config.batchSize);
  const out: Array<ReturnType<typeof stackStep>> = [];
  for (let step = from; step < from + n; step++) out.push(stackStep(stack, config, device, draws, step % perEpoch, step, lr));
  return out;
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('same seed, same numbers: 3 steps of each objective are bit-identical across two fresh stacks', () => {
  const device = new DeviceSplit(splitOf(100, 1));
  try {
    for (const objective of MODEL_NAMES) {
      const config = { ...RUN, model: objective, seed: 42, init: 'xavier-uniform' as const };
      const runs = [0, 1].map(() => {
        const stack = buildStack([freshMember(config)]);
        const losses = steps(stack, config, device, [drawsOf(42, device.count)], 0, 3).map((s) => s.values[0].loss);
        const { parameters } = memberOf(stack, config, 0);
        disposeStack(stack);
        return { losses, parameters };
      });
      assert.deepEqual(runs[1].losses, runs[0].losses, objective);
      assert.ok(runs[0].losses.every(Number.isFinite));
      assert.ok(bits(runs[1].parameters).equals(bits(runs[0].parameters)), `${objective}: parameters bit-identical`);
      assert.ok(!bits(runs[0].parameters).equals(bits(freshMember(config).parameters)), `${objective}: the steps moved the parameters`);
    }
  } finally {
    device.dispose();
  }
});

test('100 training steps of a stack leave the tensor count flat (no leaks), and train', () => {
  const device = new DeviceSplit(splitOf(200, 2));
  const config = { ...RUN, model: 'iwae' as const };
  const stack = buildStack([freshMember({ ...config, seed: 1 }), freshMember({ ...config, seed: 2 })]);
  const draws = [drawsOf(1, device.count), drawsOf(2, device.count)];
  try {
    steps(stack, config, device, draws, 0, 2);
    const before = tf.memory().numTensors;
    const out = steps(stack, config, device, draws, 2, 100);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(stack.optimizer.step, 102);
    for (let r = 0; r < 2; r++) {
      const losses = out.map((s) => s.values[r].loss);
      assert.ok(out.every((s) => s.failed.length === 0 && s.values[r].finite));
      // The steps did train: the loss on these (random) batches falls.
      assert.ok(losses.slice(-10).reduce((a, b) => a + b) < losses.slice(0, 10).reduce((a, b) => a + b), `run ${r}`);
    }
  } finally {
    disposeStack(stack);
    device.dispose();
  }
});

test('a run with a non-finite loss is reported failed, its slice not moved, and the other run updated as if alone', () => {
  const device = new DeviceSplit(splitOf(40, 3));
  const good = { ...RUN, seed: 11 };
  const bad = { ...RUN, seed: 12 };
  const badMember = freshMember(bad, (p) => (p[0] = NaN));
  const draws = [drawsOf(11, device.count), drawsOf(12, device.count)];
  const stack = buildStack([freshMember(good), badMember]);
  const alone = buildStack([freshMember(good)]);
  try {
    const before = tf.memory().numTensors;
    const [result] = steps(stack, good, device, draws, 0, 1);
    assert.equal(tf.memory().numTensors, before, 'the reference fallback leaks nothing');
    assert.deepEqual(result.failed, [1]);
    assert.equal(result.values[1].finite, false);
    assert.ok(result.values[0].finite);
    assert.equal(stack.optimizer.step, 1);
    const after = memberOf(stack, bad, 1).parameters;
    assert.ok(Object.is(after[0], NaN), 'the NaN is still there');
    assert.ok(bits(after.subarray(1)).equals(bits(badMember.parameters.subarray(1))), 'the failed run was not moved');
    const [single] = steps(alone, good, device, [draws[0]], 0, 1);
    assert.deepEqual(result.values[0], single.values[0], 'the other run: same values as alone');
    assert.ok(bits(memberOf(stack, good, 0).parameters).equals(bits(memberOf(alone, good, 0).parameters)), 'the other run: same update as alone');
  } finally {
    disposeStack(stack);
    disposeStack(alone);
    device.dispose();
  }
});

test('where log sigmoid underflows (a pixel predicted wrong with |logit| > 87), the step is decided by the reference path and trains on', () => {
  // Every image has pixel 0 on; run 1's decoder says it is "surely off".
  const device = new DeviceSplit(splitOf(20, 4, true));
  const config = { ...RUN, model: 'iwae' as const, k: 2 };
  const stuck = freshMember({ ...config, seed: 22 }, (p) => (p[outputBiasSpec(parameterLayout(ARCH)).offset] = -120));
  const draws = [drawsOf(21, device.count), drawsOf(22, device.count)];
  const stack = buildStack([freshMember({ ...config, seed: 21 }), stuck]);
  try {
    // The reference on run 1's own batch and noise (step 0 of its streams).
    const layout = stackLayout(ARCH, 1);
    const x = binarizedRows(device, [draws[1].binarization], [draws[1].order.subarray(0, BATCH)], 0);
    const noise = stackNoise([draws[1].noise], [config.k * BATCH, ARCH.latent], 0);
    const model = modelFromParameters(layout.run, stuck.parameters);
    const x2 = tf.reshape(x, [BATCH, 784]) as tf.Tensor2D;
    const n3 = tf.tensor3d(batchMajorNoise(noise.dataSync() as Float32Array, BATCH, config.k, ARCH.latent), [BATCH, config.k, ARCH.latent]);
    const fastParams = layout.blocks.map((b) => tf.tensor1d(stuck.parameters.subarray(b.spec.offset, b.spec.offset + b.spec.size)));
    const fast = stackedLossAndGradient(layout, fastParams, 'iwae', x, noise, config.k);
    assert.equal(fast.runs[0].values.finite, false, 'the fast path gives up');
    [...fastParams, ...fast.gradient].forEach((t) => t.dispose());
    const reference = lossAndGradient(model, 'iwae', x2, n3);
    const expectedLoss = reference.values.dataSync()[0];
    const expectedGradient = reference.gradient.dataSync() as Float32Array;
    [x, noise, x2, n3, reference.values, reference.gradient].forEach((t) => t.dispose());
    disposeModel(model);
    assert.ok(Number.isFinite(expectedLoss) && expectedLoss > 100, `autograd loss ${expectedLoss}`);

    const [result] = steps(stack, config, device, draws, 0, 1);
    assert.deepEqual(result.failed, []);
    assert.ok(result.values[1].finite && result.values[0].finite);
    assert.equal(result.values[1].loss, expectedLoss, "run 1's loss is the reference path's");
    assert.equal(stack.optimizer.step, 1, 'the update was applied');
    // Run 1 moved by the reference gradient: the same as Adam's first step with it, alone.
    const single = buildStack([stuck]);
    const grad = layout.blocks.map((b) => tf.tensor1d(expectedGradient.subarray(b.spec.offset, b.spec.offset + b.spec.size)));
    single.optimizer.apply(grad, 1e-3);
    grad.forEach((t) => t.dispose());
    assert.ok(bits(memberOf(stack, config, 1).parameters).equals(bits(memberOf(single, config, 0).parameters)), "run 1's update is Adam's with the reference gradient");
    disposeStack(single);
  } finally {
    disposeStack(stack);
    device.dispose();
  }
});

test('save -> load gives identical parameters and an identical next step (alone or in a stack)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-ckpt-'));
  const device = new DeviceSplit(splitOf(100, 5));
  const configs = [{ ...RUN, seed: 7, init: 'he-uniform' as const }, { ...RUN, seed: 8 }];
  const draws = configs.map((c) => drawsOf(c.seed, device.count));
  const stack = buildStack(configs.map((c) => freshMember(c)));
  try {
    steps(stack, RUN, device, draws, 0, 3);
    const path = join(dir, 'checkpoint.bin');
    const member = memberOf(stack, configs[1], 1);
    writeCheckpoint(path, { config: configs[1], epoch: 1, architecture: ARCH, parameters: member.parameters, adam: member.adam, metrics: [] });
    const loaded = readCheckpoint(path);
    assert.ok(bits(loaded.parameters).equals(bits(member.parameters)));
    assert.ok(bits(loaded.adam.m).equals(bits(member.adam.m)) && bits(loaded.adam.v).equals(bits(member.adam.v)));
    assert.equal(loaded.adam.step, 3);
    // The next step: the run resumed alone from its checkpoint = the run continuing in its stack.
    const resumed = buildStack([{ config: loaded.config, parameters: loaded.parameters, adam: loaded.adam }]);
    const [next1] = steps(stack, RUN, device, draws, 3, 1);
    const [next2] = steps(resumed, RUN, device, [draws[1]], 3, 1);
    assert.deepEqual(next2.values[0], next1.values[1]);
    assert.ok(bits(memberOf(resumed, configs[1], 0).parameters).equals(bits(memberOf(stack, configs[1], 1).parameters)));
    assert.equal(resumed.optimizer.step, stack.optimizer.step);
    disposeStack(resumed);

    // A truncated checkpoint is refused with a clear error, not loaded half.
    writeFileSync(join(dir, 'cut.bin'), readFileSync(path).subarray(0, 1000));
    assert.throws(() => readCheckpoint(join(dir, 'cut.bin')), (err: unknown) => err instanceof CheckpointError && /truncated/.test((err as Error).message));
  } finally {
    disposeStack(stack);
    device.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint with any byte changed, or of an older version, is refused: never loaded as numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-ckpt-check-'));
  try {
    const layout = parameterLayout(ARCH);
    const stream = testStream(3, 'values');
    const [p, m, v] = [0, 1, 2].map(() => stream.fillUniform(new Float32Array(layout.size)));
    const path = join(dir, 'ckpt.bin');
    writeCheckpoint(path, { config: RUN, epoch: 2, architecture: ARCH, parameters: p, adam: { m, v, step: 7 }, metrics: [] });
    const good = readFileSync(path);
    const loaded = readCheckpoint(path);
    assert.deepEqual([loaded.parameters, loaded.adam.m, loaded.adam.v], [p, m, v]);
    assert.deepEqual(loaded.config, RUN);
    // One weight flipped to NaN (same length): the checksum catches it.
    const flipped = Buffer.from(good);
    flipped.writeFloatLE(NaN, good.length - 32 - 4 * layout.size * 3 + 40);
    writeFileSync(path, flipped);
    assert.throws(() => readCheckpoint(path), (err: unknown) => err instanceof CheckpointError && /corrupt checkpoint: its checksum does not match/.test((err as Error).message));
    // A digit of the header (the epoch, the streams) changed.
    const header = Buffer.from(good);
    header[40] ^= 0x01;
    writeFileSync(path, header);
    assert.throws(() => readCheckpoint(path), /corrupt checkpoint/);
    // Older versions (2: no checksum; 3: drew from sequential streams): refused with what to do.
    for (const version of [2, 3]) {
      const old = Buffer.from(good);
      old.writeUInt32LE(version, 8);
      writeFileSync(path, old);
      assert.throws(
        () => readCheckpoint(path),
        (err: unknown) => err instanceof CheckpointError && new RegExp(`checkpoint version ${version}, written by an older iwae-lab .* reads version ${CHECKPOINT_VERSION} only: train the run again`).test((err as Error).message),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
