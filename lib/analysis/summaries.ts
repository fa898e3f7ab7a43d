import * as dfd from 'danfojs-node';
import type { RunRow } from './run-table';

/** The per-configuration metrics summarized across seeds. */
export const SUMMARY_METRICS = ['activeUnitsTrain', 'activeUnitsTest', 'testLoss', 'testStudyLoss', 'finalBound', 'nll', 'testKL'] as const;
export type SummaryMetric = (typeof SUMMARY_METRICS)[number];

/** Column headers for the summary in notebooks (the CSV keeps the camelCase keys). */
export const SUMMARY_LABELS: Record<string, string> = {
  activeUnitsTrain: 'active units (train)',
  activeUnitsTest: 'active units (test)',
  testLoss: 'test loss',
  testStudyLoss: 'test loss (study)',
  finalBound: '−L_k',
  nll: 'NLL',
  testKL: 'KL (test)',
};

export interface SummaryRow {
  model: string;
  k: number;
  init: string;
  seeds: number;
  /** metric -> mean across seeds, and its standard error (sample sd / sqrt(n); NaN for one seed). */
  mean: Record<SummaryMetric, number>;
  se: Record<SummaryMetric, number>;
}

/** The scalar columns of the rows as a danfo DataFrame (vectors such as activity are left out). */
export function runFrame(rows: readonly RunRow[]): dfd.DataFrame {
  return new dfd.DataFrame(
    rows.map((r) => ({
      id: r.id,
      model: r.model,
      k: r.k,
      init: r.init,
      seed: r.seed,
      activeUnitsTrain: r.activeUnitsTrain,
      activeUnitsTest: r.activeUnitsTest,
      testLoss: r.testLoss,
      testStudyLoss: r.testStudyLoss,
      finalBound: r.finalBound,
      nll: r.nll,
      testKL: r.testKL,
    })),
  );
}

/** Mean and standard error across seeds per (model, k, init), computed with danfo's groupby. */
export function summarizeBySetting(rows: readonly RunRow[], keys: Array<'model' | 'k' | 'init'> = ['model', 'k', 'init']): SummaryRow[] {
  if (rows.length === 0) return [];
  const spec: Record<string, string[]> = {};
  for (const m of SUMMARY_METRICS) spec[m] = ['mean', 'std', 'count'];
  const grouped = runFrame(rows).groupby(keys).agg(spec);
  const records = dfd.toJSON(grouped) as Array<Record<string, number | string>>;
  const out = records.map((rec) => {
    const mean = {} as Record<SummaryMetric, number>;
    const se = {} as Record<SummaryMetric, number>;
    let seeds = 0;
    for (const m of SUMMARY_METRICS) {
      const n = Number(rec[`${m}_count`]);
      seeds = n;
      mean[m] = Number(rec[`${m}_mean`]);
      se[m] = n > 1 ? Number(rec[`${m}_std`]) / Math.sqrt(n) : NaN;
    }
    return {
      model: String(rec.model ?? 'all'),
      k: rec.k === undefined ? NaN : Number(rec.k),
      init: String(rec.init ?? 'all'),
      seeds,
      mean,
      se,
    };
  });
  return out.sort((a, b) => a.model.localeCompare(b.model) || a.k - b.k || a.init.localeCompare(b.init));
}

/** The summary as a flat table (one column per mean and SE), at full precision: shown rounded, written to CSV as is. */
export function summaryFrame(summary: readonly SummaryRow[]): dfd.DataFrame {
  return new dfd.DataFrame(
    summary.map((s) => {
      const row: Record<string, string | number> = { model: s.model, k: s.k, init: s.init, seeds: s.seeds };
      for (const m of SUMMARY_METRICS) {
        row[m] = s.mean[m];
        row[`${m}SE`] = s.se[m];
      }
      return row;
    }),
  );
}
