import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunConfig } from '../../lib/config/run-config';
import { analyzeExperiment3, networkMeanSnr } from '../../lib/analysis/experiment3';
import { meanAndStandardError, pairedComparison } from '../../lib/analysis/statistics';
import type { GridAxes } from '../../lib/experiments/profiles';
import type { RunRecord } from '../../lib/experiments/results';
import type { GradientSnr } from '../../lib/training/gradient-snr';
import type { EpochMetrics } from '../../lib/training/metrics';
import { experiment3Figures, experiment3Tables } from '../../lib/report/experiment3-report';
import { figureTitle } from '../../lib/figures/style';

/**
 * Experiment 3's analysis (lib/analysis/experiment3.ts) on synthetic records of known numbers: the
 * summaries and SNR curves against direct computations, the paired comparisons, and the verdicts'
 * three outcomes, including the empty and the partly finished grid.
 */
const SEEDS = [10, 32, 135, 630, 924];
const AXES: GridAxes[] = [{ models: ['iwae', 'iwae-stl', 'iwae-dreg', 'vae-stl'], ks: [5, 50], inits: ['he-normal'], seeds: SEEDS, gradientSnr: { epochs: [1, 3], draws: 10, images: 20 } }];

/** An SNR measurement whose encoder blocks all have mean SNR `encoder` (decoder: `decoder`), entries 10 each (the last encoder block 30). */
function snr(encoder: number, decoder: number): GradientSnr {
  const block = (network: 'encoder' | 'decoder', name: string, mean: number, entries = 10) => ({ network, block: name, entries, meanSnr: mean, medianSnr: mean / 2 });
  return {
    draws: 10,
    images: 20,
    blocks: [block('encoder', 'encoder.0.weight', encoder), block('encoder', 'encoder.0.bias', encoder * 3, 30), block('decoder', 'decoder.0.weight', decoder)],
  };
}

function epoch(e: number, active: number, measurement?: GradientSnr): EpochMetrics {
  return {
    epoch: e, learningRate: 1e-3, steps: e * 10, trainLoss: 100, trainLossSE: 1, trainRecon: 90, trainKL: 10, trainStudyLoss: 100,
    testLoss: 101, testLossSE: 1, testRecon: 91, testKL: 10, testStudyLoss: 101, activeUnitsTrain: active, activeUnitsTest: active,
    activityTrain: Array.from({ length: 50 }, (_, u) => (u < active ? 1 : 1e-4)), activityTest: [], seconds: 1,
    ...(measurement ? { gradientSnr: measurement } : {}),
  };
}

function record(model: string, k: number, seed: number, active: number, nll: number, encoder: number, decoder: number, status: RunRecord['status'] = 'completed'): RunRecord {
  const config = parseRunConfig({ model, k, init: 'he-normal', seed, epochs: 3, evaluation: { gradientSnr: { epochs: [1, 3], draws: 10, images: 20 } } });
  const epochs = [epoch(1, 50, snr(2 * encoder, decoder / 2)), epoch(2, 45), epoch(3, active, snr(encoder, decoder))];
  const final = {
    testImages: 100, finalK: 5000, nll, nllSE: 0.1, negativeBounds: [{ k, value: nll + 1, standardError: 0.1 }], activeUnits: active, activity: [],
    lastEpoch: { epoch: 3, trainLoss: 100, trainStudyLoss: 100, testLoss: 101, testStudyLoss: 101, activeUnitsTrain: active, activeUnitsTest: active },
    runId: `${model}-k${k}-s${seed}`, checkpointSha256: '', evaluationSeconds: 1,
  };
  return { id: `${model}-k${k}-he-normal-s${seed}-e3-00000000`, dir: '', config, status, epochs, final: status === 'completed' ? final : null };
}

/**
 * IWAE-DReG keeps 3 more units than IWAE at k = 5 (+ a seed-dependent wobble) with a higher encoder SNR;
 * IWAE-STL keeps fewer; VAE-STL the same (± noise). At k = 50 IWAE's encoder SNR is lower, its decoder's higher.
 */
