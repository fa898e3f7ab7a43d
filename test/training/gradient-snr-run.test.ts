import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../lib/config/run-config';
import { compareEpochs } from '../../lib/experiments/verify';
import { readCheckpoint } from '../../lib/training/checkpoint';
import { readMetricsFile, runFiles } from '../../lib/training/run-dir';
import { trainRun, trainStack, type EpochMetrics } from '../../lib/training/train';
import { REPO_ROOT } from '../helpers/cli';
import { mnistData } from '../helpers/mnist';

/**
 * The gradient SNR in training (config.evaluation.gradientSnr): measured only on the epochs it names,
 * written to metrics.jsonl, the checkpoint and TensorBoard; a function of the run's parameters and
 * streams, so the same in a stack as alone and after a kill and resume; measuring changes no training
 * number; `iwae verify`'s comparison covers it.
 */
const SNR = { epochs: [1, 3], draws: 6, images: 10 };

/** A small but real run: 10 steps per epoch on real MNIST with a narrow network. */
const config = (extra: Partial<RunConfigInput> = {}, gradientSnr: typeof SNR | null = SNR): RunConfig =>
  parseRunConfig({
    model: 'iwae-dreg',
    k: 3,
    init: 'he-normal',
    seed: 11,
    epochs: 3,
    trainSize: 200,
    testSize: 60,
    architecture: { hidden: [40, 30], latent: 8 },
    evaluation: { finalK: 10, finalTestSize: 30, imagesEvery: 3, ...(gradientSnr ? { gradientSnr } : {}) },
    ...extra,
  });

