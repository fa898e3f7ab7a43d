import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRow } from '../../lib/analysis/run-table';
import { summarizeBySetting, summaryFrame } from '../../lib/analysis/summaries';
import { initEffects, pairedModelComparison } from '../../lib/analysis/experiment1';
import { seedStability } from '../../lib/analysis/experiment2';
import { claimInitHasMinimalEffect, claimIwaeMoreActiveUnits, claimStableTotalVaryingUnits, kOneAblation } from '../../lib/analysis/claims';
import { createStream } from '../../lib/random/streams';
import { studyTables, type StudyAnalysis } from '../../lib/report/study-report';
import { formatTable } from '../../lib/notebook/table';

const INITS = ['he-normal', 'he-uniform', 'xavier-normal', 'xavier-uniform'];
const SEEDS = [10, 32, 135, 630, 924];

/** Activity vector with the given units active (A_u = 1) and the rest collapsed (A_u = 1e-4). */
function activity(active: number[]): number[] {
  return Array.from({ length: 50 }, (_, u) => (active.includes(u) ? 1 : 1e-4));
}

function row(model: string, k: number, init: string, seed: number, active: number[], nll = 90): RunRow {
  return {
    id: `${model}-k${k}-${init}-s${seed}`,
    model, k, init, seed, epochs: 3,
    activeUnitsTrain: active.length, activeUnitsTest: active.length,
    trainLoss: nll + 2, testLoss: nll + 1, testStudyLoss: nll, testRecon: nll - 20, testKL: 20,
    finalBound: nll + 0.5, nll, finalK: 500, activityTrain: activity(active),
  };
}

/** Units 0..n-1 rotated by `shift`, so different seeds pick different units. */
const units = (n: number, shift: number) => Array.from({ length: n }, (_, i) => (i * 7 + shift) % 50);

function grid(activeCount: (model: string, k: number, init: string, seed: number) => number): RunRow[] {
  const rows: RunRow[] = [];
  for (const model of ['vae', 'iwae']) for (const k of [1, 5]) for (const init of INITS) for (const seed of SEEDS) {
    rows.push(row(model, k, init, seed, units(activeCount(model, k, init, seed), seed)));
  }
  return rows;
}

test('summaries: mean and SE across seeds per (model, k, init) match a direct computation', () => {
  const rows = grid((model, k, init, seed) => 15 + (seed % 3));
  const summary = summarizeBySetting(rows);
  assert.equal(summary.length, 16);
  const s = summary.find((x) => x.model === 'iwae' && x.k === 5 && x.init === 'he-normal');
  assert.ok(s);
  const values = SEEDS.map((seed) => 15 + (seed % 3)); // 16, 17, 15, 15, 15
  const mean = values.reduce((a, b) => a + b) / 5;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 4);
  assert.ok(Math.abs(s.mean.activeUnitsTrain - mean) < 1e-12);
  assert.ok(Math.abs(s.se.activeUnitsTrain - sd / Math.sqrt(5)) < 1e-12);
  assert.equal(s.seeds, 5);
  // The frame behind summary-by-setting.csv keeps every digit: rounding is for display only.
  const frame = summaryFrame(summary);
  const record = (frame.toJSON() as Array<Record<string, number | string>>).find((r) => r.model === 'iwae' && r.k === 5 && r.init === 'he-normal')!;
  assert.equal(record.activeUnitsTrainSE, s.se.activeUnitsTrain);
  assert.equal(record.nll, s.mean.nll);
});

test('claim 1 is supported when IWAE k=5 has more units than VAE k=5 in every pair, and not shown when equal', () => {
  const more = grid((model, k, init, seed) => (model === 'iwae' && k === 5 ? 22 + (seed % 2) : 19 + (seed % 2)));
  const c = claimIwaeMoreActiveUnits(more);
  assert.equal(c.verdict, 'supported');
  assert.match(c.sentence, /Over 20 pairs/);
  const same = grid(() => 20);
  assert.equal(claimIwaeMoreActiveUnits(same).verdict, 'not shown');
  const fewer = grid((model, k) => (model === 'iwae' && k === 5 ? 15 : 20));
  assert.equal(claimIwaeMoreActiveUnits(fewer).verdict, 'contradicted');
});

