import type { NetworkName } from '../model/architecture';
import type { RunRecord } from '../experiments/results';
import type { GridAxes } from '../experiments/profiles';
import type { GradientSnr } from '../training/gradient-snr';
import { ALPHA, type Verdict } from './claims';
import { runRows, type RunRow } from './run-table';
import { meanAndStandardError, pairedComparison, type MeanSE, type PairedComparison } from './statistics';

/**
 * Experiment 3: does the gradient estimator decide how many latent units survive? IWAE trained with its
 * full reparameterized gradient, with STL (Roeder et al. 2017: the encoder's score-function term dropped)
 * and with DReG (Tucker et al. 2019: doubly reparameterized), and the ELBO with STL, at the same k, init
 * and seeds: every run of one seed sees the same data order, binarizations and initial weights, so
 * comparisons are paired by seed. Rainforth et al. 2018 showed IWAE's encoder gradient SNR falls as k
 * grows; if that starves the encoder, estimators with a better encoder SNR might keep more units. The
 * SNR comes from the runs' own measurements (lib/training/gradient-snr.ts) at the measured epochs.
 */

/** The full-gradient IWAE every estimator is compared with, paired by seed at the same k. */
export const BASELINE_MODEL = 'iwae';

/** Readable names of the estimators (IWAE-DReG, not IWAE-DREG). */
const LABELS: Record<string, string> = {
  iwae: 'IWAE',
  'iwae-stl': 'IWAE-STL',
  'iwae-dreg': 'IWAE-DReG',
  'vae-stl': 'VAE-STL',
  'vae-sampled-kl': 'VAE (sampled KL)',
  vae: 'VAE',
};

export function estimatorLabel(model: string): string {
  return LABELS[model] ?? model.toUpperCase();
}

/** The models whose gradient is not their objective's own (MODEL_ESTIMATORS in lib/model/objectives.ts): each gets verdicts. */
const ESTIMATORS: readonly string[] = ['iwae-stl', 'iwae-dreg', 'vae-stl'];

/** Each estimator's full-gradient counterpart, where it is not plain IWAE: STL of the ELBO against the ELBO. */
const OWN_BASELINE: Record<string, string> = { 'vae-stl': 'vae-sampled-kl' };

/** Mean SNR over all entries of one network's blocks (the entries that vary): blocks weighted by their entries. */
export function networkMeanSnr(snr: GradientSnr, network: NetworkName): number {
  let entries = 0;
  let sum = 0;
  for (const b of snr.blocks) {
    if (b.network !== network) continue;
    entries += b.entries;
    sum += b.entries * b.meanSnr;
  }
  return entries > 0 ? sum / entries : NaN;
}

/** One completed run with its SNR measurements. */
export interface Experiment3Run extends RunRow {
  /** Measured epochs, in order, with the run's SNR after each. */
  snr: Array<{ epoch: number; measurement: GradientSnr }>;
}

/** One (estimator, k): the seeds' means ± SE. */
export interface EstimatorSummary {
  model: string;
  k: number;
  seeds: number;
  activeUnitsTrain: MeanSE;
  activeUnitsTest: MeanSE;
  nll: MeanSE;
  /** Network mean SNR at the last measured epoch. */
  encoderSnr: MeanSE;
  decoderSnr: MeanSE;
  lastSnrEpoch: number | null;
}

/** An SNR curve: network mean SNR of one (estimator, k) per measured epoch, mean ± SE over seeds. */
export interface SnrCurve {
  model: string;
  k: number;
  network: NetworkName;
  epochs: number[];
  mean: number[];
  se: number[];
  runs: number[];
}

/** Per parameter block at the last measured epoch: mean and median SNR, mean ± SE over seeds. */
export interface BlockSnrSummary {
  model: string;
  k: number;
  network: NetworkName;
  block: string;
  epoch: number;
  meanSnr: MeanSE;
  medianSnr: MeanSE;
}

