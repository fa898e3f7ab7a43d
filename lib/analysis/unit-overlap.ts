import hypergeometricPmf from '@stdlib/stats-base-dists-hypergeometric-pmf';
import type { RandomStream } from '../random/streams';

/** Indices of the units whose activity A_u exceeds the threshold. */
export function activeSet(activity: readonly number[], threshold: number): number[] {
  const out: number[] = [];
  activity.forEach((a, u) => {
    if (a > threshold) out.push(u);
  });
  return out;
}

/** |A ∩ B| / |A ∪ B|; two empty sets are identical (1). */
export function jaccard(a: readonly number[], b: readonly number[]): number {
  const setB = new Set(b);
  const intersection = a.filter((u) => setB.has(u)).length;
  const union = a.length + b.length - intersection;
  return union === 0 ? 1 : intersection / union;
}

/** Jaccard index of every pair of sets (symmetric matrix, 1 on the diagonal). */
export function jaccardMatrix(sets: readonly (readonly number[])[]): number[][] {
  return sets.map((a) => sets.map((b) => jaccard(a, b)));
}

export function meanPairwiseJaccard(sets: readonly (readonly number[])[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      sum += jaccard(sets[i], sets[j]);
      pairs++;
    }
  }
  return pairs === 0 ? NaN : sum / pairs;
}

/**
 * Expected Jaccard index of two sets of sizes a and b drawn uniformly at random from `units` units:
 * the intersection is hypergeometric, so the expectation is an exact finite sum.
 */
export function expectedRandomJaccard(a: number, b: number, units: number): number {
  if (a === 0 && b === 0) return 1;
  let expectation = 0;
  for (let i = Math.max(0, a + b - units); i <= Math.min(a, b); i++) {
    expectation += hypergeometricPmf(i, units, a, b) * (i / (a + b - i));
  }
  return expectation;
}

function randomSubset(size: number, units: number, stream: RandomStream): number[] {
  const pool = Array.from({ length: units }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(stream.uniform() * (units - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, size);
}

export interface OverlapTest {
  observed: number;
  /** Exact mean of the null: the average over pairs of expectedRandomJaccard. */
  expectedUnderNull: number;
  /** One-sided permutation p-value for "more overlap than chance": (1 + #{null >= observed}) / (1 + draws). */
  pValue: number;
  /** The other tail, "less overlap than chance" (seeds avoiding each other's units): (1 + #{null <= observed}) / (1 + draws). */
  pValueBelow: number;
  draws: number;
}

/**
 * Is the choice of active units reproducible across seeds? Compares the observed mean pairwise Jaccard
 * of the active sets with sets of the same sizes drawn at random from all units (permutation null).
 */
export function activeSetOverlapTest(
  sets: readonly (readonly number[])[],
  units: number,
  stream: RandomStream,
  draws = 10_000,
): OverlapTest {
  const observed = meanPairwiseJaccard(sets);
  const sizes = sets.map((s) => s.length);
  let expected = 0;
  let pairs = 0;
  for (let i = 0; i < sizes.length; i++) {
    for (let j = i + 1; j < sizes.length; j++) {
      expected += expectedRandomJaccard(sizes[i], sizes[j], units);
      pairs++;
    }
  }
  let atLeast = 0;
  let atMost = 0;
  // A small tolerance so that ties with the observed value (common: Jaccard takes few values) count.
  for (let d = 0; d < draws; d++) {
    const nullSets = sizes.map((s) => randomSubset(s, units, stream));
    const jaccard = meanPairwiseJaccard(nullSets);
    if (jaccard >= observed - 1e-12) atLeast++;
    if (jaccard <= observed + 1e-12) atMost++;
  }
  return { observed, expectedUnderNull: expected / pairs, pValue: (1 + atLeast) / (1 + draws), pValueBelow: (1 + atMost) / (1 + draws), draws };
}
