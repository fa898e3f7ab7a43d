import anova1 from '@stdlib/stats-anova1';
import kruskalTest from '@stdlib/stats-kruskal-test';
import ttest from '@stdlib/stats-ttest';

export interface MeanSE {
  mean: number;
  /** Standard error of the mean: sample sd (n-1) / sqrt(n); NaN for fewer than two values. */
  se: number;
  n: number;
}

export function meanAndStandardError(values: readonly number[]): MeanSE {
  const n = values.length;
  if (n === 0) return { mean: NaN, se: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: NaN, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n), n };
}

export interface GroupTest {
  method: string;
  statistic: number;
  pValue: number;
  groups: number;
  n: number;
}

function allEqual(values: readonly number[]): boolean {
  return values.every((v) => v === values[0]);
}

/**
 * Does the group (e.g. the weight init) change the value (e.g. active units)? One-way ANOVA. When every
 * value is identical there is nothing to test: statistic 0, p = 1 (stdlib would divide 0 by 0).
 */
export function oneWayAnova(groups: Record<string, readonly number[]>): GroupTest {
  const names = Object.keys(groups).filter((g) => groups[g].length > 0);
  const values = names.flatMap((g) => [...groups[g]]);
  const factor = names.flatMap((g) => groups[g].map(() => g));
  if (names.length < 2) throw new Error('oneWayAnova needs at least two non-empty groups');
  if (allEqual(values)) return { method: 'One-way ANOVA', statistic: 0, pValue: 1, groups: names.length, n: values.length };
  const result = anova1(values, factor);
  return { method: 'One-way ANOVA', statistic: result.statistic, pValue: result.pValue, groups: names.length, n: values.length };
}

/** Rank-based counterpart of the ANOVA, robust to the small, discrete counts of active units. */
export function kruskalWallis(groups: Record<string, readonly number[]>): GroupTest {
  const names = Object.keys(groups).filter((g) => groups[g].length > 0);
  const arrays = names.map((g) => [...groups[g]]);
  const n = arrays.reduce((a, x) => a + x.length, 0);
  if (names.length < 2) throw new Error('kruskalWallis needs at least two non-empty groups');
  if (allEqual(arrays.flat())) return { method: 'Kruskal-Wallis', statistic: 0, pValue: 1, groups: names.length, n };
  const [first, ...rest] = arrays;
  const result = kruskalTest(first, ...rest);
  return { method: 'Kruskal-Wallis', statistic: result.statistic, pValue: result.pValue, groups: names.length, n };
}

export interface PairedComparison {
  n: number;
  meanDifference: number;
  seDifference: number;
  /** 95% confidence interval of the mean difference (paired t): it excludes 0 exactly when tPValue < 0.05. */
  ci95: [number, number];
  tStatistic: number;
  tPValue: number;
  wilcoxonStatistic: number;
  wilcoxonPValue: number;
}

/** Paired comparison of x and y (e.g. IWAE vs VAE at the same seed and init): t-test and Wilcoxon signed-rank. */
export function pairedComparison(x: readonly number[], y: readonly number[]): PairedComparison {
  if (x.length !== y.length) throw new Error(`pairedComparison needs equal lengths, got ${x.length} and ${y.length}`);
  if (x.length < 2) throw new Error('pairedComparison needs at least two pairs');
  const d = x.map((v, i) => v - y[i]);
  const { mean, se } = meanAndStandardError(d);
  const constant = allEqual(d);
  // A constant difference has zero variance: the t statistic is infinite (or undefined at 0).
  const t = constant
    ? { statistic: mean === 0 ? 0 : Math.sign(mean) * Infinity, pValue: mean === 0 ? 1 : 0, ci: [mean, mean] }
    : ttest([...x], [...y]);
  const w = signedRankTest(d);
  return {
    n: d.length,
    meanDifference: mean,
    seDifference: se,
    ci95: [t.ci[0], t.ci[1]],
    tStatistic: t.statistic,
    tPValue: t.pValue,
    wilcoxonStatistic: w.statistic,
    wilcoxonPValue: w.pValue,
  };
}

/**
 * Wilcoxon's signed-rank test of the paired differences d (two-sided; zero differences dropped before
 * ranking, as Wilcoxon did; all zero: p = 1): T+ and its exact p from the permutation distribution given the midranks
 * (what R's exactRankTests::wilcox.exact and scipy's PermutationMethod compute), for any n. Not stdlib's
 * (@stdlib/stats-wilcoxon, which the tests keep as a cross-check): like R's wilcox.test it switches to a
 * normal approximation with ties, zeros or more than 50 pairs, which at a handful of pairs is
 * anti-conservative (five tied positive differences: 0.037, where no sign pattern gives less than
 * 2/32 = 0.0625), and its exact branch can exceed 1.
 */
function signedRankTest(d: readonly number[]): { statistic: number; pValue: number } {
  const nonZero = d.filter((v) => v !== 0);
  if (nonZero.length === 0) return { statistic: 0, pValue: 1 };
  const ranks = doubledMidranks(nonZero.map(Math.abs));
  const observed = ranks.reduce((sum, r, i) => sum + (nonZero[i] > 0 ? r : 0), 0);
  return { statistic: observed / 2, pValue: exactSignedRankPValue(ranks, observed) };
}

/** 2 x the midrank of each value (ascending; tied values share their mean rank): whole numbers. */
function doubledMidranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1][0] === order[start][0]) end++;
    for (let j = start; j <= end; j++) ranks[order[j][1]] = start + end + 2; // 2 x mean of ranks start+1..end+1
    start = end + 1;
  }
  return ranks;
}

/**
 * P(|T - E T| >= |observed - E T|) where T sums each (whole-number) rank with probability 1/2 (every
 * sign pattern equally likely under the null): the distribution of T by dynamic programming over its
 * possible sums, so exact for any number of pairs.
 */
function exactSignedRankPValue(ranks: readonly number[], observed: number): number {
  const total = ranks.reduce((a, b) => a + b, 0);
  let probability = new Float64Array(total + 1);
  probability[0] = 1;
  for (const r of ranks) {
    const next = new Float64Array(total + 1);
    for (let t = 0; t <= total; t++) {
      if (probability[t] === 0) continue;
      next[t] += probability[t] / 2;
      next[t + r] += probability[t] / 2;
    }
    probability = next;
  }
  // Doubled distances from the mean (total / 2), so every comparison is between whole numbers.
  const distance = Math.abs(2 * observed - total);
  let p = 0;
  for (let t = 0; t <= total; t++) if (Math.abs(2 * t - total) >= distance) p += probability[t];
  return Math.min(1, p);
}
