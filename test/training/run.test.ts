import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { parseRunConfig, type RunConfigInput } from '../../lib/config/run-config';
import { readCheckpoint, writeCheckpoint } from '../../lib/training/checkpoint';
import { readMetricsFile, runFiles, RunDirError } from '../../lib/training/run-dir';
import { trainRun, type EpochMetrics } from '../../lib/training/train';
import { mnistData } from '../helpers/mnist';

const data = mnistData;

/** A small but real run: 10 steps per epoch on real MNIST with a narrow network. */
const config = (extra: Partial<RunConfigInput> = {}) =>
  parseRunConfig({
    model: 'iwae',
    k: 3,
    init: 'xavier-uniform',
    seed: 11,
    epochs: 2,
    trainSize: 200,
    testSize: 60,
    architecture: { hidden: [40, 30], latent: 8 },
    ...extra,
  });

const withoutTime = (epochs: EpochMetrics[]) => epochs.map(({ seconds, ...rest }) => (assert.ok(seconds >= 0), rest));

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'iwae-run-'));
}

class Interrupt extends Error {}

for (const binarization of ['dynamic', 'fixed'] as const) {
  test(`resuming after an interruption gives exactly the uninterrupted run (${binarization} binarization)`, async () => {
    const root = tempDir();
    try {
      const mnistData = await data();
      const straight = await trainRun(config({ binarization }), mnistData, join(root, 'straight'));
      assert.equal(straight.status, 'completed');
      assert.equal(straight.epochs.length, 2);

      // Killed right after epoch 1's checkpoint; metrics.jsonl lost its last line (append cut short).
      const resumedDir = join(root, 'resumed');
      await assert.rejects(
        trainRun(config({ binarization }), mnistData, resumedDir, {
          onEpoch: () => {
            throw new Interrupt('stop');
          },
        }),
        Interrupt,
      );
      writeFileSync(runFiles(resumedDir).metrics, '');
      const tensors = tf.memory().numTensors;
      const resumed = await trainRun(config({ binarization }), mnistData, resumedDir);
      assert.equal(tf.memory().numTensors, tensors, 'a run frees its tensors');
      assert.deepEqual(withoutTime(resumed.epochs), withoutTime(straight.epochs));
      assert.deepEqual(withoutTime(readMetricsFile(resumedDir).epochs), withoutTime(straight.epochs));

      // Extending a finished 1-epoch run by one epoch: the same numbers again.
      const extendedDir = join(root, 'extended');
      await trainRun(config({ binarization, epochs: 1 }), mnistData, extendedDir);
      const extended = await trainRun(config({ binarization }), mnistData, extendedDir);
      assert.deepEqual(withoutTime(extended.epochs), withoutTime(straight.epochs));
      assert.deepEqual(
        Array.from(readCheckpoint(runFiles(extendedDir).checkpoint).parameters),
        Array.from(readCheckpoint(runFiles(join(root, 'straight')).checkpoint).parameters),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('epoch metrics are complete and plausible; a finished run returns at once', async () => {
  const root = tempDir();
  try {
    const dir = join(root, 'run');
    let stepCalls = 0;
    const epochs: number[] = [];
    const result = await trainRun(config(), await data(), dir, {
      onStep: (step, total) => {
        stepCalls += 1;
        assert.equal(total, 20);
        assert.equal(step, stepCalls);
      },
      onEpoch: (m) => epochs.push(m.epoch),
    });
    assert.deepEqual(epochs, [1, 2]);
    assert.equal(stepCalls, 20);
    const [first, second] = result.epochs;
    assert.equal(first.learningRate, 1e-3);
    assert.ok(Math.abs(second.learningRate - 1e-3 * 10 ** (-1 / 7)) < 1e-15, 'epoch 2 is in phase 1 of the schedule');
    assert.equal(second.steps, 20);
    for (const m of result.epochs) {
      assert.equal(m.activityTrain.length, 8);
      assert.equal(m.activityTest.length, 8);
      assert.equal(m.activeUnitsTrain, m.activityTrain.filter((a) => a > 1e-2).length);
      assert.ok(m.trainLoss > 50 && m.trainLoss < 600, `train loss ${m.trainLoss}`);
      assert.ok(m.trainLossSE > 0 && m.testLossSE > 0);
      // The study's IWAE number (self-normalized) never exceeds the true -L_k.
      assert.ok(m.trainStudyLoss <= m.trainLoss + 1e-3 && m.testStudyLoss <= m.testLoss + 1e-3);
      assert.ok(Math.abs(m.trainRecon + m.trainKL - m.trainStudyLoss) < 1e-6);
    }
    assert.ok(second.trainLoss < first.trainLoss, 'training lowers the loss');
    const files = runFiles(dir);
    assert.deepEqual(JSON.parse(readFileSync(files.config, 'utf8')), config());
    assert.equal(readFileSync(files.metrics, 'utf8').trim().split('\n').length, 2);

    stepCalls = 0;
    const again = await trainRun(config(), await data(), dir, { onStep: () => (stepCalls += 1) });
    assert.equal(stepCalls, 0);
    assert.deepEqual(again.epochs, result.epochs);

    // Burda's output-bias init starts at the mean-image likelihood (~200 nats here), far below zero biases.
    const dataMean = await trainRun(config({ epochs: 1, outputBiasInit: 'data-mean' }), await data(), join(root, 'data-mean'));
    assert.ok(dataMean.epochs[0].trainLoss < 0.6 * first.trainLoss, `${dataMean.epochs[0].trainLoss} vs ${first.trainLoss}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a directory holding a different run is refused and left untouched', async () => {
  const root = tempDir();
  try {
    const dir = join(root, 'run');
    await trainRun(config({ epochs: 1 }), await data(), dir);
    const before = readFileSync(runFiles(dir).config, 'utf8');
    await assert.rejects(trainRun(config({ epochs: 1, k: 5 }), await data(), dir), (err: unknown) => err instanceof RunDirError && /'k' differs/.test((err as Error).message));
    await assert.rejects(trainRun(config({ epochs: 1, seed: 12 }), await data(), dir), /'seed' differs/);
    assert.equal(readFileSync(runFiles(dir).config, 'utf8'), before);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a NaN stops the run as failed with a diagnostic and keeps the last good checkpoint', async () => {
  const root = tempDir();
  try {
    const dir = join(root, 'run');
    const files = runFiles(dir);
    await trainRun(config({ epochs: 1 }), await data(), dir);
    // Poison the weights inside the checkpoint (as a diverging run would) and ask for one more epoch.
    const checkpoint = readCheckpoint(files.checkpoint);
    checkpoint.parameters[0] = NaN;
    writeCheckpoint(files.checkpoint, checkpoint);
    const poisoned = readFileSync(files.checkpoint);
    const result = await trainRun(config({ epochs: 2 }), await data(), dir);
    assert.equal(result.status, 'failed');
    assert.deepEqual(
      { epoch: result.failure?.epoch, step: result.failure?.step, term: result.failure?.term },
      { epoch: 2, step: 1, term: 'reconstruction' },
    );
    assert.match(result.failure!.message, /non-finite reconstruction term \(NaN\) at epoch 2, step 1/);
    assert.equal(result.epochs.length, 1);
    assert.ok(readFileSync(files.checkpoint).equals(poisoned), 'checkpoint of epoch 1 kept as it was');
    assert.ok(existsSync(files.failure));
    assert.equal(readMetricsFile(dir).epochs.length, 1);
    // Asking again reports the recorded failure without training.
    const again = await trainRun(config({ epochs: 2 }), await data(), dir, { onStep: () => assert.fail('trained again') });
    assert.equal(again.status, 'failed');
    // Without its checkpoint (a shipped failed run) too, and its recorded metrics stay as they were.
    const recorded = readFileSync(files.metrics);
    rmSync(files.checkpoint);
    const shipped = await trainRun(config({ epochs: 2 }), await data(), dir, { onStep: () => assert.fail('trained again') });
    assert.equal(shipped.status, 'failed');
    assert.ok(readFileSync(files.metrics).equals(recorded), 'metrics.jsonl untouched');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run whose checkpoint is gone starts over and leaves only the files of the new attempt', async () => {
  const root = tempDir();
  try {
    const dir = join(root, 'run');
    const run = config({ epochs: 2, evaluation: { imagesEvery: 1 } });
    await assert.rejects(trainRun(run, await data(), dir, { onEpoch: () => { throw new Interrupt('stop'); } }), Interrupt);
    // What a copy of the directory without its checkpoint holds (e.g. recovered onto a new machine).
    rmSync(runFiles(dir).checkpoint);
    assert.equal(readMetricsFile(dir).epochs.length, 1);
    writeFileSync(join(dir, 'images', 'left-by-the-lost-attempt.png'), '');
    const result = await trainRun(run, await data(), dir);
    assert.equal(result.status, 'completed');
    assert.deepEqual(result.epochs.map((m) => m.epoch), [1, 2]);
    const events = readdirSync(join(dir, 'tensorboard')).filter((f) => f.startsWith('events.out.tfevents'));
    assert.equal(events.length, 1, 'the orphaned attempt\'s events (epoch 1 again) are gone');
    assert.deepEqual(readdirSync(join(dir, 'images')).sort(), ['prior-samples-epoch-001.png', 'prior-samples-epoch-002.png', 'reconstructions-epoch-001.png', 'reconstructions-epoch-002.png']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run writes TensorBoard events (scalars, activity histogram) and PNG grids on image epochs', async () => {
  const root = tempDir();
  try {
    const dir = join(root, 'run');
    // One events file per training session (the interrupted one, then the resumed one), each writer
    // closed when its session ends: no tensors are left behind, even by the interrupted session.
    const run = config({ epochs: 3, evaluation: { imagesEvery: 2 } });
    const tensors = tf.memory().numTensors;
    await assert.rejects(trainRun(run, await data(), dir, { onEpoch: () => { throw new Interrupt('stop'); } }), Interrupt);
    await trainRun(run, await data(), dir);
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left behind by logging');
    const events = readdirSync(join(dir, 'tensorboard')).filter((f) => f.startsWith('events.out.tfevents')).sort();
    assert.equal(events.length, 2);
    const bytes = readFileSync(join(dir, 'tensorboard', events[1]));
    for (const tag of ['loss/train', 'loss/test', 'active_units/train', 'active_units/test', 'log10_activity/train']) {
      assert.ok(bytes.includes(Buffer.from(tag)), `event file has ${tag}`);
    }
    // Epoch 2 (every 2nd) and epoch 3 (the last); not epoch 1.
    assert.deepEqual(readdirSync(join(dir, 'images')).sort(), [
      'prior-samples-epoch-002.png',
      'prior-samples-epoch-003.png',
      'reconstructions-epoch-002.png',
      'reconstructions-epoch-003.png',
    ]);
    const png = readFileSync(join(dir, 'images', 'reconstructions-epoch-003.png'));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: 8 digits wide, two rows (originals, reconstructions) of 28 px.
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [8 * 28, 2 * 28]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
