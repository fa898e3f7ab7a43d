import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { initialWeightScales } from '../../lib/model/weight-scales';

test('initial weight scales: one row per init and weight matrix, drawn std within 3% of the formula', () => {
  const inits = ['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal'] as const;
  const rows = initialWeightScales(STUDY_ARCHITECTURE, inits, 135);
  assert.equal(rows.length, inits.length * 6);
  for (const r of rows) assert.ok(Math.abs(r.empiricalStd / r.expectedStd - 1) < 0.03, `${r.init} ${r.layer}: ${r.empiricalStd} vs ${r.expectedStd}`);
  const first = rows.find((r) => r.init === 'he-normal' && r.layer === 'encoder 784→200')!;
  assert.ok(Math.abs(first.expectedStd - Math.sqrt(2 / 784)) < 1e-12);
});