export type Experiment3Metric = 'activeUnitsTrain' | 'nll' | 'encoderSnr' | 'decoderSnr';

/** `a` against `b` on one metric, paired by seed (b may be at another k: the same estimator across k). */
export interface EstimatorComparison {
  a: string;
  b: string;
  kA: number;
  kB: number;
  metric: Experiment3Metric;
  pairs: Array<{ seed: number; a: number; b: number }>;
  test: PairedComparison;
}

export interface Experiment3Verdict {
  id: string;
  claim: string;
  verdict: Verdict;
  sentence: string;
}

export interface Experiment3Analysis {
  runs: Experiment3Run[];
  summary: EstimatorSummary[];
  curves: SnrCurve[];
  blocks: BlockSnrSummary[];
  comparisons: EstimatorComparison[];
  verdicts: Experiment3Verdict[];
}

/** The completed runs of the records with their SNR measurements (others are left out, as everywhere). */
export function experiment3Runs(records: readonly RunRecord[]): Experiment3Run[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  return runRows(records).map((row) => ({
    ...row,
    snr: byId.get(row.id)!.epochs.flatMap((m) => (m.gradientSnr ? [{ epoch: m.epoch, measurement: m.gradientSnr }] : [])),
  }));
}

const lastSnr = (run: Experiment3Run) => run.snr.at(-1) ?? null;

/** A run's value of an Experiment 3 metric (SNR: network mean at its last measured epoch; NaN if none). */
function metricOf(run: Experiment3Run, metric: Experiment3Metric): number {
  if (metric === 'activeUnitsTrain' || metric === 'nll') return run[metric];
  const last = lastSnr(run);
  return last ? networkMeanSnr(last.measurement, metric === 'encoderSnr' ? 'encoder' : 'decoder') : NaN;
}

function settingsOf(runs: readonly Experiment3Run[]): Array<{ model: string; k: number; runs: Experiment3Run[] }> {
  const groups = new Map<string, Experiment3Run[]>();
  for (const r of runs) groups.set(`${r.model}|${r.k}`, [...(groups.get(`${r.model}|${r.k}`) ?? []), r]);
  return [...groups.values()]
    .map((group) => ({ model: group[0].model, k: group[0].k, runs: group.sort((a, b) => a.seed - b.seed) }))
    .sort((a, b) => a.k - b.k || modelOrder(a.model) - modelOrder(b.model));
}

/** Plain IWAE first, then the estimators in the order of LABELS (tables and figures list them so). */
export function modelOrder(model: string): number {
  const order = Object.keys(LABELS).indexOf(model);
  return order < 0 ? Object.keys(LABELS).length : order;
}

export function summarizeEstimators(runs: readonly Experiment3Run[]): EstimatorSummary[] {
  return settingsOf(runs).map(({ model, k, runs: group }) => {
    const epochs = group.map((r) => lastSnr(r)?.epoch).filter((e): e is number => e !== undefined);
    const finite = (values: number[]) => meanAndStandardError(values.filter(Number.isFinite));
    return {
      model,
      k,
      seeds: group.length,
      activeUnitsTrain: meanAndStandardError(group.map((r) => r.activeUnitsTrain)),
      activeUnitsTest: meanAndStandardError(group.map((r) => r.activeUnitsTest)),
      nll: meanAndStandardError(group.map((r) => r.nll)),
      encoderSnr: finite(group.map((r) => metricOf(r, 'encoderSnr'))),
      decoderSnr: finite(group.map((r) => metricOf(r, 'decoderSnr'))),
      lastSnrEpoch: epochs.length > 0 ? Math.max(...epochs) : null,
    };
  });
}

