import anova1 from '@stdlib/stats-anova1';
import kruskalTest from '@stdlib/stats-kruskal-test';
import ttest from '@stdlib/stats-ttest';
import wilcoxon from '@stdlib/stats-wilcoxon';

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
  const nonZero = d.filter((v) => v !== 0);
  const constant = allEqual(d);
  // A constant difference has zero variance: the t statistic is infinite (or undefined at 0).
  const t = constant
    ? { statistic: mean === 0 ? 0 : Math.sign(mean) * Infinity, pValue: mean === 0 ? 1 : 0, ci: [mean, mean] }
    : ttest([...x], [...y]);
  const w = nonZero.length === 0 ? { statistic: 0, pValue: 1 } : wilcoxon([...x], [...y], { zeroMethod: 'wilcox' });
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
