import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activeSet,
  activeSetOverlapTest,
  expectedRandomJaccard,
  jaccard,
  jaccardMatrix,
  meanPairwiseJaccard,
} from '../../lib/analysis/unit-overlap';
import { createStream } from '../../lib/random/streams';

test('active sets use a strict threshold on A_u', () => {
  assert.deepEqual(activeSet([0.5, 0.01, 0.0099, 2, 0.011], 0.01), [0, 3, 4]);
});

test('Jaccard on hand-made sets', () => {
  assert.equal(jaccard([1, 2, 3], [2, 3, 4]), 2 / 4);
  assert.equal(jaccard([1], [2]), 0);
  assert.equal(jaccard([], []), 1);
  assert.deepEqual(jaccardMatrix([[1, 2], [2, 3], [1, 2]]), [
    [1, 1 / 3, 1],
    [1 / 3, 1, 1 / 3],
    [1, 1 / 3, 1],
  ]);
  assert.equal(meanPairwiseJaccard([[1, 2], [2, 3], [1, 2]]), (1 / 3 + 1 + 1 / 3) / 3);
});

function subsets(n: number, size: number): number[][] {
  const out: number[][] = [];
  const rec = (start: number, acc: number[]) => {
    if (acc.length === size) return void out.push([...acc]);
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  return out;
}

test('the exact null expectation equals brute-force enumeration of all subset pairs', () => {
  for (const [a, b, n] of [[2, 3, 6], [3, 3, 7], [1, 4, 5], [4, 4, 8]]) {
    const A = subsets(n, a);
    const B = subsets(n, b);
    let sum = 0;
    for (const x of A) for (const y of B) sum += jaccard(x, y);
    const brute = sum / (A.length * B.length);
    assert.ok(Math.abs(expectedRandomJaccard(a, b, n) - brute) < 1e-12, `${a},${b},${n}`);
  }
});

test('identical active sets across seeds are far above chance; random sets are not', () => {
  const same = Array.from({ length: 5 }, () => [0, 3, 7, 9, 12, 20, 21, 30, 33, 41]);
  const reproducible = activeSetOverlapTest(same, 50, createStream(1, 'overlap-null'), 2000);
  assert.equal(reproducible.observed, 1);
  assert.ok(reproducible.pValue < 0.001);
  assert.ok(Math.abs(reproducible.expectedUnderNull - expectedRandomJaccard(10, 10, 50)) < 1e-12);

  const drawStream = createStream(2, 'synthetic-mnist');
  const random = Array.from({ length: 5 }, () => {
    const units = Array.from({ length: 50 }, (_, i) => i);
    for (let i = 49; i > 0; i--) {
      const j = Math.floor(drawStream.uniform() * (i + 1));
      [units[i], units[j]] = [units[j], units[i]];
    }
    return units.slice(0, 20);
  });
  const chance = activeSetOverlapTest(random, 50, createStream(1, 'overlap-null'), 2000);
  assert.ok(chance.pValue > 0.01, `p = ${chance.pValue}`);
  assert.ok(Math.abs(chance.observed - chance.expectedUnderNull) < 0.15);
});

test('seeds that avoid each other\'s units (disjoint active sets) are below chance; the two tails cover every draw', () => {
  // Five disjoint sets of 10 of 50 units: Jaccard 0 for every pair, where random sets of 10 share ~1/9.
  const disjoint = Array.from({ length: 5 }, (_, s) => Array.from({ length: 10 }, (_, i) => 10 * s + i));
  const apart = activeSetOverlapTest(disjoint, 50, createStream(3, 'overlap-null'), 2000);
  assert.equal(apart.observed, 0);
  assert.ok(apart.pValueBelow < 0.001, `below: p = ${apart.pValueBelow}`);
  assert.ok(apart.pValue > 0.99, `above: p = ${apart.pValue}`);
  const same = activeSetOverlapTest(Array.from({ length: 5 }, () => disjoint[0]), 50, createStream(3, 'overlap-null'), 2000);
  assert.ok(same.pValueBelow > 0.99 && same.pValue < 0.001);
});

test('the permutation test is reproducible from its stream', () => {
  const sets = [[1, 2, 3, 4, 5], [1, 2, 3, 8, 9], [2, 3, 4, 10, 11]];
  const a = activeSetOverlapTest(sets, 50, createStream(7, 'overlap-null'), 500);
  const b = activeSetOverlapTest(sets, 50, createStream(7, 'overlap-null'), 500);
  assert.deepEqual(a, b);
});
