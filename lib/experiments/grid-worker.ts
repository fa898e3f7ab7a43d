/**
 * A grid worker: a child process forked by `runGrid`. It loads MNIST once, then executes the stacks it
 * is sent, one at a time, holding the lock of every run it trains. It installs no SIGINT/SIGTERM handlers on purpose:
 * training runs synchronously between epochs, so a handler could not run before the epoch ends; dying
 * at once is safe (every file is written atomically, checkpoints per epoch) and the parent, or any later
 * claimant, clears the lock of a dead worker.
 */
import { mkdirSync } from 'node:fs';
import { loadMnist, type MnistData } from '../data/mnist';
import { clearFailure, executeStack } from './execute-run';
import { tryClaimLock, type HeldLock } from './lock';
import { inspectRun, recordAttempt, runFile } from './run-dir';
import { trainingMachine, type TrainingMachine } from '../env/versions';
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
let machine: TrainingMachine | null = null;
let heldLocks: HeldLock[] = [];
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
    case 'stack':
      await runStack(message);
      return;
    case 'stop':
      process.disconnect();
      return;
  }
}

async function runStack(message: Extract<ToWorker, { type: 'stack' }>): Promise<void> {
  const held: Array<{ id: string; config: (typeof message.runs)[number]['config']; runDir: string; lock: HeldLock }> = [];
  // Runs already reported to the parent (diverged mid-stack): their outcome is on disk, their lock released.
  const reported = new Set<string>();
  try {
    for (const { id, config, runDir } of message.runs) {
      let report: RunReport | { lock: HeldLock };
      try {
        report = claim(message, id, config, runDir);
      } catch (err) {
        // Its directory or lock cannot be made (a file in the way, a read-only or full disk): this run only.
        report = { type: 'error', id, message: describeFileSystemError(err) ?? (err as Error).message, kind: 'other' };
      }
      if ('lock' in report) held.push({ id, config, runDir, lock: report.lock });
      else send(report);
    }
    if (held.length === 0) return;
    if (!data) {
      for (const run of held) send({ type: 'error', id: run.id, message: 'worker got a stack before its data was loaded', kind: 'other' });
      return;
    }
    machine ??= trainingMachine(process.env);
    for (const run of held) recordAttempt(run.runDir, machine);
    const started = performance.now();
    const ids = held.map((r) => r.id);
    const epochs = held[0].config.epochs;
    let lastProgress = 0;
    const beat = () => {
      const now = Date.now();
      for (const run of held) run.lock.heartbeatIfDue(now);
      return now;
    };
    const results = await executeStack(held.map((r) => r.config), held.map((r) => r.runDir), data, {
      onStep(done, total) {
        const now = beat();
        if (now - lastProgress < PROGRESS_MS) return;
        lastProgress = now;
        send({ type: 'progress', ids: ids.filter((id) => !reported.has(id)), phase: 'training', epoch: Math.min(epochs, Math.ceil((done / total) * epochs)), epochs, done, total });
      },
      onEpoch(r) {
        held[r].lock.heartbeat();
      },
      onFailure(r, failure) {
        const run = held[r];
        run.lock.release();
        reported.add(run.id);
        send({ type: 'finished', id: run.id, status: 'failed', failure, seconds: (performance.now() - started) / 1000 });
      },
      onEvaluation(done, total) {
        const now = beat();
        if (now - lastProgress < PROGRESS_MS) return;
        lastProgress = now;
        send({ type: 'progress', ids, phase: 'evaluation', epoch: epochs, epochs, done, total });
      },
    }, { restartBadCheckpoint: message.restartBadCheckpoint });
    // The stack's wall time, shared by its runs.
    const seconds = (performance.now() - started) / 1000;
    for (const result of results) {
      if (reported.has(result.id)) continue;
      if ('error' in result) {
        const err = result.error;
        const kind = err instanceof CheckpointError ? 'bad-checkpoint' : err instanceof DamagedFileError ? 'damaged-files' : 'other';
        send({ type: 'error', id: result.id, message: describeFileSystemError(err) ?? err.message, kind });
      } else if (result.outcome.status === 'completed') {
        send({ type: 'finished', id: result.id, status: 'completed', seconds });
      } else {
        send({ type: 'finished', id: result.id, status: 'failed', failure: result.outcome.failure, seconds });
      }
    }
  } catch (err) {
    // Not one run's problem (a full disk, a bug): every run of the stack not reported yet keeps no outcome.
    for (const run of held.filter((r) => !reported.has(r.id))) send({ type: 'error', id: run.id, message: describeFileSystemError(err) ?? (err as Error).message, kind: 'other' });
  } finally {
    for (const run of held) run.lock.release();
    heldLocks = [];
    send({ type: 'stack-done' });
  }
}

/** Claims one run of a stack: its lock, or the report that it needs nothing from this worker. */
function claim(message: Extract<ToWorker, { type: 'stack' }>, id: string, config: (typeof message.runs)[number]['config'], runDir: string): RunReport | { lock: HeldLock } {
  if (runId(config) !== id) return { type: 'error', id, message: `config does not match run id (it is ${runId(config)})`, kind: 'other' };
  mkdirSync(runDir, { recursive: true });
  const claimed = tryClaimLock(runFile(runDir, 'lock'));
  if (!claimed.claimed) return { type: 'busy', id, holder: claimed.holder };
  heldLocks.push(claimed.lock);
  const release = (report: RunReport): RunReport => {
    claimed.lock.release();
    heldLocks = heldLocks.filter((l) => l !== claimed.lock);
    return report;
  };
  try {
    // A recorded outcome whose files no longer match it is executed again: executeStack repairs it.
    const inspection = inspectRun(runDir, id);
    const recorded = inspection.problem ? null : inspection.outcome;
    if (recorded?.status === 'completed') return release({ type: 'skipped', id, status: 'completed' });
    if (recorded?.status === 'failed') {
      const retry = message.retryFailedBefore !== null && recorded.finishedTime < message.retryFailedBefore;
      if (!retry) return release({ type: 'skipped', id, status: 'failed' });
      clearFailure(runDir);
    }
    return { lock: claimed.lock };
  } catch (err) {
    const kind = err instanceof CheckpointError ? 'bad-checkpoint' : err instanceof DamagedFileError ? 'damaged-files' : 'other';
    return release({ type: 'error', id, message: describeFileSystemError(err) ?? (err as Error).message, kind });
  }
}

process.on('message', (message: ToWorker) => {
  queue = queue.then(() => handle(message));
});

// The parent is gone (killed, or done with us): free the run we hold and leave.
process.on('disconnect', () => {
  for (const lock of heldLocks) lock.release();
  process.exit(0);
});
