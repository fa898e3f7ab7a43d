import { relative } from 'node:path';
import { runProfileGrid, type ProfileGridOptions } from '../experiments/profile-grid';
import type { GridSummary } from '../experiments/grid-runner';
import { coverageSentence, gridCoverage, type GridCoverage } from '../experiments/grid-coverage';
import { gridRuns } from '../experiments/grids';
import { leftOutWarning, readResults, type RunRecord } from '../experiments/results';
import { claimInterrupts, HandledInterrupt } from './interrupt';
import { kernelDisplayWriter } from './kernel';
import { GridProgressDisplay } from './progress';

/** What an interrupted grid says, in one line. */
export function interruptedLine(summary: Pick<GridSummary, 'completed' | 'unfinished' | 'total'>): string {
  return (
    `interrupted: ${summary.completed.length} of ${summary.total} runs finished, ${summary.unfinished.length} resumable ` +
    `(finished epochs are checkpointed; run the cell again to continue)`
  );
}

/**
 * A profile's grid as notebooks 03-06 run it: missing runs are trained with a live progress bar and the
 * "waiting for a run held by another process" lines; Kernel > Interrupt stops the workers (their finished
 * epochs stay checkpointed) and says so in one line instead of tslab's stack trace.
 */
export async function runNotebookGrid(options: Omit<ProfileGridOptions, 'log' | 'onEvent' | 'signal'>): Promise<{ summary: GridSummary; records: RunRecord[] }> {
  const inKernel = kernelDisplayWriter() !== undefined;
  const progress = new GridProgressDisplay(`${options.profile.name} grid`);
  const controller = new AbortController();
  const onSigint = () => controller.abort('interrupted');
  // Only after the cell's synchronous start: tslab runs it under vm's breakOnSigint, whose teardown puts
  // back the SIGINT disposition it found, silently disabling a listener added meanwhile (Node), and
  // Kernel > Interrupt would then kill the kernel instead of stopping the grid.
  await new Promise((resolve) => setImmediate(resolve));
  process.on('SIGINT', onSigint);
  // The interrupt is ours to report (lib/notebook/interrupt.ts keeps tslab's stack trace out of the cell).
  const releaseInterrupts = claimInterrupts();
  const completedLine = /^\[\d+\/\d+\] \S+ completed/;
  let result: { summary: GridSummary; records: RunRecord[] } | undefined;
  let failure: unknown;
  try {
    result = await runProfileGrid({
      ...options,
      signal: controller.signal,
      onEvent: inKernel ? (event) => progress.onEvent(event) : undefined,
      // The bar replaces the line per finished run; the interrupt line replaces the summary.
      log: (line) => {
        if (controller.signal.aborted && /^\S+ grid: /.test(line)) return;
        if (!inKernel || !completedLine.test(line)) console.log(line);
      },
    });
  } catch (err) {
    failure = err;
  } finally {
    process.off('SIGINT', onSigint);
    releaseInterrupts();
    progress.close({ interrupted: controller.signal.aborted || Boolean(result?.summary.interrupted) });
  }
  if (controller.signal.aborted || result?.summary.interrupted) {
    const line = result ? interruptedLine(result.summary) : 'interrupted: the grid stopped; finished epochs are checkpointed, run the cell again to continue';
    console.log(line);
    // tslab has already ended the cell; the rejection keeps any code after the grid from running.
    throw new HandledInterrupt(line);
  }
  if (failure !== undefined) throw failure;
  return result!;
}

/**
 * The grid of notebooks 03-06: with `trainMissing`, runNotebookGrid (trains what is missing, live
 * progress); without, the runs that have finished in `resultsDir` (the shipped paper results), and a
 * paragraph saying what is still missing and how to train it. Nothing blocks for hours unless asked.
 */
export async function notebookGrid(
  options: Omit<ProfileGridOptions, 'log' | 'onEvent' | 'signal'> & { trainMissing: boolean },
): Promise<{ records: RunRecord[]; coverage: GridCoverage }> {
  const { trainMissing, ...gridOptions } = options;
  const runs = gridRuns(options.profile, { experiment: options.experiment, extras: options.extras });
  let records: RunRecord[];
  if (trainMissing) {
    records = (await runNotebookGrid(gridOptions)).records;
  } else {
    records = readResults(options.resultsDir, { ids: runs.map((r) => r.id) });
    for (const record of records) {
      const warning = leftOutWarning(record);
      if (warning) console.log(warning);
    }
  }
  const coverage = gridCoverage(runs, records);
  const where = relative(process.cwd(), options.resultsDir) || '.';
  const experiment = options.experiment && options.experiment !== 'all' ? ` --experiment ${options.experiment}` : '';
  const command =
    `set \`trainMissing = true\` in the parameters cell, or from a terminal ` +
    `\`node bin/iwae.js grid --profile ${options.profile.name}${experiment}${options.extras ? ' --extras' : ''} --results ${where}\``;
  // Experiment 3 has runs of its own: its coverage is not the study's grid's.
  const gridName = options.experiment === '3' ? `${options.profile.name} Experiment 3` : options.profile.name;
  console.log(coverageSentence(coverage, gridName, command));
  return { records, coverage };
}
