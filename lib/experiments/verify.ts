import { computationShape, MODEL_NAMES, type RunConfig } from '../config/run-config';
import type { EpochMetrics } from '../training/metrics';

/**
 * The order `iwae verify` takes runs in: the study's runs (Experiments 1-2) before Experiment 3's (which
 * also measure the gradient SNR, slower), then by model (MODEL_NAMES: IWAE, VAE, ...), k as a number,
 * then id. So the default three are IWAE k = 1, IWAE k = 5 and VAE k = 1 whatever else is there.
 */
function verifyOrder(a: { id: string; config: RunConfig }, b: { id: string; config: RunConfig }): number {
  const rank = (c: RunConfig) => [c.evaluation.gradientSnr ? 1 : 0, STUDY_FIRST.indexOf(c.model), c.k];
  const [ra, rb] = [rank(a.config), rank(b.config)];
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const STUDY_FIRST: readonly string[] = ['iwae', ...MODEL_NAMES.filter((m) => m !== 'iwae')];

/**
 * The runs `iwae verify --runs N` retrains: in verifyOrder, one per computation shape (model, k and the
 * settings a stack shares) in turn, so three runs check several kinds of stack rather than three seeds of
 * one setting.
 */
export function runsToVerify<T extends { id: string; config: RunConfig }>(runs: readonly T[], n: number): T[] {
  return spreadAcrossShapes([...runs].sort(verifyOrder), (run) => computationShape(run.config), n);
}

/** Up to n runs, one per shape in turn (shapes in the order of their first run, each shape's runs in the order given). */
export function spreadAcrossShapes<T>(runs: readonly T[], shapeOf: (run: T) => string, n: number): T[] {
  const byShape = new Map<string, T[]>();
  for (const run of runs) byShape.set(shapeOf(run), [...(byShape.get(shapeOf(run)) ?? []), run]);
  const queues = [...byShape.values()];
  const out: T[] = [];
  for (let round = 0; out.length < n && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (round < q.length && out.length < n) out.push(q[round]);
  }
  return out;
}

/**
 * `iwae verify`'s comparison: a shipped run's per-epoch metrics against the same run retrained here.
 * Every number of every epoch line counts (losses, their parts and standard errors, active units, the
 * activity vectors, the learning rate, the step count, the gradient SNR where measured); only `seconds`
 * (wall time) does not.
 *
 * The tolerance: on the machine and TensorFlow build that trained a run the retrained numbers are
 * bit-identical (a run's numbers do not depend on its stack nor on the thread count). Another CPU or
 * TensorFlow build computes the elementwise kernels' approximations (exp, log, tanh, sigmoid) with other
 * last bits, and training compounds them step after step: after a few epochs they show at ~1e-6-1e-4
 * relative. VERIFY_TOLERANCE leaves room for that and catches anything that is not the same computation.
 */
export const VERIFY_TOLERANCE = 1e-3;

export interface MetricDifference {
  epoch: number;
  /** e.g. `testLoss`, `activityTrain[17]`. */
  field: string;
  shipped: number;
  retrained: number;
  /** |shipped - retrained| / max(|shipped|, 1). */
  relative: number;
}

/**
 * Every compared number of `shipped` against `retrained` (same epochs), largest relative difference first.
 * The gradient SNR (only on the epochs a run measures it) is compared number by number where either side
 * has it: a block summary present on one side only is a difference (NaN for the missing side).
 */
export function compareEpochs(shipped: readonly EpochMetrics[], retrained: readonly EpochMetrics[]): MetricDifference[] {
  if (retrained.length > shipped.length) throw new RangeError(`retrained ${retrained.length} epochs, the run shipped only ${shipped.length}`);
  const out: MetricDifference[] = [];
  const push = (epoch: number, field: string, x: number, y: number) => {
    const relative = Object.is(x, y) ? 0 : typeof y !== 'number' || !Number.isFinite(y - x) ? Infinity : Math.abs(x - y) / Math.max(Math.abs(x), 1);
    out.push({ epoch, field, shipped: x, retrained: y, relative });
  };
  retrained.forEach((mine, i) => {
    const theirs = shipped[i];
    for (const key of Object.keys(theirs) as Array<keyof EpochMetrics>) {
      if (key === 'seconds' || key === 'gradientSnr') continue;
      const a = theirs[key];
      const b = mine[key];
      const pairs: Array<[string, number, number]> = Array.isArray(a)
        ? a.map((v, u) => [`${key}[${u}]`, v, (b as number[])[u]])
        : [[key, a as number, b as number]];
      for (const [field, x, y] of pairs) push(theirs.epoch, field, x, y);
    }
    if (theirs.gradientSnr || mine.gradientSnr) {
      const a = snrNumbers(theirs.gradientSnr);
      const b = snrNumbers(mine.gradientSnr);
      for (const field of new Set([...a.keys(), ...b.keys()])) push(theirs.epoch, field, a.get(field) ?? NaN, b.get(field) ?? NaN);
    }
  });
  return out.sort((p, q) => q.relative - p.relative);
}

/** The numbers of an epoch's gradient SNR by field name, e.g. `gradientSnr.encoder.0.weight.meanSnr`. */
function snrNumbers(snr: EpochMetrics['gradientSnr']): Map<string, number> {
  const out = new Map<string, number>();
  if (!snr) return out;
  out.set('gradientSnr.draws', snr.draws);
  out.set('gradientSnr.images', snr.images);
  for (const b of snr.blocks) {
    for (const key of ['entries', 'meanSnr', 'medianSnr'] as const) out.set(`gradientSnr.${b.block}.${key}`, b[key]);
  }
  return out;
}