test('claim 1 on one init\'s 5 seeds (a partial grid): not shown, because 5 pairs cannot reach significance, and the sentence says so', () => {
  const oneInit = grid((model, k, init, seed) => (model === 'iwae' && k === 5 ? 21 : 14 + (seed % 2))).filter((r) => r.init === 'he-normal');
  const c = claimIwaeMoreActiveUnits(oneInit);
  assert.equal(c.verdict, 'not shown');
  assert.match(c.sentence, /Over 5 pairs .* more in 5 of 5 pairs .*Wilcoxon p = 0\.063.*: with 5 pairs that differ the Wilcoxon signed-rank test cannot reach α = 0\.05 \(its smallest p is 0\.0625\)/);
  // Pairs with no difference do not count: 7 pairs, 5 that differ, still cannot reach it.
  const withTies = [...oneInit, ...grid(() => 18).filter((r) => r.k === 5 && r.init === 'he-uniform' && (r.seed === 10 || r.seed === 32))];
  const tied = claimIwaeMoreActiveUnits(withTies);
  assert.equal(tied.verdict, 'not shown');
  assert.match(tied.sentence, /Over 7 pairs .* more in 5 of 7 pairs .*: with 5 pairs that differ .*cannot reach α = 0\.05/);
  // Six pairs can: the usual reading comes back.
  const sixPairs = grid((model, k, init, seed) => (model === 'iwae' && k === 5 ? 21 : seed % 2 === 0 && init === 'he-uniform' ? 22 : 14)).filter((r) => r.init === 'he-normal' || (r.init === 'he-uniform' && r.seed === 10));
  const six = claimIwaeMoreActiveUnits(sixPairs);
  assert.match(six.sentence, /Over 6 pairs .* more in 5 of 6 pairs/);
  assert.match(six.sentence, /not significant at α = 0\.05\.$/);
});

test('claim 2: an init that changes the count is detected; seed-only noise is not', () => {
  const noEffect = grid((model, k, init, seed) => 18 + (seed % 4));
  assert.equal(claimInitHasMinimalEffect(noEffect).verdict, 'supported');
  const effect = grid((model, k, init, seed) => (init.startsWith('he') ? 25 : 15) + (seed % 2));
  const c = claimInitHasMinimalEffect(effect);
  assert.equal(c.verdict, 'contradicted');
  const effects = initEffects(effect);
  assert.equal(effects.length, 4);
  assert.ok(effects.every((e) => e.kruskal.pValue < 0.01 && e.anova.pValue < 0.001));

  // A partly trained grid with only He inits finished: the claim (Xavier vs He) is not shown, not supported.
  const heOnly = grid((model, k, init, seed) => 18 + (seed % 4)).filter((r) => r.init.startsWith('he-') && r.model === 'iwae' && r.k === 1);
  const partial = claimInitHasMinimalEffect(heOnly);
  assert.equal(partial.verdict, 'not shown');
  assert.match(partial.sentence, /^Across 1 \(model, k\) setting, .*no significant init effect, but in each setting the finished inits are of one family; the claim compares Xavier with He/);
  // Xavier-only in one setting and He-only in another: still one family per setting.
  const xavierOnly = grid((model, k, init, seed) => 18 + (seed % 4)).filter((r) => r.init.startsWith('xavier-') && r.model === 'vae' && r.k === 1);
  assert.equal(claimInitHasMinimalEffect([...heOnly, ...xavierOnly]).verdict, 'not shown');
  // One He and one Xavier init are enough to read it.
  const mixed = [...heOnly, ...grid((model, k, init, seed) => 18 + (seed % 4)).filter((r) => r.model === 'vae' && r.k === 5 && (r.init === 'he-normal' || r.init === 'xavier-uniform'))];
  const read = claimInitHasMinimalEffect(mixed);
  assert.equal(read.verdict, 'supported');
  assert.match(read.sentence, /^Across 2 \(model, k\) settings, .*\(1 of them with Xavier and He inits\), consistent with the claim\.$/);
  // An effect in a one-family setting (he-uniform vs he-normal) still contradicts it: uniform vs normal is part of the claim.
  const normalMatters = [...grid((model, k, init, seed) => 18 + (seed % 4)).filter((r) => r.model === 'iwae' && r.k === 1 && (r.init === 'he-normal' || r.init === 'xavier-uniform')),
    ...grid((model, k, init, seed) => (init === 'he-normal' ? 30 : 10) + (seed % 2)).filter((r) => r.model === 'vae' && r.k === 5 && r.init.startsWith('he-'))];
  assert.equal(claimInitHasMinimalEffect(normalMatters).verdict, 'contradicted');

  // Every unit active in every run: no init could differ, so the claim is not shown (not supported).
  const ceiling = claimInitHasMinimalEffect(grid(() => 50));
  assert.equal(ceiling.verdict, 'not shown');
  assert.match(ceiling.sentence, /ceiling/);
});

