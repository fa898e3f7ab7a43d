import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES, parseRunConfig, type ModelName } from '../../lib/config/run-config';
import { parameterLayout, STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { disposeModel, initModel, modelFromParameters, readParameters, withNetwork, type Model } from '../../lib/model/model';
import { normalNoise } from '../../lib/model/noise';
import { objectiveValues } from '../../lib/model/objectives';
import { createStream, restoreStream, type RandomStream } from '../../lib/random/streams';
import { FlatAdam } from '../../lib/training/adam';
import { CHECKPOINT_VERSION, CheckpointError, readCheckpoint, writeCheckpoint } from '../../lib/training/checkpoint';
import { trainStep } from '../../lib/training/step';

const SETTINGS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 };
const ARCH = STUDY_ARCHITECTURE;
const RUN = parseRunConfig({ model: 'vae', k: 5, init: 'he-normal', seed: 7, epochs: 2 });

function batchFrom(stream: RandomStream, rows: number): tf.Tensor2D {
  const u = stream.fillUniform(new Float32Array(rows * ARCH.input));
  return tf.tensor2d(u.map((v) => (v < 0.25 ? 1 : 0)), [rows, ARCH.input]);
}

function steps(model: Model, adam: FlatAdam, objective: ModelName, data: RandomStream, noise: RandomStream, n: number, k = 5): number[] {
  const losses: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = batchFrom(data, 20);
    const eps = normalNoise(noise, 20, k, ARCH.latent);
    losses.push(trainStep(model, adam, objective, x, eps, 1e-3).loss);
    x.dispose();
    eps.dispose();
  }
  return losses;
}

test('same seed, same numbers: 3 steps of each objective are bit-identical across two fresh models', () => {
  for (const objective of MODEL_NAMES) {
    const runs = [0, 1].map(() => {
      const model = initModel(ARCH, 'xavier-uniform', createStream(42, 'init'));
      const adam = new FlatAdam(model.layout.size, SETTINGS);
      const losses = steps(model, adam, objective, createStream(42, 'data'), createStream(42, 'noise'), 3);
      const params = readParameters(model);
      disposeModel(model);
      adam.dispose();
      return { losses, params };
    });
    assert.deepEqual(runs[1].losses, runs[0].losses, objective);
    assert.ok(runs[0].losses.every(Number.isFinite));
    assert.ok(Buffer.from(runs[1].params.buffer).equals(Buffer.from(runs[0].params.buffer)), `${objective}: parameters bit-identical`);
  }
});

test('100 training steps leave the tensor count flat (no leaks)', () => {
  const model = initModel(ARCH, 'he-normal', createStream(1, 'init'));
  const adam = new FlatAdam(model.layout.size, SETTINGS);
  const data = createStream(1, 'data');
  const noise = createStream(1, 'noise');
  steps(model, adam, 'iwae', data, noise, 2);
  const before = tf.memory().numTensors;
  const losses = steps(model, adam, 'iwae', data, noise, 100);
  assert.equal(tf.memory().numTensors, before);
  // The steps did train: the loss on these (random) batches falls.
  assert.ok(losses.slice(-10).reduce((a, b) => a + b) < losses.slice(0, 10).reduce((a, b) => a + b));
  disposeModel(model);
  adam.dispose();
});

test('a non-finite loss is reported and the update is not applied', () => {
  const model = initModel({ input: 6, hidden: [4], latent: 2 }, 'xavier-normal', createStream(2, 'init'));
  const adam = new FlatAdam(model.layout.size, SETTINGS);
  const values = readParameters(model);
  values[0] = NaN;
  model.params.assign(tf.tensor1d(values));
  const x = tf.tensor2d([[1, 0, 1, 0, 1, 1]]);
  const noise = normalNoise(createStream(2, 'noise'), 1, 1, 2);
  const result = trainStep(model, adam, 'vae', x, noise, 1e-3);
  assert.equal(result.finite, false);
  assert.equal(adam.step, 0);
  assert.ok(Object.is(readParameters(model)[0], NaN) && readParameters(model)[1] === values[1]);
  [x, noise].forEach((t) => t.dispose());
  disposeModel(model);
  adam.dispose();
});

test('save -> load gives identical outputs and an identical next step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-ckpt-'));
  try {
    const model = initModel(ARCH, 'he-uniform', createStream(7, 'init'));
    const adam = new FlatAdam(model.layout.size, SETTINGS);
    const data = createStream(7, 'data');
    const noise = createStream(7, 'noise');
    steps(model, adam, 'vae', data, noise, 3);
    const path = join(dir, 'checkpoint.bin');
    writeCheckpoint(path, {
      config: RUN,
      epoch: 1,
      architecture: model.layout.architecture,
      parameters: readParameters(model),
      adam: adam.state(),
      streams: { data: data.state(), noise: noise.state() },
      metrics: [],
    });
    const loaded = readCheckpoint(path);
    const model2 = modelFromParameters(parameterLayout(loaded.architecture), loaded.parameters);
    const adam2 = new FlatAdam(model2.layout.size, SETTINGS, loaded.adam);
    const data2 = restoreStream('data', loaded.streams.data);
    const noise2 = restoreStream('noise', loaded.streams.noise);

    // Identical outputs on the same batch and noise.
    const probe = batchFrom(createStream(8, 'probe'), 5);
    const probeNoise = normalNoise(createStream(8, 'noise'), 5, 3, ARCH.latent);
    const outputs = [model, model2].map((m) => withNetwork(m, (n) => objectiveValues('iwae', n, probe, probeNoise).loss).dataSync()[0]);
    assert.equal(outputs[1], outputs[0]);
    [probe, probeNoise].forEach((t) => t.dispose());

    // The next step (data and noise from the restored streams) is identical, and so are the parameters.
    const next1 = steps(model, adam, 'vae', data, noise, 1);
    const next2 = steps(model2, adam2, 'vae', data2, noise2, 1);
    assert.deepEqual(next2, next1);
    assert.ok(Buffer.from(readParameters(model2).buffer).equals(Buffer.from(readParameters(model).buffer)));
    assert.equal(adam2.step, adam.step);

    // A truncated checkpoint is refused with a clear error, not loaded half.
    writeFileSync(join(dir, 'cut.bin'), readFileSync(path).subarray(0, 1000));
    assert.throws(() => readCheckpoint(join(dir, 'cut.bin')), (err: unknown) => err instanceof CheckpointError && /truncated/.test((err as Error).message));
    [model, model2].forEach(disposeModel);
    adam.dispose();
    adam2.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint with any byte changed, or of an older version, is refused: never loaded as numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-ckpt-check-'));
  try {
    const layout = parameterLayout(ARCH);
    const stream = createStream(3, 'values');
    const [p, m, v] = [0, 1, 2].map(() => stream.fillUniform(new Float32Array(layout.size)));
    const path = join(dir, 'ckpt.bin');
    writeCheckpoint(path, { config: RUN, epoch: 2, architecture: ARCH, parameters: p, adam: { m, v, step: 7 }, streams: {}, metrics: [] });
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
    // Version 2 (no checksum, no run identity): refused with what to do.
    const old = Buffer.from(good);
    old.writeUInt32LE(2, 8);
    writeFileSync(path, old);
    assert.throws(() => readCheckpoint(path), new RegExp(`checkpoint version 2, written before checkpoints carried a checksum .* reads version ${CHECKPOINT_VERSION} only`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
