import { test } from 'node:test';
import assert from 'node:assert/strict';
import wilcoxon from '@stdlib/stats-wilcoxon';
import { kruskalWallis, meanAndStandardError, oneWayAnova, pairedComparison } from '../../lib/analysis/statistics';

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);

test('mean and standard error use the n-1 sample variance', () => {
  const r = meanAndStandardError([2, 4, 4, 4, 5, 5, 7, 9]);
  close(r.mean, 5);
  // sample variance 32/7
  close(r.se, Math.sqrt(32 / 7 / 8));
  assert.ok(Number.isNaN(meanAndStandardError([3]).se));
});

test('one-way ANOVA matches the hand computation (F = 13, p from the F(2, 6) survival function)', () => {
  const r = oneWayAnova({ a: [1, 2, 3], b: [2, 3, 4], c: [5, 6, 7] });
  close(r.statistic, 13, 1e-9);
  // For df1 = 2 the F survival function is (1 + 2F/df2)^(-df2/2).
  close(r.pValue, (1 + (2 * 13) / 6) ** -3, 1e-9);
  assert.equal(r.groups, 3);
});

test('Kruskal-Wallis matches the hand computation (H = 7.2, p = exp(-H/2) for 3 groups)', () => {
  const r = kruskalWallis({ a: [1, 2, 3], b: [4, 5, 6], c: [7, 8, 9] });
  close(r.statistic, 7.2, 1e-9);
  close(r.pValue, Math.exp(-3.6), 1e-6);
});

test('identical values in every group: nothing to test, p = 1', () => {
  assert.equal(oneWayAnova({ a: [20, 20], b: [20, 20] }).pValue, 1);
  assert.equal(kruskalWallis({ a: [20, 20], b: [20, 20] }).pValue, 1);
});

test('paired t-test matches a t(4) computed independently', () => {
  const x = [4, 4, 6, 6, 5];
  const y = [5, 5, 5.5, 7, 5.8];
  const r = pairedComparison(x, y);
  const d = x.map((v, i) => v - y[i]);
  const mean = d.reduce((a, b) => a + b) / 5;
  const sd = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / 4);
  const t = mean / (sd / Math.sqrt(5));
  close(r.tStatistic, t, 1e-9);
  // Student t CDF with 4 degrees of freedom in closed form.
  const cdf4 = (s: number) => 0.5 + (3 / 8) * (s / Math.sqrt(1 + s * s / 4)) * (1 - (s * s) / (12 * (1 + s * s / 4)));
  close(r.tPValue, 2 * cdf4(-Math.abs(t)), 1e-7);
  close(r.meanDifference, -0.66, 1e-12);
  assert.ok(r.wilcoxonPValue > 0 && r.wilcoxonPValue <= 1);
});

test('Wilcoxon signed-rank p-values are exact, with ties and zeros too (p: scipy 1.17 wilcoxon, zero_method wilcox, PermutationMethod over all sign patterns; statistic: T+)', () => {
  const cases: Array<{ x: number[]; y: number[]; statistic: number; p: number }> = [
    // Five tied positive differences (IWAE vs VAE active units at one init): 2 / 2^5, not the normal approximation's 0.037.
    { x: [21, 21, 20, 21, 21], y: [14, 15, 14, 14, 15], statistic: 15, p: 0.0625 },
    // Ties and a zero (dropped): 10 of the 64 sign patterns of the 6 non-zero differences are as extreme.
    { x: [3, 5, 2, 7, 7, 1, 4], y: [1, 5, 3, 4, 4, 2, 1], statistic: 18, p: 0.15625 },
    { x: [10, 12, 11, 14, 9, 13, 12, 15], y: [9, 10, 12, 11, 9, 11, 10, 12], statistic: 26.5, p: 0.046875 },
    // Zeros dropped before ranking (Wilcoxon's rule; Pratt's, which ranks them, gives 0.40625 and 0.875).
    { x: [2, 2, 5, 1, 6, 0, 3, 3], y: [2, 1, 2, 3, 2, 1, 3, 2], statistic: 15, p: 0.4375 },
    { x: [1, 1, 1, 9, 2, 3, 1], y: [1, 1, 1, 2, 4, 1, 2], statistic: 6.5, p: 0.75 },
    // No ties: scipy's exact distribution.
    { x: [1.5, 2.25, 3.25, 4.75, 5.25, 7], y: [0.5, 3, 1, 3, 2, 4], statistic: 20, p: 0.0625 },
    // T+ at the centre of its distribution: p = 1 (not more).
    { x: [4, 3, 8], y: [5, 5, 5], statistic: 3, p: 1 },
    // Every pair equal (two inits that kept the same units at every seed): no evidence either way.
    { x: [20, 21, 19], y: [20, 21, 19], statistic: 0, p: 1 },
  ];
  for (const c of cases) {
    const r = pairedComparison(c.x, c.y);
    close(r.wilcoxonPValue, c.p, 1e-12);
    assert.equal(r.wilcoxonStatistic, c.statistic);
  }
});

test('Wilcoxon without ties or zeros: the exact p equals stdlib\'s exact distribution (capped at 1)', () => {
  // Deterministic, irregular values: no two differences share a magnitude.
  for (let trial = 0; trial < 200; trial++) {
    const n = 2 + (trial % 11);
    const x = Array.from({ length: n }, (_, i) => Math.sin(1.7 * trial + 3.1 * i));
    const y = Array.from({ length: n }, (_, i) => Math.cos(2.3 * trial + 0.7 * i));
    const r = pairedComparison(x, y);
    const reference = wilcoxon(x, y, { zeroMethod: 'wilcox' });
    close(r.wilcoxonPValue, Math.min(1, reference.pValue), 1e-12);
    assert.equal(r.wilcoxonStatistic, reference.statistic);
  }
});

test('paired comparison rejects mismatched lengths', () => {
  assert.throws(() => pairedComparison([1, 2], [1]), /equal lengths/);
});
