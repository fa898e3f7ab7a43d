import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INIT_NAMES, MODEL_NAMES, parseRunConfig, type RunConfig } from '../../config/run-config';
import { tryClaimLock, type ClaimResult, type HeldLock, type LockOwner } from '../../experiments/lock';
import { RUN_FILES } from '../../experiments/run-dir';
import { fileWriteError, makeDirectory } from '../../io/fs-errors';
import type { EpochMetrics } from '../../training/metrics';
import { runFiles } from '../../training/run-dir';
import { UsageError, UserError } from '../errors';
import { loadMnistForCli } from '../mnist';
import { integerAtLeast, oneOf } from '../parse';
import { ProgressReporter } from '../progress';
import { runDirProblem } from '../run-dir-problem';

export function epochLine(m: EpochMetrics, epochs: number): string {
  return (
    `epoch ${m.epoch}/${epochs} lr ${m.learningRate.toExponential(2)} train ${m.trainLoss.toFixed(2)} ` +
    `test ${m.testLoss.toFixed(2)} active ${m.activeUnitsTrain}/${m.activityTrain.length} (test ${m.activeUnitsTest}) ${m.seconds.toFixed(1)} s`
  );
}

interface TrainFlags {
  model: RunConfig['model'];
  k: number;
  init: RunConfig['init'];
  seed: number;
  epochs: number;
  trainSize?: number;
  testSize?: number;
  batchSize?: number;
  binarization?: RunConfig['binarization'];
  outputBias?: RunConfig['outputBiasInit'];
  schedule?: RunConfig['optimizer']['schedule'];
  out: string;
  json?: boolean;
  mnistDir?: string;
  restartBadCheckpoint?: boolean;
}

