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
      const { loadRun } = require('../../training/load-run') as typeof import('../../training/load-run');
      const { datasetActiveUnits } = require('../../training/evaluate') as typeof import('../../training/evaluate');
      const { disposeModel } = require('../../model/model') as typeof import('../../model/model');
      const { boundsOnSplit, evaluationBinarizer } = require('../../training/bounds') as typeof import('../../training/bounds');
      let loaded;
      try {
        loaded = loadRun(runDir);
      } catch (err) {
        runDirProblem(err);
      }
      const { config, model } = loaded;
      // A grid's run directory is named by its config: a config.json copied from another run is caught here.
      const { RUN_ID_PATTERN, runId } = require('../../experiments/run-id') as typeof import('../../experiments/run-id');
      const name = basename(runDir);
      if (RUN_ID_PATTERN.test(name) && runId(config) !== name) {
        disposeModel(model);
        throw new UserError(`${runDir}/config.json is the config of run ${runId(config)}, not of ${name}: the directory's files are mixed up`);
      }
      try {
        const data = await loadMnistForCli(flags.mnistDir, process.env);
        const testSize = flags.testSize ?? data.test.count;
        if (testSize > data.test.count) throw new UsageError(`--test-size must be <= ${data.test.count}, got ${testSize}`);
        const split = takeFirst(data.test, testSize);
        const progress = new ProgressReporter(process.stderr, 'eval');
        // One binarization for the bounds and the active-unit pass: both describe the same bits.
        const binarizer = evaluationBinarizer(split, config.seed);
        const estimates = boundsOnSplit(model, split, flags.k, config.seed, {
          binarizer,
          onProgress: (done, total, k) => progress.step(done, total, `k=${k}`),
        });
        progress.stop();
        const active = datasetActiveUnits(model, split, {
          batchSize: 500,
          binarizer,
          activeUnitThreshold: config.evaluation.activeUnitThreshold,
        });
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
      } finally {
        disposeModel(model);
      }
    });
}
