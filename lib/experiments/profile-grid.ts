import { availableParallelism } from 'node:os';
import { formatSeconds } from './grid-progress';
import { runGrid, type GridEvent, type GridSummary } from './grid-runner';
import { gridRuns, type ExperimentSelection } from './grids';
import type { Profile } from './profiles';
import { leftOutWarning, readResults, type RunRecord } from './results';
import type { WorkerSetup } from './worker-protocol';

export interface ProfileGridOptions {
  profile: Profile;
  experiment?: ExperimentSelection;
  extras?: boolean;
  resultsDir: string;
  mnist: WorkerSetup;
  /** Worker processes; default: one per core. */
  workers?: number;
  /** One line per finished run and at start/end (notebooks pass console.log). */
  log?: (line: string) => void;
  /** Every grid event as it happens (notebooks pass a live progress display). */
  onEvent?: (event: GridEvent) => void;
  /** Abort = stop the grid; finished epochs stay checkpointed (a notebook's interrupt). */
  signal?: AbortSignal;
}

/**
 * A profile's grid, run to the end and read back: what notebooks 03-06 call. Runs that already have an
 * outcome in `resultsDir` (from an earlier notebook run, `iwae grid` in a terminal, or a cluster) are
 * reused as they are, so re-executing a notebook costs only the missing runs. Returns exactly the
 * profile's runs, so other runs sharing the results directory never leak into its analysis.
 */
export async function runProfileGrid(options: ProfileGridOptions): Promise<{ summary: GridSummary; records: RunRecord[] }> {
  const runs = gridRuns(options.profile, { experiment: options.experiment, extras: options.extras });
  const log = options.log ?? (() => undefined);
  const summary = await runGrid({
    runs,
    resultsDir: options.resultsDir,
    workers: options.workers ?? availableParallelism(),
    mnist: options.mnist,
    signal: options.signal,
    onEvent: (event) => {
      options.onEvent?.(event);
      const line = describeEvent(event);
      if (line) log(line);
    },
  });
  log(
    `${options.profile.name} grid: ${summary.completed.length}/${summary.total} runs completed ` +
      `(${summary.ranNow.length} trained now, ${summary.total - summary.ranNow.length} reused) in ${formatSeconds(summary.seconds)}`,
  );
  if (summary.failed.length) log(`failed (NaN/Inf): ${summary.failed.map((f) => `${f.id}: ${f.failure.message}`).join('; ')}`);
  if (summary.errors.length) throw new Error(`grid runs hit errors: ${summary.errors.map((e) => `${e.id}: ${e.message}`).join('; ')}`);
  const records = readResults(options.resultsDir, { ids: runs.map((r) => r.id) });
  for (const record of records) {
    const warning = leftOutWarning(record);
    if (warning) log(warning);
  }
  return { summary, records };
}

function describeEvent(event: GridEvent): string | null {
  switch (event.type) {
    case 'start':
      return `${event.total} runs: ${event.alreadyDone} already done, ${event.toRun} to run on ${event.workers} workers`;
    case 'run-done':
      return event.by === 'this-grid'
        ? `[${event.done}/${event.total}] ${event.id} ${event.status}${event.seconds !== undefined ? ` in ${event.seconds.toFixed(1)} s` : ''}`
        : null;
    case 'run-error':
      return `[${event.done}/${event.total}] ${event.id} error: ${event.message}`;
    case 'damaged':
      return `${event.id}: ${event.problem}`;
    default:
      return null;
  }
}