const root = mkdtempSync(join(tmpdir(), 'iwae-snr-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const withoutSeconds = (epochs: readonly EpochMetrics[]) => epochs.map(({ seconds: _seconds, ...rest }) => rest);
const metricsOf = (dir: string) => withoutSeconds(readMetricsFile(dir).epochs);

class Interrupt extends Error {}

test('a stack of 2 runs measures the SNR at the chosen epochs only, into metrics.jsonl, the checkpoint and TensorBoard; each run as alone', async () => {
  const mnist = await mnistData();
  const runs = [config({ seed: 1 }), config({ seed: 2, init: 'xavier-normal' })];
  const dirs = runs.map((_, i) => join(root, 'stack', `run-${i}`));
  const tensors = tf.memory().numTensors;
  const results = await trainStack(runs.map((c, i) => ({ config: c, runDir: dirs[i] })), mnist);
  assert.equal(tf.memory().numTensors, tensors, 'a stack frees its tensors');
  assert.deepEqual(results.map((r) => r.status), ['completed', 'completed']);
  for (const [i, dir] of dirs.entries()) {
    const epochs = readMetricsFile(dir).epochs;
    assert.deepEqual(epochs.map((m) => m.gradientSnr !== undefined), [true, false, true], `run ${i}: SNR at epochs 1 and 3 only`);
    assert.equal('gradientSnr' in epochs[1], false, 'no key at all on the other epochs');
    for (const m of [epochs[0], epochs[2]]) {
      const snr = m.gradientSnr!;
      assert.equal(snr.draws, SNR.draws);
      assert.equal(snr.images, SNR.images);
      assert.deepEqual(snr.blocks.map((b) => `${b.network}/${b.block}`), [
        'encoder/encoder.0.weight', 'encoder/encoder.0.bias', 'encoder/encoder.1.weight', 'encoder/encoder.1.bias', 'encoder/encoder.2.weight', 'encoder/encoder.2.bias',
        'decoder/decoder.0.weight', 'decoder/decoder.0.bias', 'decoder/decoder.1.weight', 'decoder/decoder.1.bias', 'decoder/decoder.2.weight', 'decoder/decoder.2.bias',
      ]);
      for (const b of snr.blocks) assert.ok(b.entries > 0 && b.meanSnr > 0 && b.medianSnr > 0 && Number.isFinite(b.meanSnr), `run ${i} epoch ${m.epoch} ${b.block}: ${JSON.stringify(b)}`);
    }
    assert.notDeepEqual(epochs[0].gradientSnr, epochs[2].gradientSnr, 'epochs 1 and 3 are different measurements');
    assert.deepEqual(readCheckpoint(runFiles(dir).checkpoint).metrics, epochs, `run ${i}: the checkpoint carries the same metrics`);
    const events = readdirSync(join(dir, 'tensorboard')).map((f) => readFileSync(join(dir, 'tensorboard', f)).toString('latin1')).join('');
    assert.ok(events.includes('gradient_snr_mean/encoder.0.weight') && events.includes('gradient_snr_median/decoder.2.bias'), `run ${i}: TensorBoard scalars`);
  }
  assert.notDeepEqual(readMetricsFile(dirs[0]).epochs[0].gradientSnr, readMetricsFile(dirs[1]).epochs[0].gradientSnr, 'the runs are different runs');

  const aloneDir = join(root, 'alone');
  await trainRun(runs[1], mnist, aloneDir);
  assert.deepEqual(metricsOf(aloneDir), metricsOf(dirs[1]), 'run 1 alone = run 1 in the stack, SNR included');
});

test('killed after epoch 1 and resumed, a run measures exactly the SNR of the uninterrupted run', async () => {
  const mnist = await mnistData();
  const straightDir = join(root, 'straight');
  await trainRun(config(), mnist, straightDir);
  const resumedDir = join(root, 'resumed');
  await assert.rejects(
    trainRun(config(), mnist, resumedDir, {
      onEpoch: () => {
        throw new Interrupt('stop');
      },
    }),
    Interrupt,
  );
  assert.equal(readMetricsFile(resumedDir).epochs.length, 1);
  await trainRun(config(), mnist, resumedDir);
  assert.deepEqual(metricsOf(resumedDir), metricsOf(straightDir));
  assert.deepEqual(compareEpochs(readMetricsFile(straightDir).epochs, readMetricsFile(resumedDir).epochs).filter((d) => d.relative > 0), []);
});

test('measuring the SNR changes no training number: every other metric equals the run without the setting', async () => {
  const mnist = await mnistData();
  const withDir = join(root, 'with');
  const withoutDir = join(root, 'without');
  await trainRun(config(), mnist, withDir);
  await trainRun(config({}, null), mnist, withoutDir);
  const strip = (epochs: EpochMetrics[]) => withoutSeconds(epochs).map(({ gradientSnr: _snr, ...rest }) => rest);
  assert.deepEqual(strip(readMetricsFile(withDir).epochs), withoutSeconds(readMetricsFile(withoutDir).epochs));
  assert.ok(readMetricsFile(withoutDir).epochs.every((m) => !('gradientSnr' in m)));
  assert.deepEqual(Array.from(readCheckpoint(runFiles(withDir).checkpoint).parameters), Array.from(readCheckpoint(runFiles(withoutDir).checkpoint).parameters));
});

test("iwae verify's comparison covers the SNR: a changed block, or an SNR on one side only, is a difference", () => {
  const epochs = readMetricsFile(join(root, 'straight')).epochs;
  const changed = structuredClone(epochs);
  changed[2].gradientSnr!.blocks[4].medianSnr *= 1.01;
  const worst = compareEpochs(epochs, changed)[0];
  assert.equal(worst.field, 'gradientSnr.encoder.2.weight.medianSnr');
  assert.equal(worst.epoch, 3);
  assert.ok(Math.abs(worst.relative - 0.01 * Math.min(1, epochs[2].gradientSnr!.blocks[4].medianSnr)) < 1e-9);
  const dropped = structuredClone(epochs);
  delete dropped[0].gradientSnr;
  const missing = compareEpochs(epochs, dropped).filter((d) => d.relative > 0);
  assert.ok(missing.length > 0 && missing.every((d) => d.epoch === 1 && d.field.startsWith('gradientSnr.') && d.relative === Infinity));
  assert.deepEqual(compareEpochs(dropped, epochs).filter((d) => d.relative > 0).map((d) => d.field), missing.map((d) => d.field));
});

test('the config: gradientSnr is optional (a config without it gets no key) and checked against the run', () => {
  const shipped = parseRunConfig(JSON.parse(readFileSync(join(REPO_ROOT, 'data', 'results', 'paper', 'iwae-k1-he-normal-s135-e80-785ba392', 'config.json'), 'utf8')));
  assert.equal('gradientSnr' in shipped.evaluation, false, 'no key filled in');
  const bad: Array<[Partial<typeof SNR>, RegExp]> = [
    [{ epochs: [4] }, /evaluation\.gradientSnr\.epochs: epochs must increase within 1\.\.3/],
    [{ epochs: [2, 2] }, /epochs must increase/],
    [{ epochs: [] }, /evaluation\.gradientSnr\.epochs/],
    [{ epochs: [0] }, /evaluation\.gradientSnr\.epochs/],
    [{ draws: 1 }, /evaluation\.gradientSnr\.draws/],
    [{ draws: 70_000 }, /evaluation\.gradientSnr\.draws/],
    [{ images: 201 }, /evaluation\.gradientSnr\.images: the batch of 201 images is more than the 200 training images/],
  ];
  for (const [change, message] of bad) assert.throws(() => config({}, { ...SNR, ...change }), message, JSON.stringify(change));
  // 200 images x k = 700 decoded rows per draw: over the budget of a training step, which 20 x 700 is not.
  assert.throws(() => config({ k: 700 }, { ...SNR, images: 200 }), /evaluation\.gradientSnr\.images: a gradient-SNR draw decodes/);
  assert.doesNotThrow(() => config({ k: 700 }, { ...SNR, images: 20 }));
});
