import { permutation, type RandomStream } from '../random/streams';
import { BinarizeScratch, binarizeImages, checkBinarizerFits, type Binarizer } from './binarize';
import type { MnistSplit } from './mnist';

/*
 * No TensorFlow here: the training feed's worker thread (lib/training/feed-worker.ts) makes batches with
 * this module, and must not load tfjs-node.
 */

export interface BatchOptions {
  batchSize: number;
  /** Shuffles the images once per `batches` call (one epoch) when given; file order when absent. */
  order?: RandomStream;
  binarizer: Binarizer;
}

/** Batches in one pass over `count` images, counting the final partial batch. */
export function batchCount(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/**
 * One epoch of binarized batches as arrays of 0/1 (`size * 784` values, the last batch may be smaller),
 * a fresh array per batch.
 *
 * Randomness: the shuffle is drawn from `order` right away, when `batchArrays` is called (so a checkpoint
 * taken after the call sees it consumed); dynamic binarization draws from its stream as each batch is
 * produced. The same stream states give the same batches, bit for bit.
 */
export function batchArrays(split: MnistSplit, options: BatchOptions): Generator<Float32Array> {
  const { batchSize, binarizer } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  checkBinarizerFits(binarizer, split);
  const order = options.order ? permutation(split.count, options.order) : null;
  return generateBatchArrays(split, batchSize, order, binarizer);
}

function* generateBatchArrays(split: MnistSplit, batchSize: number, order: Uint32Array | null, binarizer: Binarizer): Generator<Float32Array> {
  const scratch = new BinarizeScratch(batchSize);
  const indices = new Uint32Array(batchSize);
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    for (let i = 0; i < size; i++) indices[i] = order ? order[start + i] : start + i;
    yield binarizeImages(split, indices.subarray(0, size), binarizer, scratch);
  }
}
