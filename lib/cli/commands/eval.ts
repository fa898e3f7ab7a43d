import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { takeFirst } from '../../data/mnist';
import { UsageError, UserError } from '../errors';
import { integerAtLeast, integerList } from '../parse';
import { loadMnistForCli } from '../mnist';
import { ProgressReporter } from '../progress';
import { runDirProblem } from '../run-dir-problem';

interface EvalFlags {
  run: string;
  k: number[];
  testSize?: number;
  json?: boolean;
  mnistDir?: string;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('importance-weighted bounds L_k, NLL estimate and active units of a trained run on the test set')
    .requiredOption('--run <dir>', 'run directory written by `iwae train`')
    .option('--k <list>', 'comma-separated k values (Burda: 5000 for the log-likelihood)', integerList(1), [1, 5, 50])
    .option('--test-size <n>', 'first N test images (default: all 10000)', integerAtLeast(1))
    .option('--json', 'print one JSON object {bounds, nll, activeUnits, ...} on stdout')
    .option('--mnist-dir <dir>', 'read the MNIST IDX files from this directory (default: $MNIST_DIR, else cache/package)')
    .action(async (flags: EvalFlags) => {
      const runDir = resolve(flags.run);
      const { assertTrainedRunDir } = require('../../training/run-dir') as typeof import('../../training/run-dir');
      try {
        assertTrainedRunDir(runDir);
      } catch (err) {
        runDirProblem(err);
      }
      // Required here, not imported at the top: TensorFlow takes ~1 s to load and other commands never need
      // it. (require, not import(): bin/iwae.js registers tsx for CommonJS only.)
      const { boundLadder } = require('../../training/evaluate') as typeof import('../../training/evaluate');
      const { DeviceSplit } = require('../../data/device-split') as typeof import('../../data/device-split');
      const { readTrainedRun, stackWeights } = require('../../training/load-run') as typeof import('../../training/load-run');
      let loaded;
      try {
        loaded = readTrainedRun(runDir);
      } catch (err) {
        runDirProblem(err);
      }
      const { config } = loaded;
      // A grid's run directory is named by its config: a config.json copied from another run is caught here.
      const { RUN_ID_PATTERN, runId } = require('../../experiments/run-id') as typeof import('../../experiments/run-id');
      const name = basename(runDir);
      if (RUN_ID_PATTERN.test(name) && runId(config) !== name) {
        throw new UserError(`${runDir}/config.json is the config of run ${runId(config)}, not of ${name}: the directory's files are mixed up`);
      }
      const data = await loadMnistForCli(flags.mnistDir, process.env);
      const testSize = flags.testSize ?? data.test.count;
      if (testSize > data.test.count) throw new UsageError(`--test-size must be <= ${data.test.count}, got ${testSize}`);
      const split = new DeviceSplit(takeFirst(data.test, testSize));
      const progress = new ProgressReporter(process.stderr, 'eval');
      // The final evaluation's function and streams (lib/training/evaluate.ts): `--k 5000` on the run's
      // finalTestSize images gives final.json's NLL. The bounds and active units describe the same bits.
      const weights = stackWeights(loaded.checkpoint.architecture, [loaded.checkpoint.parameters]);
      let result;
      try {
        [result] = boundLadder(weights, split, flags.k, [config.seed], {
          activeUnitThreshold: config.evaluation.activeUnitThreshold,
          onProgress: (done, total) => progress.step(done, total, `k=${flags.k.join(',')}`),
        });
      } finally {
        for (const p of weights.params) p.dispose();
        split.dispose();
      }
      progress.stop();
      const estimates = result.bounds;
      const active = result.activeUnits;
      const largest = estimates[estimates.length - 1];
      const report = {
        run: runDir,
        testImages: split.count,
        bounds: Object.fromEntries(estimates.map((e) => [String(e.k), e.mean])),
        standardErrors: Object.fromEntries(estimates.map((e) => [String(e.k), e.standardError])),
        nll: -largest.mean,
        nllK: largest.k,
        activeUnits: active.count,
        activity: active.activity,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const out = process.stdout;
      out.write(`run ${runDir}: ${config.model} k=${config.k} ${config.init} seed ${config.seed}, ${split.count} test images\n`);
      for (const e of estimates) out.write(`L_${e.k}`.padEnd(8) + `${e.mean.toFixed(3)} +- ${e.standardError.toFixed(3)} nats\n`);
      out.write(`NLL ~= ${report.nll.toFixed(3)} nats (-L_${largest.k}, the largest k given; Burda et al. used k = 5000)\n`);
      out.write(`active units: ${active.count}/${active.activity.length} (A_u > ${config.evaluation.activeUnitThreshold})\n`);
    });
}