export function snrCurves(runs: readonly Experiment3Run[]): SnrCurve[] {
  const curves: SnrCurve[] = [];
  for (const { model, k, runs: group } of settingsOf(runs)) {
    const epochs = [...new Set(group.flatMap((r) => r.snr.map((s) => s.epoch)))].sort((a, b) => a - b);
    if (epochs.length === 0) continue;
    for (const network of ['encoder', 'decoder'] as const) {
      const stats = epochs.map((epoch) => meanAndStandardError(group.flatMap((r) => r.snr.filter((s) => s.epoch === epoch).map((s) => networkMeanSnr(s.measurement, network)))));
      curves.push({ model, k, network, epochs, mean: stats.map((s) => s.mean), se: stats.map((s) => (Number.isFinite(s.se) ? s.se : 0)), runs: stats.map((s) => s.n) });
    }
  }
  return curves;
}

export function blockSnrSummaries(runs: readonly Experiment3Run[]): BlockSnrSummary[] {
  const out: BlockSnrSummary[] = [];
  for (const { model, k, runs: group } of settingsOf(runs)) {
    const measured = group.map(lastSnr).filter((s): s is NonNullable<typeof s> => s !== null);
    if (measured.length === 0) continue;
    const epoch = Math.max(...measured.map((s) => s.epoch));
    const atEpoch = measured.filter((s) => s.epoch === epoch).map((s) => s.measurement);
    for (const [j, block] of atEpoch[0].blocks.entries()) {
      out.push({
        model,
        k,
        network: block.network,
        block: block.block,
        epoch,
        meanSnr: meanAndStandardError(atEpoch.map((m) => m.blocks[j].meanSnr)),
        medianSnr: meanAndStandardError(atEpoch.map((m) => m.blocks[j].medianSnr)),
      });
    }
  }
  return out;
}

/** `a` at kA against `b` at kB, paired by seed; null with fewer than two pairs. */
export function pairedBySeed(runs: readonly Experiment3Run[], a: string, kA: number, b: string, kB: number, metric: Experiment3Metric): EstimatorComparison | null {
  const bySeed = new Map(runs.filter((r) => r.model === b && r.k === kB).map((r) => [r.seed, r]));
  const pairs = runs
    .filter((r) => r.model === a && r.k === kA && bySeed.has(r.seed))
    .sort((x, y) => x.seed - y.seed)
    .map((r) => ({ seed: r.seed, a: metricOf(r, metric), b: metricOf(bySeed.get(r.seed)!, metric) }))
    .filter((p) => Number.isFinite(p.a) && Number.isFinite(p.b));
  if (pairs.length < 2) return null;
  return { a, b, kA, kB, metric, pairs, test: pairedComparison(pairs.map((p) => p.a), pairs.map((p) => p.b)) };
}

/** Every estimator against plain IWAE (and VAE-STL against the sampled-KL ELBO), at each k, on each metric. */
export function estimatorComparisons(runs: readonly Experiment3Run[]): EstimatorComparison[] {
  const out: EstimatorComparison[] = [];
  for (const { model, k } of settingsOf(runs)) {
    const baselines = [BASELINE_MODEL, OWN_BASELINE[model]].filter((b): b is string => b !== undefined && b !== model);
    for (const baseline of baselines) {
      for (const metric of ['activeUnitsTrain', 'nll', 'encoderSnr', 'decoderSnr'] as const) {
        const c = pairedBySeed(runs, model, k, baseline, k, metric);
        if (c) out.push(c);
      }
    }
  }
  return out;
}

/** Runs with at most this many inactive units are at the ceiling of the count (claims.ts uses the same margin). */
const CEILING_MARGIN = 2;

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const fmtP = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);
const fmtSnr = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 0.1 ? v.toFixed(3) : v.toPrecision(2)) : String(v));

/**
 * The verdict of a one-sided hypothesis "a > b" (or "a < b" with `direction` -1) from a paired
 * comparison: supported when the paired t-test is significant at ALPHA in the stated direction,
 * contradicted when it is significant the other way, not shown otherwise. The paired t-test decides,
 * not Wilcoxon's signed-rank test: with 5 seeds Wilcoxon's two-sided p cannot go below 2/2^5 = 0.0625
 * (exact; about 0.05 by its normal approximation under ties), so it could never show anything; both
 * are reported.
 */
