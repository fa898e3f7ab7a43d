import { InvalidArgumentError, type Command } from 'commander';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DataFileError } from '../../data/errors';
import { EXPERIMENT_SELECTIONS, gridRuns, type ExperimentSelection } from '../../experiments/grids';
import { createGridReporter, formatSeconds } from '../../experiments/grid-progress';
import { DEFAULT_STACK_SIZE, runGrid, type GridSummary } from '../../experiments/grid-runner';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../experiments/profiles';
import { emptyShardWarning, parseShard, selectShard, type Shard } from '../../experiments/shard';
import { describeFileSystemError } from '../../io/fs-errors';
import { UsageError, UserError } from '../errors';
import { integerAtLeast, oneOf } from '../parse';
import { chosenMnistDir, DEFAULT_MNIST_CACHE, defaultResultsDir } from '../paths';

/**
 * Exit code when every run has an outcome but some are recorded failures (NaN/Inf): a result, which
 * rerunning does not change. Errors (runs without an outcome, a grid that stopped) exit 1.
 */
export const EXIT_RUNS_FAILED = 3;

interface GridFlags {
  profile: ProfileName;
  experiment: ExperimentSelection;
  workers?: number;
  stackSize?: number;
  shard?: Shard;
  results?: string;
  retryFailed?: boolean;
  restartBadCheckpoint?: boolean;
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
    .option('--experiment <which>', "experiment 1, 2, 3 or all (all: the study's 1 and 2, which share runs; 3, the gradient estimators, only when named)", oneOf(EXPERIMENT_SELECTIONS), 'all')
    .option('--workers <n>', 'worker processes (default: number of cores)', integerAtLeast(1))
    .option('--stack-size <n>', `most runs trained together as one batched model (default ${DEFAULT_STACK_SIZE}; runs of one model, k and settings)`, integerAtLeast(1))
    .option('--shard <i/n>', 'run only the i-th of n parts of the grid (cluster job arrays; 1-based)', shardArgument)
    .option('--results <dir>', "results root (default: the profile's shipped results, <repo>/data/results/paper for paper, else <repo>/data/runs)")
    .option('--retry-failed', 'run again the runs recorded as failed (NaN/Inf)')
    .option('--restart-bad-checkpoint', 'train runs whose checkpoint is damaged, of another run or of an older version again from scratch (default: report them and leave them)')
    .option('--extras', "add the truncated-normal init and sampled-KL VAE runs (ablations of Experiments 1 and 2; not with --experiment 3)")
    .option('--mnist-dir <dir>', 'MNIST files to use (default: $MNIST_DIR, else the cache/packaged copy)')
    .option('--list', 'print the selected run ids, one per line, and exit')
    .addHelpText(
      'after',
      `\nExit status: 0 every run completed; ${EXIT_RUNS_FAILED} every run has an outcome but some failed (NaN/Inf, recorded);\n` +
        '1 runs hit errors or the grid stopped (rerun to retry); 130/143 interrupted (rerun to resume); 2 bad usage.',
    )
    .action(async (flags: GridFlags) => {
      const profile = PROFILES[flags.profile];
      if (flags.extras && flags.experiment === '3') {
        throw new UsageError('--extras adds ablation runs to Experiments 1 and 2, not to Experiment 3: leave it out, or run them with --experiment all');
      }
      let runs = gridRuns(profile, { experiment: flags.experiment, extras: flags.extras });
      if (flags.shard) {
        const warning = emptyShardWarning(flags.shard, runs.length);
        if (warning) process.stderr.write(`iwae: warning: ${warning}\n`);
        runs = selectShard(runs, flags.shard);
      }
      if (flags.list) {
        for (const run of runs) process.stdout.write(`${run.id}\n`);
        return;
      }
      const resultsDir = resolve(flags.results ?? defaultResultsDir(profile));
      const title = flags.shard ? `${profile.name} shard ${flags.shard.index}/${flags.shard.count}` : profile.name;
      const reporter = createGridReporter(process.stderr, title, { resultsDir });
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
          stackSize: flags.stackSize,
          retryFailed: flags.retryFailed,
          restartBadCheckpoint: flags.restartBadCheckpoint,
          mnist: { mnistDir: chosenMnistDir(flags.mnistDir, process.env), mnistCacheDir: DEFAULT_MNIST_CACHE },
          onEvent: (event) => reporter.onEvent(event),
          signal: controller.signal,
        });
      } catch (err) {
        if (err instanceof DataFileError) throw new UserError(err.message);
        throw new UserError(describeFileSystemError(err) ?? `grid stopped: ${(err as Error).message}`);
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
          ...errorAdvice(summary.errors),
        ];
        throw new UserError(parts.filter(Boolean).join('; '), summary.errors.length > 0 ? 1 : EXIT_RUNS_FAILED);
      }
    });
}

/** What to do about the runs that hit errors, by kind: a rerun fixes only the 'other' kind. */
function errorAdvice(errors: GridSummary['errors']): string[] {
  const count = (kind: string) => errors.filter((e) => e.kind === kind).length;
  const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
  const advice: Array<[number, string]> = [
    [count('bad-checkpoint'), 'have a damaged, foreign or old checkpoint (rerun with --restart-bad-checkpoint to train them from scratch)'],
    [count('damaged-files'), 'have damaged files that cannot be rebuilt (see the lines above; move them away to train them again)'],
    [count('other'), 'hit errors (rerun to retry)'],
  ];
  return advice.filter(([n]) => n > 0).map(([n, text]) => `${runs(n)} ${text}`);
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
