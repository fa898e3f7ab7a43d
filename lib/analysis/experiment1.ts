import type { RunRow } from './run-table';
import { kruskalWallis, meanAndStandardError, oneWayAnova, pairedComparison, type GroupTest, type MeanSE, type PairedComparison } from './statistics';

export type ActiveUnitMetric = 'activeUnitsTrain' | 'activeUnitsTest';

export interface InitEffect {
  model: string;
  k: number;
  metric: ActiveUnitMetric;
  byInit: Record<string, MeanSE>;
  anova: GroupTest;
  kruskal: GroupTest;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Experiment 1: per (model, k), does the init change the number of active units? ANOVA and Kruskal-Wallis over inits. */
export function initEffects(rows: readonly RunRow[], metric: ActiveUnitMetric = 'activeUnitsTrain'): InitEffect[] {
  const out: InitEffect[] = [];
  for (const [, group] of groupBy(rows, (r) => `${r.model}|${r.k}`)) {
    const byInitRows = groupBy(group, (r) => r.init);
    const values: Record<string, number[]> = {};
    for (const [init, rs] of byInitRows) values[init] = rs.map((r) => r[metric]);
    const inits = Object.keys(values).sort();
    // A test needs at least two inits, and more values than groups so there is within-group variance.
    if (inits.length < 2 || group.length <= inits.length) continue;
    const byInit: Record<string, MeanSE> = {};
    for (const init of inits) byInit[init] = meanAndStandardError(values[init]);
    out.push({ model: group[0].model, k: group[0].k, metric, byInit, anova: oneWayAnova(values), kruskal: kruskalWallis(values) });
  }
  return out.sort((a, b) => a.model.localeCompare(b.model) || a.k - b.k);
}

export interface ModelComparison {
  a: string;
  b: string;
  k: number;
  metric: keyof Pick<RunRow, 'activeUnitsTrain' | 'activeUnitsTest' | 'nll' | 'testLoss'>;
  meanA: number;
  meanB: number;
  /** The pairs behind the test, in its order: a's and b's value of the metric per (seed, init). */
  pairs: Array<{ seed: number; init: string; a: number; b: number }>;
  test: PairedComparison;
}

/**
 * Model a vs model b at one k, paired by (seed, init): the same seed means the same data order,
 * binarizations and initial weights, so the difference isolates the objective.
 */
export function pairedModelComparison(
  rows: readonly RunRow[],
  a: string,
  b: string,
  k: number,
  metric: ModelComparison['metric'],
  kB: number = k,
): ModelComparison | null {
  const key = (r: RunRow) => `${r.seed}|${r.init}`;
  const bRows = new Map(rows.filter((r) => r.model === b && r.k === kB).map((r) => [key(r), r]));
  const pairs = rows.filter((r) => r.model === a && r.k === k && bRows.has(key(r))).sort((x, y) => key(x).localeCompare(key(y)));
  if (pairs.length < 2) return null;
  const x = pairs.map((r) => r[metric]);
  const y = pairs.map((r) => (bRows.get(key(r)) as RunRow)[metric]);
  return {
    a,
    b,
    k,
    metric,
    meanA: meanAndStandardError(x).mean,
    meanB: meanAndStandardError(y).mean,
    pairs: pairs.map((r, i) => ({ seed: r.seed, init: r.init, a: x[i], b: y[i] })),
    test: pairedComparison(x, y),
  };
}