function records(): RunRecord[] {
  const out: RunRecord[] = [];
  SEEDS.forEach((seed, i) => {
    const wobble = [0, 1, -1, 2, -2][i];
    out.push(record('iwae', 5, seed, 20 + wobble, 90 + i, 0.5 + 0.01 * i, 1));
    out.push(record('iwae-dreg', 5, seed, 23 + wobble + (i % 2), 89 + i, 0.8 + 0.01 * i, 1));
    out.push(record('iwae-stl', 5, seed, 17 + wobble, 91 + i, 0.6 + 0.01 * i, 1));
    out.push(record('vae-stl', 5, seed, 20 + wobble + [1, -1, 0, 1, -1][i], 92 + i, 0.5 + 0.01 * [1, -1, 0, 1, -1][i], 1));
    out.push(record('iwae', 50, seed, 21 + wobble, 89 + i, 0.2 + 0.01 * i, 2 + 0.01 * i));
  });
  return out;
}

test('summaries and SNR curves match direct computations; the network SNR weighs blocks by their entries', () => {
  const measurement = snr(1, 4);
  assert.ok(Math.abs(networkMeanSnr(measurement, 'encoder') - (10 * 1 + 30 * 3) / 40) < 1e-12);
  assert.equal(networkMeanSnr(measurement, 'decoder'), 4);
  const analysis = analyzeExperiment3(records(), AXES);
  assert.equal(analysis.runs.length, 25);
  assert.deepEqual(analysis.summary.map((s) => `${s.model} k=${s.k}`), ['iwae k=5', 'iwae-stl k=5', 'iwae-dreg k=5', 'vae-stl k=5', 'iwae k=50']);
  const dreg = analysis.summary.find((s) => s.model === 'iwae-dreg')!;
  const units = SEEDS.map((_, i) => 23 + [0, 1, -1, 2, -2][i] + (i % 2));
  assert.deepEqual(dreg.activeUnitsTrain, meanAndStandardError(units));
  assert.equal(dreg.lastSnrEpoch, 3);
  const encoder = SEEDS.map((_, i) => networkMeanSnr(snr(0.8 + 0.01 * i, 1), 'encoder'));
  assert.ok(Math.abs(dreg.encoderSnr.mean - meanAndStandardError(encoder).mean) < 1e-12);
  const curve = analysis.curves.find((c) => c.model === 'iwae' && c.k === 50 && c.network === 'decoder')!;
  assert.deepEqual(curve.epochs, [1, 3]);
  assert.deepEqual(curve.runs, [5, 5]);
  assert.ok(Math.abs(curve.mean[1] - meanAndStandardError(SEEDS.map((_, i) => 2 + 0.01 * i)).mean) < 1e-12);
  assert.ok(Math.abs(curve.mean[0] - curve.mean[1] / 2) < 1e-12, 'epoch 1 measured half the decoder SNR');
  const block = analysis.blocks.find((b) => b.model === 'iwae' && b.k === 5 && b.block === 'encoder.0.bias')!;
  assert.equal(block.epoch, 3);
  assert.ok(Math.abs(block.medianSnr.mean - meanAndStandardError(SEEDS.map((_, i) => (3 * (0.5 + 0.01 * i)) / 2)).mean) < 1e-12);
});

test('paired comparisons with IWAE by seed, and the verdicts: supported, contradicted, not shown', () => {
  const analysis = analyzeExperiment3(records(), AXES);
  const c = analysis.comparisons.find((x) => x.a === 'iwae-dreg' && x.b === 'iwae' && x.metric === 'activeUnitsTrain')!;
  assert.deepEqual(c.pairs.map((p) => p.seed), SEEDS);
  assert.deepEqual(c.test, pairedComparison(c.pairs.map((p) => p.a), c.pairs.map((p) => p.b)));
  assert.ok(Math.abs(c.test.meanDifference - (3 + 2 / 5)) < 1e-12);
  const verdict = (id: string) => analysis.verdicts.find((v) => v.id === id)!;
  assert.equal(verdict('units-iwae-dreg-k5').verdict, 'supported');
  assert.match(verdict('units-iwae-dreg-k5').claim, /^IWAE-DReG keeps more active units than IWAE at k = 5\.$/);
  assert.match(verdict('units-iwae-dreg-k5').sentence, /paired t p < 0\.001, Wilcoxon p = 0\.0\d+\): IWAE-DReG keeps significantly more units\./);
  assert.equal(verdict('units-iwae-stl-k5').verdict, 'contradicted');
  assert.equal(verdict('units-vae-stl-k5').verdict, 'not shown');
  assert.match(verdict('units-vae-stl-k5').sentence, /not significant/);
  assert.equal(verdict('encoder-snr-iwae-dreg-k5').verdict, 'supported');
  // Settings of the grid that have no finished runs still get their verdict.
  assert.equal(verdict('units-iwae-dreg-k50').verdict, 'not shown');
  assert.match(verdict('units-iwae-dreg-k50').sentence, /Fewer than two seeds/);
  assert.equal(verdict('iwae-encoder-snr-over-k').verdict, 'supported');
  assert.equal(verdict('iwae-decoder-snr-over-k').verdict, 'supported');
  // VAE-STL is also compared with its own full-gradient objective when that ran (not here).
  assert.ok(!analysis.comparisons.some((x) => x.b === 'vae-sampled-kl'));
});

