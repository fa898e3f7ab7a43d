import type { RandomStream } from '../random/streams';
import type { RunRow } from './run-table';
import { meanAndStandardError, type MeanSE } from './statistics';
import { activeSet, activeSetOverlapTest, jaccardMatrix, type OverlapTest } from './unit-overlap';

export interface SeedStability {
  model: string;
  k: number;
  init: string;
  seeds: number[];
  /** Active units per seed (training set, last epoch), and their mean and standard error. */
  counts: number[];
  count: MeanSE;
  /** Which units are active, per seed; their pairwise Jaccard indices; the test against random choice. */
  sets: number[][];
  jaccard: number[][];
  overlap: OverlapTest;
}

/**
 * Experiment 2: for every (model, k, init) seen with several seeds, is the number of active units stable
 * across seeds, and is the *choice* of units reproducible (more overlap than sets of the same sizes
 * drawn at random from all units)?
 */
export function seedStability(
  rows: readonly RunRow[],
  stream: RandomStream,
  options: { threshold?: number; draws?: number } = {},
): SeedStability[] {
  const threshold = options.threshold ?? 1e-2;
  const groups = new Map<string, RunRow[]>();
  for (const r of rows) {
    const key = `${r.model}|${r.k}|${r.init}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: SeedStability[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = (groups.get(key) as RunRow[]).slice().sort((a, b) => a.seed - b.seed);
    if (group.length < 2) continue;
    const sets = group.map((r) => activeSet(r.activityTrain, threshold));
    const counts = sets.map((s) => s.length);
    out.push({
      model: group[0].model,
      k: group[0].k,
      init: group[0].init,
      seeds: group.map((r) => r.seed),
      counts,
      count: meanAndStandardError(counts),
      sets,
      jaccard: jaccardMatrix(sets),
      overlap: activeSetOverlapTest(sets, group[0].activityTrain.length, stream, options.draws),
    });
  }
  return out;
}