function configFromFlags(flags: TrainFlags): RunConfig {
  try {
    return parseRunConfig({
      model: flags.model,
      k: flags.k,
      init: flags.init,
      seed: flags.seed,
      epochs: flags.epochs,
      ...(flags.trainSize !== undefined && { trainSize: flags.trainSize }),
      ...(flags.testSize !== undefined && { testSize: flags.testSize }),
      ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
      ...(flags.binarization !== undefined && { binarization: flags.binarization }),
      ...(flags.outputBias !== undefined && { outputBiasInit: flags.outputBias }),
      ...(flags.schedule !== undefined && { optimizer: { schedule: flags.schedule } }),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train one VAE/IWAE run; writes config.json, metrics.jsonl and checkpoint.bin under --out (resumes from its checkpoint)')
    .requiredOption('--model <name>', `objective: ${MODEL_NAMES.join(', ')}`, oneOf(MODEL_NAMES))
    .requiredOption('--k <n>', 'importance samples per image', integerAtLeast(1))
    .requiredOption('--init <name>', `weight init: ${INIT_NAMES.join(', ')}`, oneOf(INIT_NAMES))
    .requiredOption('--seed <n>', 'run seed (all random streams derive from it)', integerAtLeast(0))
    .requiredOption('--epochs <n>', 'epochs (Burda 3^i schedule per epoch)', integerAtLeast(1))
    .requiredOption('--out <dir>', 'run directory')
    .option('--train-size <n>', 'first N training images (default 60000)', integerAtLeast(1))
    .option('--test-size <n>', 'first N test images for the per-epoch test pass (default 10000)', integerAtLeast(1))
    .option('--batch-size <n>', 'images per step (default 20)', integerAtLeast(1))
    .option('--binarization <kind>', 'dynamic (default) or fixed', oneOf(['dynamic', 'fixed'] as const))
    .option('--output-bias <init>', "decoder output bias: zero (default, the study) or data-mean (Burda)", oneOf(['zero', 'data-mean'] as const))
    .option('--schedule <name>', 'learning rate: burda (default) or constant', oneOf(['burda', 'constant'] as const))
    .option('--restart-bad-checkpoint', 'if the checkpoint in --out is damaged, of another run or of an older version, train from scratch (default: stop with an error)')
    .option('--json', 'print one JSON object {config, epochs, status} on stdout')
    .option('--mnist-dir <dir>', 'read the MNIST IDX files from this directory (default: $MNIST_DIR, else cache/package)')
    .action(async (flags: TrainFlags) => {
      const config = configFromFlags(flags);
      const out = resolve(flags.out);
      // A finished run without its checkpoint (shipped results carry none) would be trained again over its recorded files.
      if (existsSync(join(out, RUN_FILES.status)) && !existsSync(runFiles(out).checkpoint)) {
        throw new UserError(`${out} holds a finished run without its checkpoint (shipped results carry none): train into another --out`);
      }
      // Required here, not imported at the top: TensorFlow takes ~1 s to load and other commands never need
      // it. (require, not import(): bin/iwae.js registers tsx for CommonJS only.)
      // Data first: a bad MNIST file is then reported before TensorFlow prints its start-up banner.
      const data = await loadMnistForCli(flags.mnistDir, process.env);
      // Before TensorFlow loads: a run someone else is training is refused at once.
      const lock = claimRunDirectory(out);
      const progress = new ProgressReporter(process.stderr, `${config.model} k=${config.k}`);
      const releaseOnSignal = exitOnSignal(lock, progress, out);
      let result;
      try {
        const { trainRun } = require('../../training/train') as typeof import('../../training/train');
        result = await trainRun(config, data, out, {
          onStep: (step, total) => {
            lock.heartbeatIfDue();
            progress.step(step, total, `epoch ${Math.ceil((step / total) * config.epochs)}/${config.epochs}`);
          },
          onEpoch: (m) => {
            lock.heartbeat();
            progress.line(epochLine(m, config.epochs));
          },
        }, { restartBadCheckpoint: flags.restartBadCheckpoint });
      } catch (err) {
        progress.stop();
        runDirProblem(err, true);
      } finally {
        releaseOnSignal();
        lock.release();
      }
      progress.stop();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        const last = result.epochs[result.epochs.length - 1];
        const summary = last
          ? `test loss ${last.testLoss.toFixed(2)} nats, active units ${last.activeUnitsTest}/${last.activityTest.length} (test set)`
          : 'no epoch finished';
        process.stdout.write(`${result.status}: ${result.epochs.length}/${config.epochs} epochs, ${summary}; run dir ${out}\n`);
      }
      if (result.status === 'failed') {
        throw new UserError(`training failed: ${result.failure?.message ?? 'unknown cause'} (last good checkpoint kept in ${out})`);
      }
    });
}

/**
 * Takes the run directory's lock, the one grid workers take, so that one `iwae train` or grid worker
 * trains a run at a time. Held: one line naming the holder, and nothing in the directory is touched.
 */
function claimRunDirectory(out: string): HeldLock {
  makeDirectory(out);
  const path = join(out, RUN_FILES.lock);
  let claim: ClaimResult;
  try {
    claim = tryClaimLock(path);
  } catch (err) {
    throw fileWriteError(err, path);
  }
  if (!claim.claimed) {
    throw new UserError(`${out} is being trained by ${holderName(claim.holder)} (lock ${path}); not starting a second training of it`);
  }
  return claim.lock;
}

function holderName(holder: LockOwner | null): string {
  if (!holder) return 'an unknown process (the lock file does not parse)';
  return `pid ${holder.pid}@${holder.hostname}${holder.claimedTime ? ` since ${holder.claimedTime}` : ''}`;
}

/**
 * Ctrl-C / SIGTERM: free the lock and stop at once (exit 130 / 143). Safe mid-epoch: files are only
 * written synchronously (atomically) between the points where training yields to the event loop, so a
 * handler never runs during a write; finished epochs are checkpointed. Returns the uninstaller.
 */
function exitOnSignal(lock: HeldLock, progress: ProgressReporter, out: string): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    progress.stop();
    lock.release();
    process.stderr.write(`iwae: interrupted (${signal}): finished epochs are checkpointed in ${out}; run the same command to resume\n`);
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}
