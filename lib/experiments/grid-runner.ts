import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { computationShape, type RunConfig } from '../config/run-config';
import { trainingEnvironment } from '../env/tensorflow-threads';
import { loadMnist } from '../data/mnist';
import { assertDirectoryOrAbsent, assertWritableDirectory } from '../io/fs-errors';
import { clearLockOfDeadProcess, clearStaleLock, isLockStale, readLock, type LockOwner } from './lock';
import { inspectRun, runDirPath, runFile, type RunFailure, type RunOutcome } from './run-dir';
import { ensureRunWeights } from './run-weights';
import { DamagedFileError } from '../io/sealed-json';
import type { FromWorker, RunErrorKind, ToWorker, WorkerSetup } from './worker-protocol';

export interface GridRunSpec {
  id: string;
  config: RunConfig;
}

export interface RunGridOptions {
  runs: readonly GridRunSpec[];
  resultsDir: string;
  /** Worker processes (each loads MNIST once and trains one stack at a time). */
  workers: number;
  /**
   * Most runs trained together as one stack (runs of one computation shape: lib/training/train.ts).
   * Default DEFAULT_STACK_SIZE. Runs of a stack finish together, so a smaller stack loses less when its
   * machine goes away mid-stack.
   */
  stackSize?: number;
  /** Redo runs whose recorded outcome is 'failed' (only failures recorded before this call started). */
  retryFailed?: boolean;
  /** Train runs whose checkpoint is damaged, foreign or of an older version again from scratch. */
  restartBadCheckpoint?: boolean;
  mnist: WorkerSetup;
  /**
   * Extra environment variables for the workers. Each worker trains with one TensorFlow thread
   * (lib/env/tensorflow-threads.ts) unless this or the environment sets TF_NUM_INTRAOP_THREADS.
   */
  workerEnv?: NodeJS.ProcessEnv;
  onEvent?: (event: GridEvent) => void;
  /** Abort = stop claiming, stop the workers (their runs keep their checkpoints), resolve as interrupted. */
  signal?: AbortSignal;
  /** How often to look at runs held by other processes (default 2 s). */
  pollMs?: number;
  /** After asking workers to stop, how long before they are killed (default 5 s). */
  stopGraceMs?: number;
}

export type GridEvent =
  | { type: 'start'; total: number; alreadyDone: number; toRun: number; workers: number }
  | { type: 'progress'; ids: string[]; phase: 'training' | 'evaluation'; epoch: number; epochs: number; done: number; total: number }
  | { type: 'run-done'; id: string; by: 'this-grid' | 'elsewhere'; status: 'completed' | 'failed'; failure?: RunFailure; seconds?: number; done: number; total: number }
  | { type: 'run-error'; id: string; message: string; kind: RunErrorKind; done: number; total: number }
  /** A run whose files do not match its record: executed again to rebuild them from its checkpoint (or an error). */
  | { type: 'damaged'; id: string; problem: string; repairable: boolean }
  | { type: 'waiting'; id: string; holder: LockOwner | null }
  | { type: 'stopping'; reason: string };

export interface GridSummary {
  total: number;
  /** Runs whose outcome is 'completed' at the end (whoever ran them). */
  completed: string[];
  /** Runs whose outcome is 'failed' (NaN/Inf) at the end, with the trainer's diagnostic. */
  failed: Array<{ id: string; failure: RunFailure }>;
  /** Runs that hit an exception or lost their worker: no outcome recorded, a later grid tries them again. */
  errors: Array<{ id: string; message: string; kind: RunErrorKind }>;
  /** Runs this call brought to an outcome. */
  ranNow: string[];
  /** Runs without an outcome at the end (interrupted, errors). */
  unfinished: string[];
  interrupted: boolean;
  seconds: number;
}

const WORKER_MODULE = join(__dirname, 'grid-worker.ts');
/** Replacement workers allowed per worker slot when workers die unexpectedly (e.g. out of memory). */
const CRASH_BUDGET_PER_WORKER = 2;

interface WorkerSlot {
  child: ChildProcess;
  ready: boolean;
  /** The runs of the stack it is training, until it reports the stack done; null when idle. */
  current: string[] | null;
  exited: boolean;
}

/** Runs per stack unless the caller says otherwise (see RunGridOptions.stackSize). */
export const DEFAULT_STACK_SIZE = 5;

