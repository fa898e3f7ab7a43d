import type { MessagePort } from 'node:worker_threads';
import type { FeedShape, FeedStates } from './feed-epoch';

/*
 * How the training loop and its feed worker thread talk (lib/training/feed.ts, feed-worker.ts). The loop
 * is synchronous (a step never yields to the event loop), so it cannot take 'message' events: the
 * worker posts each step's arrays on a MessagePort the loop reads with receiveMessageOnPort, and the two
 * count on a shared Int32Array, which the loop blocks on with Atomics.wait. No TensorFlow here.
 */

/** Indices into the shared control array. */
export const CONTROL = {
  /** Steps the worker has posted since it started. */
  produced: 0,
  /** Steps the loop has taken. */
  consumed: 1,
  /** FEED_STATUS below. */
  status: 2,
} as const;
export const CONTROL_LENGTH = 3;

export const FEED_STATUS = { running: 0, failed: 1, closing: 2 } as const;

/** Steps the worker may run ahead of the loop (each is ~70 kB at the study's batch and k). */
export const FEED_AHEAD = 4;

export interface FeedWorkerData {
  control: Int32Array;
  port: MessagePort;
  images: Uint8Array;
  count: number;
  shape: FeedShape;
  /** Stream states to continue from (binarization only for dynamic binarization). */
  states: FeedStates;
  /** Fixed binarization: the run's one sample per image; null for dynamic. */
  fixedBits: Uint8Array | null;
}

/** Loop -> worker (worker.postMessage): produce the next epoch. */
export type ToFeedWorker = { kind: 'epoch' };

/** Worker -> loop (the port): one step's inputs (the epoch's last step carries the streams' states), or a failure. */
export type FromFeedWorker = { kind: 'step'; size: number; x: Float32Array; noise: Float32Array; states?: FeedStates } | { kind: 'error'; message: string };
