import type { GridRun } from './grids';
import type { RunRecord } from './results';

/**
 * How much of a grid has finished in a results directory: what notebooks and `iwae report` say before an
 * analysis of a partly finished grid (the paper grid is trained over many sessions), so a reader knows
 * which settings its numbers rest on and what is still to come.
 */
export interface GridCoverage {
  total: number;
  completed: number;
  /** Diverged (NaN/Inf): an outcome, left out of the analysis. */
  failed: number;
  /** No outcome yet: never started, resumable, held by a live process, or damaged. */
  missing: number;
  /** One row per setting (model, k, init), in the grid's order. */
  settings: CoverageRow[];
}

export interface CoverageRow {
  model: string;
  k: number;
  init: string;
  runs: number;
  completed: number;
  failed: number;
  missing: number;
}

export function gridCoverage(runs: readonly GridRun[], records: readonly RunRecord[]): GridCoverage {
  const status = new Map(records.map((r) => [r.id, r.status]));
  const rows = new Map<string, CoverageRow>();
  for (const run of runs) {
    const { model, k, init } = run.config;
    const key = `${model}/${k}/${init}`;
    const row = rows.get(key) ?? { model, k, init, runs: 0, completed: 0, failed: 0, missing: 0 };
    row.runs++;
    const s = status.get(run.id);
    if (s === 'completed') row.completed++;
    else if (s === 'failed') row.failed++;
    else row.missing++;
    rows.set(key, row);
  }
  const settings = [...rows.values()];
  const sum = (f: (r: CoverageRow) => number) => settings.reduce((a, r) => a + f(r), 0);
  return { total: runs.length, completed: sum((r) => r.completed), failed: sum((r) => r.failed), missing: sum((r) => r.missing), settings };
}

/**
 * One paragraph: how many runs have an outcome and, when some are missing, which settings are not
 * finished and how to train them. `trainCommand` is what the reader runs (a CLI line or a notebook parameter).
 */
export function coverageSentence(coverage: GridCoverage, gridName: string, trainCommand: string): string {
  const done = `${coverage.completed + coverage.failed} of ${coverage.total} runs of the ${gridName} grid have finished (${coverage.completed} completed, ${coverage.failed} diverged)`;
  if (coverage.missing === 0) return `${done}: the grid is complete.`;
  const open = coverage.settings.filter((r) => r.missing > 0).map((r) => `${r.model} k=${r.k} ${r.init} (${r.missing})`);
  const withSome = coverage.settings.filter((r) => r.missing < r.runs).length;
  return (
    `${done}; ${coverage.missing} ${coverage.missing === 1 ? 'is' : 'are'} missing, in ${open.length} setting${open.length === 1 ? '' : 's'}: ${open.join(', ')}. ` +
    `Everything below uses the finished runs only (${withSome} of ${coverage.settings.length} settings ${withSome === 1 ? 'has' : 'have'} some); ` +
    `a claim that needs a missing setting reads "not shown". To train the missing runs: ${trainCommand}.`
  );
}
