import { InvalidArgumentError, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DataFileError } from '../../data/errors';
import { EXPERIMENT_SELECTIONS, gridRuns, type ExperimentSelection } from '../../experiments/grids';
import { createGridReporter, formatSeconds } from '../../experiments/grid-progress';
import { runGrid, type GridSummary } from '../../experiments/grid-runner';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../experiments/profiles';
import { parseShard, selectShard, type Shard } from '../../experiments/shard';
import { UserError } from '../errors';
import { integerAtLeast, oneOf } from '../parse';
import { chosenMnistDir, DEFAULT_MNIST_CACHE, DEFAULT_RESULTS_DIR } from '../paths';


interface GridFlags {
  profile: ProfileName;
  experiment: ExperimentSelection;
  workers?: number;
  shard?: Shard;
  results?: string;
  retryFailed?: boolean;
  extras?: boolean;
  mnistDir?: string;
  list?: boolean;
}

function shardArgument(value: string): Shard {
  try {
    return parseShard(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function registerGridCommand(program: Command): void {
  program
    .command('grid')
    .description('train and evaluate every run of an experiment grid (resumable; several processes may share --results)')
    .option('--profile <name>', `scale: ${PROFILE_NAMES.join(', ')}`, oneOf(PROFILE_NAMES), 'quick')
    .option('--experiment <which>', 'experiment 1, 2 or all (they share runs)', oneOf(EXPERIMENT_SELECTIONS), 'all')
    .option('--workers <n>', 'worker processes (default: number of cores)', integerAtLeast(1))
    .option('--shard <i/n>', 'run only the i-th of n parts of the grid (cluster job arrays; 1-based)', shardArgument)
    .option('--results <dir>', 'results root (default: <repo>/data/runs)')
    .option('--retry-failed', 'run again the runs recorded as failed (NaN/Inf)')
    .option('--extras', 'add the truncated-normal init and sampled-KL VAE runs')
    .option('--mnist-dir <dir>', 'MNIST files to use (default: $MNIST_DIR, else the cache/packaged copy)')
    .option('--list', 'print the selected run ids, one per line, and exit')
    .action(async (flags: GridFlags) => {
      const profile = PROFILES[flags.profile];
      let runs = gridRuns(profile, { experiment: flags.experiment, extras: flags.extras });
      if (flags.shard) runs = selectShard(runs, flags.shard);
      if (flags.list) {
        for (const run of runs) process.stdout.write(`${run.id}\n`);
        return;
      }
      const resultsDir = resolve(flags.results ?? DEFAULT_RESULTS_DIR);
      const title = flags.shard ? `${profile.name} shard ${flags.shard.index}/${flags.shard.count}` : profile.name;
      const reporter = createGridReporter(process.stderr, title);
      // Ctrl-C / SIGTERM: stop claiming runs and stop the workers; finished epochs are checkpointed.
      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let summary: GridSummary;
      try {
        summary = await runGrid({
          runs,
          resultsDir,
          workers: flags.workers ?? availableParallelism(),
          retryFailed: flags.retryFailed,
          mnist: { mnistDir: chosenMnistDir(flags.mnistDir, process.env), mnistCacheDir: DEFAULT_MNIST_CACHE },
          onEvent: (event) => reporter.onEvent(event),
          signal: controller.signal,
        });
      } catch (err) {
        if (err instanceof DataFileError) throw new UserError(err.message);
        throw new UserError(`grid stopped: ${(err as Error).message}`);
      } finally {
        reporter.close();
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
      reportSummary(summary, title);
      if (summary.interrupted) {
        const signal = controller.signal.reason;
        throw new UserError(
          `interrupted: ${summary.completed.length}/${summary.total} runs completed; run the same command to resume`,
          signal === 'SIGTERM' ? 143 : 130,
        );
      }
      if (summary.failed.length > 0 || summary.errors.length > 0) {
        const parts = [
          summary.failed.length > 0 ? `${summary.failed.length} run${summary.failed.length === 1 ? '' : 's'} failed (rerun with --retry-failed)` : '',
          summary.errors.length > 0 ? `${summary.errors.length} run${summary.errors.length === 1 ? '' : 's'} hit errors (rerun to retry)` : '',
        ];
        throw new UserError(parts.filter(Boolean).join('; '));
      }
    });
}

/** The grid's report on stdout: totals, then one line per failure or error. */
function reportSummary(summary: GridSummary, title: string): void {
  const out = process.stdout;
  out.write(
    `grid ${title}: ${summary.total} runs: ${summary.completed.length} completed, ${summary.failed.length} failed, ` +
      `${summary.unfinished.length} unfinished (${summary.ranNow.length} run by this grid) in ${formatSeconds(summary.seconds)}\n`,
  );
  for (const { id, failure } of summary.failed) out.write(`failed: ${id}: ${failure.message}\n`);
  for (const { id, message } of summary.errors) out.write(`error: ${id}: ${message}\n`);
}