function pairedVerdict(test: PairedComparison, direction: 1 | -1): Verdict {
  if (!(test.tPValue < ALPHA)) return 'not shown';
  return Math.sign(test.meanDifference) === direction ? 'supported' : 'contradicted';
}

function describeTest(c: EstimatorComparison): string {
  const t = c.test;
  return `difference ${fmt(t.meanDifference, 3)} ± ${fmt(t.seDifference, 3)} SE over ${t.n} seeds; paired t ${fmtP(t.tPValue)}, Wilcoxon ${fmtP(t.wilcoxonPValue)}`;
}

function unitsVerdict(runs: readonly Experiment3Run[], model: string, k: number, latent: number): Experiment3Verdict {
  const name = estimatorLabel(model);
  const claim = `${name} keeps more active units than IWAE at k = ${k}.`;
  const id = `units-${model}-k${k}`;
  const c = pairedBySeed(runs, model, k, BASELINE_MODEL, k, 'activeUnitsTrain');
  if (!c) return { id, claim, verdict: 'not shown', sentence: `Fewer than two seeds with both ${name} and IWAE at k = ${k} finished: nothing to compare yet.` };
  // Early in training every unit is still active: no estimator can keep more then (a ceiling, not evidence).
  if (c.pairs.every((p) => p.a >= latent - CEILING_MARGIN && p.b >= latent - CEILING_MARGIN)) {
    return {
      id,
      claim,
      verdict: 'not shown',
      sentence:
        `Every run still has at least ${latent - CEILING_MARGIN} of ${latent} units active, so no estimator can keep more yet ` +
        '(a ceiling, not evidence): train longer (the paper profile).',
    };
  }
  const verdict = pairedVerdict(c.test, 1);
  const means = `${name} ${fmt(meanOf(c, 'a'), 1)} units, IWAE ${fmt(meanOf(c, 'b'), 1)} (${describeTest(c)})`;
  const reading =
    verdict === 'supported'
      ? `${name} keeps significantly more units.`
      : verdict === 'contradicted'
        ? `${name} keeps significantly fewer units, against the claim.`
        : `the difference is not significant at α = ${ALPHA}.`;
  return { id, claim, verdict, sentence: `${means}: ${reading}` };
}

function snrVerdict(runs: readonly Experiment3Run[], model: string, k: number): Experiment3Verdict {
  const name = estimatorLabel(model);
  const claim = `${name}'s encoder gradient has a higher SNR than IWAE's at k = ${k}.`;
  const id = `encoder-snr-${model}-k${k}`;
  const c = pairedBySeed(runs, model, k, BASELINE_MODEL, k, 'encoderSnr');
  if (!c) return { id, claim, verdict: 'not shown', sentence: `Fewer than two seeds with both ${name} and IWAE at k = ${k} measured: nothing to compare yet.` };
  const verdict = pairedVerdict(c.test, 1);
  const epoch = Math.max(...runs.filter((r) => r.model === model && r.k === k).map((r) => lastSnr(r)?.epoch ?? 0));
  const means = `Mean encoder SNR at epoch ${epoch}: ${name} ${fmtSnr(meanOf(c, 'a'))}, IWAE ${fmtSnr(meanOf(c, 'b'))} (${describeTest(c)})`;
  const reading =
    verdict === 'supported'
      ? `${name}'s encoder gradient is significantly less noisy.`
      : verdict === 'contradicted'
        ? `${name}'s encoder gradient is significantly noisier, against the claim.`
        : `the difference is not significant at α = ${ALPHA}.`;
  return { id, claim, verdict, sentence: `${means}: ${reading}` };
}

