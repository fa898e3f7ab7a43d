import * as tf from '@tensorflow/tfjs-node';
import { join } from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { MnistSplit } from '../data/mnist';
import { PIXELS } from '../data/shape';
import { epochStepArrays, feedStates, type FeedShape, type FeedSources, type FeedStates, type StepArrays } from './feed-epoch';
import { CONTROL, CONTROL_LENGTH, FEED_STATUS, type FeedWorkerData, type FromFeedWorker, type ToFeedWorker } from './feed-protocol';

export type { FeedShape, FeedSources, FeedStates } from './feed-epoch';

/** One training step's inputs: `size` binarized images [size, 784] and their noise [size, k, latent]. */
export interface StepInput {
  size: number;
  x: tf.Tensor2D;
  noise: tf.Tensor3D;
}

/**
 * Where the training loop's batches and noise come from, epoch after epoch. Both kinds draw exactly the
 * same numbers from the same streams (test/training/feed.test.ts), so a run's results do not depend on it.
 * - 'thread' (what training uses): a worker thread makes them up to a few steps ahead while the loop
 *   runs TensorFlow. Shuffling, binarizing and 5,000 normals per step cost ~0.7 ms of JS, which then
 *   leave the step's critical path (TensorFlow trains with one thread: lib/env/tensorflow-threads.ts).
 * - 'inline': the loop's own thread makes each step's inputs when it needs them.
 */
export interface TrainingFeed {
  /**
   * The next epoch's step inputs in order (the shuffle is drawn when it starts); the caller disposes the
   * tensors. Leaving an epoch before its end closes the feed.
   */
  epoch(): Generator<StepInput>;
  /** The feed's stream states at the end of the last whole epoch (before the first: where it started). */
  states(): FeedStates;
  /** Stops the worker thread, if any. Idempotent. */
  close(): void;
}

export type FeedKind = 'thread' | 'inline';
export const FEED_KINDS: readonly FeedKind[] = ['thread', 'inline'];

/** A feed over `split` drawing from `sources`, which it owns from now on (nothing else may draw from them). */
export function openTrainingFeed(kind: FeedKind, split: MnistSplit, shape: FeedShape, sources: FeedSources): TrainingFeed {
  return kind === 'thread' ? new ThreadedFeed(split, shape, sources) : new InlineFeed(split, shape, sources);
}

function stepInput(arrays: StepArrays, shape: FeedShape): StepInput {
  const x = tf.tensor2d(arrays.x, [arrays.size, PIXELS], 'float32');
  try {
    return { size: arrays.size, x, noise: tf.tensor3d(arrays.noise, [arrays.size, shape.k, shape.latent], 'float32') };
  } catch (err) {
    x.dispose();
    throw err;
  }
}

/** What both feeds share: epochs one after another, tensors made from each step's arrays, end states. */
abstract class EpochFeed implements TrainingFeed {
  private endStates: FeedStates;
  protected closed = false;
  private inEpoch = false;

  constructor(
    protected readonly shape: FeedShape,
    sources: FeedSources,
  ) {
    this.endStates = feedStates(sources);
  }

  /** One epoch's step arrays, in order. */
  protected abstract epochArrays(): Generator<StepArrays>;

  /** The streams' states once `epochArrays` has run to its end. */
  protected abstract statesAtEpochEnd(): FeedStates;

  abstract close(): void;

  *epoch(): Generator<StepInput> {
    if (this.closed) throw new Error('the training feed is closed');
    // A second epoch started before the first ended would take the first one's draws.
    if (this.inEpoch) throw new Error('the training feed is still in an epoch: finish it (or leave it, which closes the feed) first');
    this.inEpoch = true;
    let finished = false;
    try {
      for (const arrays of this.epochArrays()) yield stepInput(arrays, this.shape);
      this.endStates = this.statesAtEpochEnd();
      finished = true;
    } finally {
      this.inEpoch = false;
      if (!finished) this.close();
    }
  }

  states(): FeedStates {
    return this.endStates;
  }
}