/**
 * Runs a grid with `workers` child processes, each training stacks of up to `stackSize` runs of one
 * computation shape (a run's numbers do not depend on its stack). Each run is claimed by a lock in its directory, so any
 * number of grid processes (on one or several hosts) can share a results directory: a run is executed
 * by one of them only, a run with an outcome is never redone, and runs held by another process are
 * waited for (and taken over if that process dies). Resolves when every run has an outcome, or on abort.
 */
export function runGrid(options: RunGridOptions): Promise<GridSummary> {
  return new GridScheduler(options).start();
}

class GridScheduler {
  private readonly startedMs = performance.now();
  private readonly startedIso = new Date().toISOString();
  private readonly byId: Map<string, GridRunSpec>;
  private readonly pending: string[] = [];
  private readonly waiting = new Set<string>();
  private readonly resolved = new Set<string>();
  private readonly errors: Array<{ id: string; message: string; kind: RunErrorKind }> = [];
  private readonly ranNow: string[] = [];
  private readonly slots: WorkerSlot[] = [];
  private crashesLeft: number;
  private stopping = false;
  private interrupted = false;
  private fatal: Error | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private setup: WorkerSetup | null = null;
  private settle!: { resolve: (s: GridSummary) => void; reject: (e: Error) => void };

  constructor(private readonly options: RunGridOptions) {
    this.byId = new Map(options.runs.map((run) => [run.id, run]));
    this.crashesLeft = CRASH_BUDGET_PER_WORKER * Math.max(1, options.workers);
  }

  async start(): Promise<GridSummary> {
    if (this.options.signal?.aborted) return this.summary(true);
    assertDirectoryOrAbsent(this.options.resultsDir);
    for (const run of this.byId.values()) {
      const inspection = inspectRun(runDirPath(this.options.resultsDir, run.id), run.id);
      if (inspection.problem) this.emit({ type: 'damaged', id: run.id, problem: inspection.problem, repairable: inspection.repairable });
      if (inspection.problem || this.needsWork(inspection.outcome)) this.pending.push(run.id);
      else this.resolveDone(run.id);
      // Runs completed by an older iwae-lab get the float16 weights it did not write (cheap, no training).
      if (!inspection.problem && inspection.outcome?.status === 'completed' && inspection.config) {
        this.writeWeightsOf(run.id, inspection.config);
      }
    }
    // Once, here: a read-only results directory is one clear error, not every worker failing.
    if (this.pending.length > 0) assertWritableDirectory(this.options.resultsDir);
    const workers = Math.min(this.options.workers, this.pending.length);
    this.emit({ type: 'start', total: this.byId.size, alreadyDone: this.resolved.size, toRun: this.pending.length, workers });
    if (this.pending.length === 0) return this.summary(false);
    // Load (and if needed download) MNIST once here, so workers only read local files and a data problem
    // is reported once, before any worker starts.
    const data = await loadMnist({ mnistDir: this.options.mnist.mnistDir, cacheDir: this.options.mnist.mnistCacheDir });
    this.setup = { mnistDir: data.dir, mnistCacheDir: this.options.mnist.mnistCacheDir };
    if (this.options.signal?.aborted) return this.summary(true);
    return new Promise<GridSummary>((resolve, reject) => {
      this.settle = { resolve, reject };
      this.options.signal?.addEventListener('abort', () => this.stop(String(this.options.signal?.reason ?? 'aborted')), { once: true });
      for (let i = 0; i < workers; i++) this.spawnWorker();
    });
  }

  /**
   * A run with its outcome: done. A lock its holder left (killed after the outcome, e.g. a run that
   * diverged while its stack trained on) is removed; a read-only copy of results keeps it, harmlessly.
   */
  private resolveDone(id: string): void {
    this.resolved.add(id);
    try {
      clearStaleLock(runFile(runDirPath(this.options.resultsDir, id), 'lock'));
    } catch (err) {
      if (!(err as NodeJS.ErrnoException).code) throw err;
    }
  }

  private writeWeightsOf(id: string, config: RunConfig): void {
    try {
      ensureRunWeights(runDirPath(this.options.resultsDir, id), config, id);
    } catch (err) {
      // Never fatal: the run's outcome stands without them (a read-only copy of results, a damaged checkpoint).
      if (!(err instanceof DamagedFileError) && !(err as NodeJS.ErrnoException).code) throw err;
      this.emit({ type: 'damaged', id, problem: `float16 weights not written: ${(err as Error).message}`, repairable: false });
    }
  }