/** Rainforth et al. 2018: IWAE's encoder SNR falls with k (direction -1), its decoder's rises (+1). */
function kTrendVerdict(runs: readonly Experiment3Run[], network: NetworkName, plannedKs: readonly number[]): Experiment3Verdict {
  const falls = network === 'encoder';
  const claim = `IWAE's ${network} gradient SNR ${falls ? 'falls' : 'rises'} as k grows (Rainforth et al. 2018).`;
  const id = `iwae-${network}-snr-over-k`;
  // A grid that plans IWAE at one k can never test a trend: say so, rather than "not yet".
  if (plannedKs.length < 2) {
    return { id, claim, verdict: 'not shown', sentence: `Not tested at this scale: its grid runs IWAE at ${plannedKs.length === 0 ? 'no k' : `k = ${plannedKs[0]} only`}, and a trend needs two values of k.` };
  }
  const ks = [...new Set(runs.filter((r) => r.model === BASELINE_MODEL).map((r) => r.k))].sort((a, b) => a - b);
  if (ks.length < 2) {
    return { id, claim, verdict: 'not shown', sentence: `IWAE was run ${ks.length === 0 ? 'at no k yet' : `at k = ${ks[0]} only`}: a trend over k needs two.` };
  }
  const [low, high] = [ks[0], ks[ks.length - 1]];
  const c = pairedBySeed(runs, BASELINE_MODEL, high, BASELINE_MODEL, low, network === 'encoder' ? 'encoderSnr' : 'decoderSnr');
  if (!c) return { id, claim, verdict: 'not shown', sentence: `Fewer than two seeds with IWAE at both k = ${low} and k = ${high} measured.` };
  const verdict = pairedVerdict(c.test, falls ? -1 : 1);
  const sentence =
    `Mean ${network} SNR at the last measured epoch: ${fmtSnr(meanOf(c, 'a'))} at k = ${high}, ${fmtSnr(meanOf(c, 'b'))} at k = ${low} (${describeTest(c)}): ` +
    (verdict === 'supported'
      ? `it ${falls ? 'falls' : 'rises'} with k, as Rainforth et al. found.`
      : verdict === 'contradicted'
        ? `it ${falls ? 'rises' : 'falls'} with k instead.`
        : `no significant change at α = ${ALPHA}.`);
  return { id, claim, verdict, sentence };
}

function meanOf(c: EstimatorComparison, side: 'a' | 'b'): number {
  return meanAndStandardError(c.pairs.map((p) => p[side])).mean;
}

/**
 * The verdicts, for the estimators and k of `axes` (the grid, so a setting not finished yet still gets
 * its "not shown"): per estimator and k, more active units than IWAE? a higher encoder SNR than IWAE?
 * Then Rainforth et al.'s trend of IWAE's encoder and decoder SNR over k.
 */
export function experiment3Verdicts(runs: readonly Experiment3Run[], axes: readonly GridAxes[], latent: number): Experiment3Verdict[] {
  const settings = axes.flatMap((a) => a.models.flatMap((model) => a.ks.map((k) => ({ model, k })))).filter((s) => ESTIMATORS.includes(s.model));
  const unique = [...new Map(settings.map((s) => [`${s.model}|${s.k}`, s])).values()].sort((a, b) => a.k - b.k || modelOrder(a.model) - modelOrder(b.model));
  const plannedBaselineKs = [...new Set(axes.flatMap((a) => (a.models.includes(BASELINE_MODEL) ? a.ks : [])))];
  return [
    ...unique.map((s) => unitsVerdict(runs, s.model, s.k, latent)),
    ...unique.map((s) => snrVerdict(runs, s.model, s.k)),
    kTrendVerdict(runs, 'encoder', plannedBaselineKs),
    kTrendVerdict(runs, 'decoder', plannedBaselineKs),
  ];
}