test('claim 3: stable totals with seed-dependent units are supported; identical units contradict it', () => {
  const varying = grid(() => 20);
  const stability = seedStability(varying, createStream(1, 'overlap-null'), { draws: 500 });
  assert.equal(stability.length, 16);
  assert.deepEqual(stability[0].counts, [20, 20, 20, 20, 20]);
  assert.equal(claimStableTotalVaryingUnits(stability).verdict, 'supported');

  const identical: RunRow[] = varying.map((r) => ({ ...r, activityTrain: activity(units(20, 0)) }));
  const c = claimStableTotalVaryingUnits(seedStability(identical, createStream(1, 'overlap-null'), { draws: 500 }));
  assert.equal(c.verdict, 'contradicted');
  assert.match(c.sentence, /16 identical across all seeds/);

  // 49 of 50 units active, a different one missing per seed: random sets would overlap as much.
  const nearlyAll: RunRow[] = varying.map((r) => ({ ...r, activityTrain: activity(units(49, r.seed)) }));
  const early = claimStableTotalVaryingUnits(seedStability(nearlyAll, createStream(1, 'overlap-null'), { draws: 500 }));
  assert.equal(early.verdict, 'not shown');
  assert.match(early.sentence, /cannot vary yet/);

  // Seeds that avoid each other's units (10 disjoint units each): the units vary, and the sentence says
  // the overlap is below chance rather than hiding it in "not above chance".
  const SEED_INDEX = new Map(SEEDS.map((s, i) => [s, i]));
  const disjoint: RunRow[] = varying.map((r) => ({ ...r, activeUnitsTrain: 10, activityTrain: activity(Array.from({ length: 10 }, (_, i) => 10 * SEED_INDEX.get(r.seed)! + i)) }));
  const apart = claimStableTotalVaryingUnits(seedStability(disjoint, createStream(1, 'overlap-null'), { draws: 500 }));
  assert.equal(apart.verdict, 'supported');
  assert.match(apart.sentence, /\(0\/16 settings above chance, 16 below it at α = 0\.05; 0 identical across all seeds\)/);
  assert.doesNotMatch(claimStableTotalVaryingUnits(stability).sentence, /below it/);
});

test('paired comparison matches by seed and init, never across them', () => {
  const rows = grid((model, k, init, seed) => (model === 'iwae' ? seed : seed - 1) % 50);
  const c = pairedModelComparison(rows, 'iwae', 'vae', 5, 'activeUnitsTrain');
  assert.ok(c);
  assert.equal(c.test.n, 20);
  assert.equal(c.test.meanDifference, 1);
});

test('k=1 ablation says so when the sampled-KL runs are missing, and reads them when present', () => {
  const rows = grid(() => 20);
  assert.match(kOneAblation(rows).sentence, /--extras/);
  const withSampled = rows.concat(
    INITS.flatMap((init) => SEEDS.map((seed) => row('vae-sampled-kl', 1, init, seed, units(20, seed), 95 + (seed % 3)))),
  );
  const ablation = kOneAblation(withSampled.map((r) => (r.model === 'iwae' && r.k === 1 ? { ...r, nll: 95 + (r.seed % 3) } : r)));
  assert.ok(ablation.closedVsSampled && ablation.sampledVsIwae);
  assert.equal(ablation.closedVsSampled.test.n, 20);
  assert.match(ablation.sentence, /The KL estimator explains/);
});

test('the study tables behind the CSVs hold numbers at full precision; the shown table merges mean ± SE', () => {
  const rows = grid((model, k, init, seed) => 15 + (seed % 3) + (init === 'he-normal' ? 1 : 0));
  const analysis = { summary: summarizeBySetting(rows), initEffects: initEffects(rows), stability: seedStability(rows, createStream(1, 'overlap-null'), { draws: 200 }), claims: [] } as unknown as StudyAnalysis;
  const tables = studyTables(analysis);
  const init = (tables['experiment1-init-effect'].toJSON() as Array<Record<string, unknown>>).find((r) => r.model === 'iwae' && r.k === 5)!;
  const effect = analysis.initEffects.find((e) => e.model === 'iwae' && e.k === 5)!;
  assert.equal(init['he-normal'], effect.byInit['he-normal'].mean);
  assert.equal(init['he-normalSE'], effect.byInit['he-normal'].se);
  const stability = (tables['experiment2-seed-stability'].toJSON() as Array<Record<string, unknown>>)[0];
  assert.equal(stability.jaccard, analysis.stability[0].overlap.observed);
  assert.equal(stability.belowChanceP, analysis.stability[0].overlap.pValueBelow);
  const shown = formatTable(tables['experiment1-init-effect'].toJSON() as Array<Record<string, string | number | null>>);
  assert.ok(shown.headers.includes('he-normal ± SE') && !shown.headers.some((h) => h.startsWith('he-normalSE')), shown.headers.join(','));
  assert.match(shown.cells[0][shown.headers.indexOf('he-normal ± SE')], /^\d+\.\d+ ± \d+\.\d+$/);
});
