import type { Command } from 'commander';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { computationShape } from '../../config/run-config';
import { inspectRun, readAttempts, runDirPath } from '../../experiments/run-dir';
import { describeMachine, trainingMachine } from '../../env/versions';
import { RUN_ID_PATTERN } from '../../experiments/run-id';
import { compareEpochs, runsToVerify, VERIFY_TOLERANCE, type MetricDifference } from '../../experiments/verify';
import { UsageError, UserError } from '../errors';
import { loadMnistForCli } from '../mnist';
import { integerAtLeast } from '../parse';
import { defaultResultsDir } from '../paths';
import { PROFILES } from '../../experiments/profiles';
import { ProgressReporter } from '../progress';

interface VerifyFlags {
  results?: string;
  runs?: number;
  run?: string[];
  epochs: number;
  json?: boolean;
  mnistDir?: string;
}

/** Where the study's shipped results live (issue "Paper-scale results shipped"). */
export const SHIPPED_RESULTS = defaultResultsDir(PROFILES.paper);

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("retrain shipped runs from scratch for their first epochs here and compare every per-epoch metric with the shipped one")
    .option('--results <dir>', 'shipped results directory (default: <repo>/data/results/paper)')
    .option('--runs <n>', 'N completed runs, one per model and k in turn (the study\'s before Experiment 3\'s; default 3)', integerAtLeast(1))
    .option('--run <id...>', 'these runs instead')
    .option('--epochs <n>', 'epochs to retrain and compare', integerAtLeast(1), 2)
    .option('--json', 'print one JSON object {results, epochs, tolerance, passed, here, runs: [{id, largest, trainedOn}]}')
    .option('--mnist-dir <dir>', 'read the MNIST IDX files from this directory (default: $MNIST_DIR, else cache/package)')
    .addHelpText('after', `\nPasses when every number agrees within ${VERIFY_TOLERANCE} relative (bit-identical on the machine and TensorFlow build that trained the runs; other CPUs differ in the last bits, which training compounds). Exit 1 beyond it, 2 for bad usage.`)
    .action(async (flags: VerifyFlags) => {
      const results = resolve(flags.results ?? SHIPPED_RESULTS);
      if (flags.run && flags.runs !== undefined) throw new UsageError('give --runs or --run, not both');
      let ids: string[];
      try {
        ids = flags.run ?? readdirSync(results).filter((name) => RUN_ID_PATTERN.test(name)).sort();
      } catch {
        throw new UserError(`${results}: no results directory`);
      }
      const shipped = ids.map((id) => ({ id, inspection: inspectRun(runDirPath(results, id), id) }));
      for (const { id, inspection } of shipped) {
        if (flags.run && inspection.problem) throw new UserError(`${id}: ${inspection.problem}`);
        if (flags.run && inspection.outcome?.status !== 'completed') throw new UserError(`${id}: not a completed run in ${results}`);
      }
      const completed = shipped.filter(({ inspection }) => !inspection.problem && inspection.outcome?.status === 'completed');
      const chosen = flags.run ? completed : runsToVerify(completed.map((run) => ({ ...run, config: run.inspection.config! })), flags.runs ?? 3);
      if (chosen.length === 0) throw new UserError(`${results}: no completed runs to verify`);
      for (const { id, inspection } of chosen) {
        if (inspection.epochs.length < flags.epochs) throw new UserError(`${id}: shipped ${inspection.epochs.length} epochs, fewer than --epochs ${flags.epochs}`);
      }
      // Where each run was trained (its shipped attempt log) beside where it is retrained: what differs when they differ.
      const trainedOn = new Map(chosen.map(({ id }) => [id, [...new Set(readAttempts(runDirPath(results, id)).flatMap((a) => (a.machine ? [describeMachine(a.machine)] : [])))]]));
      const data = await loadMnistForCli(flags.mnistDir, process.env);
      // Required here, not imported at the top: TensorFlow takes ~1 s to load.
      const { trainStack } = require('../../training/train') as typeof import('../../training/train');
      const work = mkdtempSync(join(tmpdir(), 'iwae-verify-'));
      const progress = new ProgressReporter(process.stderr, 'verify');
      const rows: Array<{ id: string; largest: MetricDifference }> = [];
      try {
        // Runs of one shape retrain as one stack, as the grid trained them (their numbers do not depend on it).
        const groups = new Map<string, typeof chosen>();
        for (const run of chosen) {
          const key = computationShape(run.inspection.config!);
          groups.set(key, [...(groups.get(key) ?? []), run]);
        }
        for (const group of groups.values()) {
          const retrained = await trainStack(
            group.map(({ id, inspection }) => ({ config: { ...inspection.config!, epochs: flags.epochs }, runDir: join(work, id) })),
            data,
            { onStep: (done, total) => progress.step(done, total, `${group.length} run${group.length === 1 ? '' : 's'}, ${flags.epochs} epoch${flags.epochs === 1 ? '' : 's'}`) },
          );
          retrained.forEach((result, i) => {
            const { id, inspection } = group[i];
            if (result.status === 'error') throw result.error;
            const differences = compareEpochs(inspection.epochs.slice(0, flags.epochs), result.epochs);
            rows.push({ id, largest: differences[0] });
          });
        }
      } finally {
        progress.stop();
        rmSync(work, { recursive: true, force: true });
      }
      const passed = rows.every((r) => r.largest.relative <= VERIFY_TOLERANCE);
      const here = describeMachine(trainingMachine(process.env));
      if (flags.json) {
        const runs = rows.map((r) => ({ ...r, trainedOn: trainedOn.get(r.id) }));
        process.stdout.write(`${JSON.stringify({ results, epochs: flags.epochs, tolerance: VERIFY_TOLERANCE, passed, here, runs })}\n`);
      } else {
        const out = process.stdout;
        out.write(`verify: ${rows.length} run(s) of ${results}, first ${flags.epochs} epoch(s) retrained here (${here}), every per-epoch number compared\n`);
        for (const { id, largest } of rows) {
          const where = largest.relative === 0 ? 'identical in every number' : `largest difference ${largest.relative.toExponential(2)} (epoch ${largest.epoch} ${largest.field}: shipped ${largest.shipped}, here ${largest.retrained})`;
          const machines = trainedOn.get(id)!;
          out.write(`  ${id}: ${where}${machines.length ? `; trained on ${machines.join(' and ')}` : ''}\n`);
        }
        const worst = Math.max(...rows.map((r) => r.largest.relative));
        out.write(`${passed ? 'passed' : 'FAILED'}: largest relative difference ${worst === 0 ? '0 (bit-identical)' : worst.toExponential(2)}, tolerance ${VERIFY_TOLERANCE}\n`);
      }
      const failing = rows.filter((r) => r.largest.relative > VERIFY_TOLERANCE).length;
      if (failing > 0) throw new UserError(`${failing} of ${rows.length} run(s) differ from the shipped numbers beyond the tolerance ${VERIFY_TOLERANCE}`);
    });
}