/** Everything notebook 06 shows, from the records of the Experiment 3 grid and the grid's axes. */
export function analyzeExperiment3(records: readonly RunRecord[], axes: readonly GridAxes[], latent = 50): Experiment3Analysis {
  const runs = experiment3Runs(records);
  return {
    runs,
    summary: summarizeEstimators(runs),
    curves: snrCurves(runs),
    blocks: blockSnrSummaries(runs),
    comparisons: estimatorComparisons(runs),
    verdicts: experiment3Verdicts(runs, axes, latent),
  };
}

/** The grid as rows to show: one per block of axes (estimators, k, seeds, init, SNR settings). */
export function experiment3Design(axes: readonly GridAxes[]): Array<Record<string, string | number>> {
  return axes.map((a) => ({
    estimators: a.models.map(estimatorLabel).join(', '),
    k: a.ks.join(', '),
    init: a.inits.join(', '),
    seeds: a.seeds.join(', '),
    runs: a.models.length * a.ks.length * a.inits.length * a.seeds.length,
    'SNR after epochs': a.gradientSnr ? a.gradientSnr.epochs.join(', ') : '–',
    'SNR draws': a.gradientSnr?.draws ?? '–',
    'SNR batch (images)': a.gradientSnr?.images ?? '–',
  }));
}

/** The summary as table rows (mean and SE columns, merged by the notebook's table). */
export function summaryTableRows(summary: readonly EstimatorSummary[]): Array<Record<string, string | number | null>> {
  return summary.map((s) => ({
    estimator: estimatorLabel(s.model),
    k: s.k,
    seeds: s.seeds,
    activeUnitsTrain: s.activeUnitsTrain.mean,
    activeUnitsTrainSE: s.activeUnitsTrain.se,
    activeUnitsTest: s.activeUnitsTest.mean,
    activeUnitsTestSE: s.activeUnitsTest.se,
    nll: s.nll.mean,
    nllSE: s.nll.se,
    encoderSnr: s.encoderSnr.mean,
    encoderSnrSE: s.encoderSnr.se,
    decoderSnr: s.decoderSnr.mean,
    decoderSnrSE: s.decoderSnr.se,
    snrEpoch: s.lastSnrEpoch,
  }));
}

export const SUMMARY_TABLE_LABELS: Record<string, string> = {
  activeUnitsTrain: 'active units (train)',
  activeUnitsTest: 'active units (test)',
  nll: 'NLL',
  encoderSnr: 'encoder SNR',
  decoderSnr: 'decoder SNR',
  snrEpoch: 'SNR epoch',
};

const METRIC_LABELS: Record<Experiment3Metric, string> = {
  activeUnitsTrain: 'active units (train)',
  nll: 'NLL (nats)',
  encoderSnr: 'encoder SNR',
  decoderSnr: 'decoder SNR',
};

export function comparisonTableRows(comparisons: readonly EstimatorComparison[]): Array<Record<string, string | number>> {
  return comparisons.map((c) => ({
    comparison: `${estimatorLabel(c.a)} − ${estimatorLabel(c.b)}`,
    k: c.kA === c.kB ? c.kA : `${c.kA} vs ${c.kB}`,
    metric: METRIC_LABELS[c.metric],
    seeds: c.test.n,
    difference: c.test.meanDifference,
    differenceSE: c.test.seDifference,
    ci95: `[${fmt(c.test.ci95[0], 3)}, ${fmt(c.test.ci95[1], 3)}]`,
    tP: c.test.tPValue,
    wilcoxonP: c.test.wilcoxonPValue,
  }));
}

export function blockTableRows(blocks: readonly BlockSnrSummary[]): Array<Record<string, string | number>> {
  return blocks.map((b) => ({
    estimator: estimatorLabel(b.model),
    k: b.k,
    block: b.block,
    epoch: b.epoch,
    meanSnr: b.meanSnr.mean,
    meanSnrSE: b.meanSnr.se,
    medianSnr: b.medianSnr.mean,
    medianSnrSE: b.medianSnr.se,
  }));
}