  /** A run needs work unless it has an outcome; a failure counts only if not being retried. */
  private needsWork(outcome: RunOutcome | null): boolean {
    if (!outcome) return true;
    if (outcome.status === 'completed') return false;
    return Boolean(this.options.retryFailed) && outcome.finishedTime < this.startedIso;
  }

  private spawnWorker(): void {
    const child = fork(WORKER_MODULE, [], {
      execArgv: ['--require', require.resolve('tsx/cjs')],
      env: trainingEnvironment(process.env, this.options.workerEnv),
      // The worker's stdout goes to our stderr: stdout is kept for the grid's own report.
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    child.stdout?.pipe(process.stderr, { end: false });
    const slot: WorkerSlot = { child, ready: false, current: null, exited: false };
    this.slots.push(slot);
    child.on('message', (message: FromWorker) => this.onMessage(slot, message));
    child.on('exit', (code, signal) => this.onExit(slot, code, signal));
    child.on('error', () => undefined); // send() after exit; the 'exit' handler deals with it
    this.send(slot, { type: 'setup', setup: this.setup! });
  }

  private send(slot: WorkerSlot, message: ToWorker): void {
    if (!slot.exited && slot.child.connected) slot.child.send(message);
  }

  private onMessage(slot: WorkerSlot, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        break;
      case 'setup-failed':
        this.fail(new Error(message.message));
        return;
      case 'progress':
        this.emit(message);
        return;
      case 'stack-done':
        // Every run of a stack gets a report before this; one without is an error, never forgotten.
        for (const id of slot.current ?? []) {
          this.resolved.add(id);
          this.errors.push({ id, message: 'its worker reported nothing for it', kind: 'other' });
          this.emit({ type: 'run-error', id, message: 'its worker reported nothing for it', kind: 'other', done: this.resolved.size, total: this.byId.size });
        }
        slot.current = null;
        break;
      case 'busy':
        this.waiting.add(message.id);
        this.emit({ type: 'waiting', id: message.id, holder: message.holder });
        break;
      case 'skipped':
        this.resolve(message.id, 'elsewhere', message.status);
        break;
      case 'finished':
        this.ranNow.push(message.id);
        this.resolve(message.id, 'this-grid', message.status, message.failure, message.seconds);
        break;
      case 'error':
        this.resolved.add(message.id);
        this.errors.push({ id: message.id, message: message.message, kind: message.kind });
        this.emit({ type: 'run-error', id: message.id, message: message.message, kind: message.kind, done: this.resolved.size, total: this.byId.size });
        break;
    }
    if ('id' in message) {
      // A run the stack reported on is no longer the worker's to lose; the worker is busy until 'stack-done'.
      if (slot.current) slot.current = slot.current.filter((id) => id !== message.id);
      return;
    }
    this.dispatch();
  }

  private resolve(id: string, by: 'this-grid' | 'elsewhere', status: 'completed' | 'failed', failure?: RunFailure, seconds?: number): void {
    this.resolved.add(id);
    this.waiting.delete(id);
    this.emit({ type: 'run-done', id, by, status, failure, seconds, done: this.resolved.size, total: this.byId.size });
  }

  private onExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    slot.exited = true;
    const lost = slot.current ?? [];
    slot.current = null;
    for (const id of lost) clearLockOfDeadProcess(runFile(runDirPath(this.options.resultsDir, id), 'lock'), slot.child.pid!);
    if (this.stopping) {
      this.maybeFinishStopping();
      return;
    }
    if (signal === 'SIGINT' || signal === 'SIGTERM') {
      // Someone asked the workers to stop (Ctrl-C reaches the whole process group): stop the grid too.
      this.stop(`worker ${slot.child.pid} was sent ${signal}`);
      return;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    for (const id of lost) {
      this.resolved.add(id);
      this.errors.push({ id, message: `its worker died (${how})`, kind: 'other' });
      this.emit({ type: 'run-error', id, message: `its worker died (${how})`, kind: 'other', done: this.resolved.size, total: this.byId.size });
    }
    const workLeft = this.pending.length > 0 || this.waiting.size > 0;
    if (workLeft && this.crashesLeft > 0) {
      this.crashesLeft -= 1;
      this.spawnWorker();
    } else if (workLeft && this.aliveSlots().length === 0) {
      this.fail(new Error(`grid workers keep dying (last: ${how}); see the messages above`));
      return;
    }
    this.dispatch();
  }

  private aliveSlots(): WorkerSlot[] {
    return this.slots.filter((slot) => !slot.exited);
  }

  /** Gives each idle worker the next run; finishes when nothing is left anywhere. */
  private dispatch(): void {
    if (this.stopping) return;
    for (const slot of this.aliveSlots()) {
      if (!slot.ready || slot.current !== null) continue;
      const ids = this.nextStack();
      if (ids.length === 0) break;
      slot.current = ids;
      this.send(slot, {
        type: 'stack',
        runs: ids.map((id) => ({ id, config: this.byId.get(id)!.config, runDir: runDirPath(this.options.resultsDir, id) })),
        retryFailedBefore: this.options.retryFailed ? this.startedIso : null,
        restartBadCheckpoint: this.options.restartBadCheckpoint ?? false,
      });
    }
    const busy = this.aliveSlots().some((slot) => slot.current !== null);
    if (this.pending.length === 0 && !busy) {
      if (this.waiting.size === 0) this.finish();
      else this.schedulePoll();
    }
  }

  /** The next pending run and up to stackSize - 1 more of its computation shape, in grid order. */
  private nextStack(): string[] {
    const first = this.pending.shift();
    if (first === undefined) return [];
    const shape = computationShape(this.byId.get(first)!.config);
    const ids = [first];
    const limit = this.options.stackSize ?? DEFAULT_STACK_SIZE;
    for (let i = 0; i < this.pending.length && ids.length < limit; ) {
      if (computationShape(this.byId.get(this.pending[i])!.config) === shape) ids.push(...this.pending.splice(i, 1));
      else i++;
    }
    return ids;
  }

  /** Runs held by other processes: done there, or free again (their holder died), or still held. */
  private schedulePoll(): void {
    if (this.pollTimer) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      if (this.stopping) return;
      for (const id of [...this.waiting]) {
        const dir = runDirPath(this.options.resultsDir, id);
        const inspection = inspectRun(dir, id);
        const outcome = inspection.problem ? null : inspection.outcome;
        if (!this.needsWork(outcome) && outcome) {
          this.resolve(id, 'elsewhere', outcome.status);
          continue;
        }
        const lock = readLock(runFile(dir, 'lock'));
        if (lock === null || isLockStale(lock)) {
          this.waiting.delete(id);
          this.pending.push(id);
        }
      }
      this.dispatch();
    }, this.options.pollMs ?? 2000);
  }

  private finish(): void {
    this.stopping = true;
    for (const slot of this.aliveSlots()) this.send(slot, { type: 'stop' });
    this.armKillTimer();
    this.maybeFinishStopping();
  }

  /** Abort: no more claims; workers are terminated (their runs resume from the last checkpoint later). */
  private stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.interrupted = true;
    this.emit({ type: 'stopping', reason });
    for (const slot of this.aliveSlots()) slot.child.kill('SIGTERM');
    this.armKillTimer();
    this.maybeFinishStopping();
  }

  private fail(error: Error): void {
    this.fatal ??= error;
    this.stop('error');
  }

  private armKillTimer(): void {
    if (this.killTimer) return;
    this.killTimer = setTimeout(() => {
      for (const slot of this.aliveSlots()) slot.child.kill('SIGKILL');
    }, this.options.stopGraceMs ?? 5000);
    this.killTimer.unref();
  }

  private maybeFinishStopping(): void {
    if (this.aliveSlots().length > 0) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.fatal) this.settle.reject(this.fatal);
    else this.settle.resolve(this.summary(this.interrupted));
  }

  private summary(interrupted: boolean): GridSummary {
    const completed: string[] = [];
    const failed: Array<{ id: string; failure: RunFailure }> = [];
    const unfinished: string[] = [];
    for (const id of [...this.byId.keys()].sort()) {
      const inspection = inspectRun(runDirPath(this.options.resultsDir, id), id);
      const outcome = inspection.problem ? null : inspection.outcome;
      if (outcome?.status === 'completed') completed.push(id);
      else if (outcome?.status === 'failed') failed.push({ id, failure: outcome.failure });
      else unfinished.push(id);
    }
    return {
      total: this.byId.size,
      completed,
      failed,
      errors: this.errors,
      ranNow: this.ranNow,
      unfinished,
      interrupted,
      seconds: (performance.now() - this.startedMs) / 1000,
    };
  }

  private emit(event: GridEvent): void {
    this.options.onEvent?.(event);
  }
}
