/**
 * A grid worker: a child process forked by `runGrid`. It loads MNIST once, then executes the runs it is
 * sent, one at a time, each under the run's lock. It installs no SIGINT/SIGTERM handlers on purpose:
 * training runs synchronously between epochs, so a handler could not run before the epoch ends; dying
 * at once is safe (every file is written atomically, checkpoints per epoch) and the parent, or any later
 * claimant, clears the lock of a dead worker.
 */
import { mkdirSync } from 'node:fs';
import { loadMnist, type MnistData } from '../data/mnist';
import { clearFailure, executeRun } from './execute-run';
import { tryClaimLock, type HeldLock } from './lock';
import { inspectRun, recordAttempt, runFile } from './run-dir';
import { CheckpointError } from '../training/checkpoint';
import { DamagedFileError } from '../io/sealed-json';
import { runId } from './run-id';
import { describeFileSystemError } from '../io/fs-errors';
import type { FromWorker, RunReport, ToWorker } from './worker-protocol';

/** Send step progress at most this often. */
const PROGRESS_MS = 1_000;

function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}

let data: MnistData | null = null;
let heldLock: HeldLock | null = null;
/** Messages are handled strictly one after another (a run is long; the parent sends one at a time). */
let queue: Promise<void> = Promise.resolve();

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'setup':
      try {
        data = await loadMnist({ mnistDir: message.setup.mnistDir, cacheDir: message.setup.mnistCacheDir, allowDownload: false });
        send({ type: 'ready' });
      } catch (err) {
        send({ type: 'setup-failed', message: (err as Error).message });
      }
      return;
    case 'run':
      send(await runOne(message));
      return;
    case 'stop':
      process.disconnect();
      return;
  }
}

async function runOne(message: Extract<ToWorker, { type: 'run' }>): Promise<RunReport> {
  const { id, config, runDir } = message;
  if (!data) return { type: 'error', id, message: 'worker got a run before its data was loaded', kind: 'other' };
  if (runId(config) !== id) return { type: 'error', id, message: `config does not match run id (it is ${runId(config)})`, kind: 'other' };
  mkdirSync(runDir, { recursive: true });
  const claim = tryClaimLock(runFile(runDir, 'lock'));
  if (!claim.claimed) return { type: 'busy', id, holder: claim.holder };
  heldLock = claim.lock;
  try {
    // A recorded outcome whose files no longer match it is executed again: executeRun repairs it.
    const inspection = inspectRun(runDir, id);
    const recorded = inspection.problem ? null : inspection.outcome;
    if (recorded?.status === 'completed') return { type: 'skipped', id, status: 'completed' };
    if (recorded?.status === 'failed') {
      const retry = message.retryFailedBefore !== null && recorded.finishedTime < message.retryFailedBefore;
      if (!retry) return { type: 'skipped', id, status: 'failed' };
      clearFailure(runDir);
    }
    recordAttempt(runDir);
    const started = performance.now();
    let lastProgress = 0;
    const lock = claim.lock;
    const beat = () => {
      const now = Date.now();
      lock.heartbeatIfDue(now);
      return now;
    };
    const outcome = await executeRun(config, data, runDir, {
      onStep(step, total) {
        const now = beat();
        if (now - lastProgress < PROGRESS_MS) return;
        lastProgress = now;
        const steps = total / config.epochs;
        send({ type: 'progress', id, phase: 'training', epoch: Math.ceil(step / steps), epochs: config.epochs, done: step, total });
      },
      onEpoch() {
        lock.heartbeat();
      },
      onEvaluation(done, total) {
        const now = beat();
        if (now - lastProgress < PROGRESS_MS) return;
        lastProgress = now;
        send({ type: 'progress', id, phase: 'evaluation', epoch: config.epochs, epochs: config.epochs, done, total });
      },
    }, { restartBadCheckpoint: message.restartBadCheckpoint });
    const seconds = (performance.now() - started) / 1000;
    return outcome.status === 'completed'
      ? { type: 'finished', id, status: 'completed', seconds }
      : { type: 'finished', id, status: 'failed', failure: outcome.failure, seconds };
  } catch (err) {
    const kind = err instanceof CheckpointError ? 'bad-checkpoint' : err instanceof DamagedFileError ? 'damaged-files' : 'other';
    return { type: 'error', id, message: describeFileSystemError(err) ?? (err as Error).message, kind };
  } finally {
    claim.lock.release();
    heldLock = null;
  }
}

process.on('message', (message: ToWorker) => {
  queue = queue.then(() => handle(message));
});

// The parent is gone (killed, or done with us): free the run we hold and leave.
process.on('disconnect', () => {
  heldLock?.release();
  process.exit(0);
});
