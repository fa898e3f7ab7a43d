import type { RunConfig } from '../config/run-config';
import type { LockOwner } from './lock';
import type { RunFailure } from './run-dir';

/** Messages between `runGrid` (the parent) and its forked grid workers, over the IPC channel. */

/** What a worker needs to start: where MNIST is (loaded once per worker). */
export interface WorkerSetup {
  mnistDir?: string;
  mnistCacheDir: string;
}

export type ToWorker =
  | { type: 'setup'; setup: WorkerSetup }
  | {
      /** Runs of one computation shape, trained as one stack (lib/training/train.ts). */
      type: 'stack';
      runs: Array<{ id: string; config: RunConfig; runDir: string }>;
      /** Redo a 'failed' run whose failure was recorded before this time (ISO); null: never redo failures. */
      retryFailedBefore: string | null;
      /** Train a run whose checkpoint is damaged, foreign or of an older version again from scratch. */
      restartBadCheckpoint: boolean;
    }
  | { type: 'stop' };

export type RunReport =
  /** Claimed and executed to an outcome. */
  | { type: 'finished'; id: string; status: 'completed' | 'failed'; failure?: RunFailure; seconds: number }
  /** Another process holds the run's lock. */
  | { type: 'busy'; id: string; holder: LockOwner | null }
  /** Already has an outcome (found after claiming): nothing to do. */
  | { type: 'skipped'; id: string; status: 'completed' | 'failed' }
  /**
   * An exception: the run keeps no outcome. 'bad-checkpoint' (damaged, foreign or old: a rerun alone never
   * fixes it, --restart-bad-checkpoint does) and 'damaged-files' (a run file that cannot be trusted nor
   * rebuilt) need the user; 'other' (a full disk, a bug) may clear on a rerun.
   */
  | { type: 'error'; id: string; message: string; kind: RunErrorKind };

export type RunErrorKind = 'bad-checkpoint' | 'damaged-files' | 'other';

export type FromWorker =
  | { type: 'ready' }
  | { type: 'setup-failed'; message: string }
  /** Within a stack: training run-steps (`done`/`total`) or the final evaluation (images x samples). */
  | { type: 'progress'; ids: string[]; phase: 'training' | 'evaluation'; epoch: number; epochs: number; done: number; total: number }
  /** One report per run of the stack, then this: the worker is free. */
  | { type: 'stack-done' }
  | RunReport;
