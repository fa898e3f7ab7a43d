import { parentPort, workerData } from 'node:worker_threads';
import type { Binarizer } from '../data/binarize';
import { batchCount } from '../data/batch-arrays';
import { restoreStream } from '../random/streams';
import { epochStepArrays, feedStates, type FeedSources } from './feed-epoch';
import { CONTROL, FEED_AHEAD, FEED_STATUS, type FeedWorkerData, type FromFeedWorker, type ToFeedWorker } from './feed-protocol';

/**
 * The training feed's worker thread (started by `ThreadedFeed` in feed.ts): makes each epoch's batches
 * and noise from the run's streams, up to FEED_AHEAD steps ahead of the training loop, while the loop's
 * thread runs TensorFlow. Same code and draws as the loop's own inline feed (epochStepArrays).
 */
const data = workerData as FeedWorkerData;
const { control, port } = data;
const split = { images: data.images, labels: new Uint8Array(0), count: data.count };
const binarizer: Binarizer = data.fixedBits
  ? { kind: 'fixed', bits: data.fixedBits }
  : { kind: 'dynamic', stream: restoreStream('binarization', data.states.binarization!) };
const sources: FeedSources = {
  order: restoreStream('data-order', data.states['data-order']),
  binarizer,
  noise: restoreStream('noise', data.states.noise),
};
const stepsPerEpoch = batchCount(split.count, data.shape.batchSize);

function post(message: FromFeedWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Waits until the loop is fewer than FEED_AHEAD steps behind; false if the feed is closing. */
function roomFor(produced: number): boolean {
  let consumed = Atomics.load(control, CONTROL.consumed);
  while (produced - consumed >= FEED_AHEAD) {
    if (Atomics.load(control, CONTROL.status) === FEED_STATUS.closing) return false;
    Atomics.wait(control, CONTROL.consumed, consumed, 1000);
    consumed = Atomics.load(control, CONTROL.consumed);
  }
  return Atomics.load(control, CONTROL.status) !== FEED_STATUS.closing;
}

function produceEpoch(): void {
  let produced = Atomics.load(control, CONTROL.produced);
  let step = 0;
  for (const arrays of epochStepArrays(split, data.shape, sources)) {
    step += 1;
    if (!roomFor(produced)) return;
    // The last step carries the states at the end of the epoch, for the loop's checkpoint.
    const states = step === stepsPerEpoch ? feedStates(sources) : undefined;
    post({ kind: 'step', size: arrays.size, x: arrays.x, noise: arrays.noise, states }, [arrays.x.buffer as ArrayBuffer, arrays.noise.buffer as ArrayBuffer]);
    produced += 1;
    Atomics.store(control, CONTROL.produced, produced);
    Atomics.notify(control, CONTROL.produced);
  }
}

parentPort!.on('message', (message: ToFeedWorker) => {
  if (message.kind !== 'epoch') return;
  try {
    produceEpoch();
  } catch (err) {
    post({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    Atomics.store(control, CONTROL.status, FEED_STATUS.failed);
    Atomics.notify(control, CONTROL.produced);
  }
});