test('a grid that plans IWAE at one k only (the paper grid) says the k trend is not tested there, not that it waits for runs', () => {
  const oneK: GridAxes[] = [{ ...AXES[0], ks: [5] }];
  const analysis = analyzeExperiment3(records().filter((r) => r.config!.k === 5), oneK);
  for (const id of ['iwae-encoder-snr-over-k', 'iwae-decoder-snr-over-k']) {
    const v = analysis.verdicts.find((x) => x.id === id)!;
    assert.equal(v.verdict, 'not shown');
    assert.equal(v.sentence, 'Not tested at this scale: its grid runs IWAE at k = 5 only, and a trend needs two values of k.');
  }
  // Planned at two k but none finished: it waits for runs.
  const waiting = analyzeExperiment3([], AXES).verdicts.find((x) => x.id === 'iwae-encoder-snr-over-k')!;
  assert.match(waiting.sentence, /^IWAE was run at no k yet/);
});

test('at the ceiling (every unit still active) no estimator can keep more: not shown', () => {
  const ceiling = records().map((r) => ({ ...r, epochs: r.epochs.map((m) => ({ ...m, activeUnitsTrain: 50 })) }));
  const analysis = analyzeExperiment3(ceiling, AXES);
  const v = analysis.verdicts.find((x) => x.id === 'units-iwae-dreg-k5')!;
  assert.equal(v.verdict, 'not shown');
  assert.match(v.sentence, /ceiling/);
});

test('an empty or partly finished grid: no throw, every verdict "not shown" where the runs are missing, figures only for what finished', () => {
  const empty = analyzeExperiment3([], AXES);
  assert.deepEqual([empty.runs, empty.summary, empty.curves, empty.blocks, empty.comparisons].map((x) => x.length), [0, 0, 0, 0, 0]);
  assert.equal(empty.verdicts.length, 3 * 2 * 2 + 2);
  assert.ok(empty.verdicts.every((v) => v.verdict === 'not shown'));
  assert.deepEqual(experiment3Figures(empty, 'label'), {});
  assert.deepEqual(Object.keys(experiment3Tables(empty)), ['experiment3-verdicts']);

  // One seed of IWAE finished, another still training: a summary with one seed, no comparison.
  const partial = analyzeExperiment3([record('iwae', 5, 10, 20, 90, 0.5, 1), record('iwae', 5, 32, 20, 90, 0.5, 1, 'incomplete')], AXES);
  assert.equal(partial.runs.length, 1);
  assert.equal(partial.summary[0].seeds, 1);
  assert.ok(Number.isNaN(partial.summary[0].activeUnitsTrain.se));
  assert.equal(partial.comparisons.length, 0);
  const figures = experiment3Figures(partial, 'smoke profile');
  assert.deepEqual(Object.keys(figures), ['experiment3-active-units-by-estimator', 'experiment3-gradient-snr', 'experiment3-gradient-snr-by-block']);
  assert.match(figureTitle(figures['experiment3-gradient-snr']), /gradient SNR over training, encoder vs decoder/);
  for (const figure of Object.values(figures)) assert.ok(JSON.stringify(figure).length > 100 && !JSON.stringify(figure).includes('NaN'));
});