class InlineFeed extends EpochFeed {
  constructor(
    private readonly split: MnistSplit,
    shape: FeedShape,
    private readonly sources: FeedSources,
  ) {
    super(shape, sources);
  }

  protected epochArrays(): Generator<StepArrays> {
    return epochStepArrays(this.split, this.shape, this.sources);
  }

  protected statesAtEpochEnd(): FeedStates {
    return feedStates(this.sources);
  }

  close(): void {
    this.closed = true;
  }
}

const WORKER_MODULE = join(__dirname, 'feed-worker.ts');
/** No step from the worker for this long means it is gone (a step takes it ~1 ms). */
const STALL_MS = 60_000;

class ThreadedFeed extends EpochFeed {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * Int32Array.BYTES_PER_ELEMENT));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private consumed = 0;
  /** What the last epoch's last step brought. */
  private lastEpochStates: FeedStates | null = null;

  constructor(split: MnistSplit, shape: FeedShape, sources: FeedSources) {
    super(shape, sources);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: FeedWorkerData = {
      control: this.control,
      port: port2,
      images: split.images,
      count: split.count,
      shape,
      states: this.states(),
      fixedBits: sources.binarizer.kind === 'fixed' ? sources.binarizer.bits : null,
    };
    this.worker = new Worker(loaderSource(WORKER_MODULE), { eval: true, workerData, transferList: [port2] });
    // Never keeps the process alive; failures reach the loop through the control array (see `next`).
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  protected *epochArrays(): Generator<StepArrays> {
    this.worker.postMessage({ kind: 'epoch' } satisfies ToFeedWorker);
    this.lastEpochStates = null;
    while (this.lastEpochStates === null) {
      const step = this.next();
      // The epoch's last step carries the states at its end.
      if (step.states) this.lastEpochStates = step.states;
      yield step;
    }
  }

  protected statesAtEpochEnd(): FeedStates {
    if (this.lastEpochStates === null) throw new Error('the training feed ended an epoch without its stream states');
    return this.lastEpochStates;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, CONTROL.status, FEED_STATUS.closing);
    Atomics.notify(this.control, CONTROL.consumed);
    void this.worker.terminate();
    this.port.close();
  }

  /** Blocks until the worker has posted the next step (the loop is synchronous: no events to wait for). */
  private next(): Extract<FromFeedWorker, { kind: 'step' }> {
    const started = Date.now();
    while (Atomics.load(this.control, CONTROL.produced) <= this.consumed) {
      if (Atomics.load(this.control, CONTROL.status) === FEED_STATUS.failed) break;
      if (Date.now() - started > STALL_MS) return this.fail(`it sent nothing for ${STALL_MS / 1000} s`);
      Atomics.wait(this.control, CONTROL.produced, this.consumed, 1000);
    }
    const message = receiveMessageOnPort(this.port)?.message as FromFeedWorker | undefined;
    if (message === undefined) return this.fail('no message');
    if (message.kind === 'error') return this.fail(message.message);
    this.consumed += 1;
    Atomics.store(this.control, CONTROL.consumed, this.consumed);
    Atomics.notify(this.control, CONTROL.consumed);
    return message;
  }

  private fail(reason: string): never {
    this.close();
    throw new Error(`the training feed's worker thread failed: ${reason}`);
  }
}

/**
 * The worker's entry: TypeScript through tsx (as the grid's worker processes), and a failure to load
 * reported the way the worker reports every failure, so the blocked loop sees it.
 */
function loaderSource(module: string): string {
  return `
const { workerData } = require('node:worker_threads');
try {
  require(${JSON.stringify(require.resolve('tsx/cjs'))});
  require(${JSON.stringify(module)});
} catch (err) {
  workerData.port.postMessage({ kind: 'error', message: 'cannot start: ' + (err && err.message ? err.message : String(err)) });
  Atomics.store(workerData.control, ${CONTROL.status}, ${FEED_STATUS.failed});
  Atomics.notify(workerData.control, ${CONTROL.produced});
}`;
}
