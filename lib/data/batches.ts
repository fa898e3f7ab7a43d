import * as tf from '@tensorflow/tfjs-node';
import { permutation, type RandomStream } from '../random/streams';
import { BinarizeScratch, binarizeImages, checkBinarizerFits, type Binarizer } from './binarize';
import type { MnistSplit } from './mnist';
import { PIXELS } from './shape';

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
 * One epoch of binarized batches, each a float32 tensor [b, 784] of 0/1 (the last one may be smaller).
 * The caller disposes every tensor it receives; breaking out early leaks nothing, since a tensor exists
 * only once it is yielded.
 *
 * Randomness: the shuffle is drawn from `order` right away, when `batches` is called (so a checkpoint
 * taken after the call sees it consumed); dynamic binarization draws from its stream as each batch is
 * produced. The same stream states give the same batches, bit for bit.
 */
export function batches(split: MnistSplit, options: BatchOptions): Generator<tf.Tensor2D> {
  const { batchSize, binarizer } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  checkBinarizerFits(binarizer, split);
  const order = options.order ? permutation(split.count, options.order) : null;
  return generateBatches(split, batchSize, order, binarizer);
}

function* generateBatches(
  split: MnistSplit,
  batchSize: number,
  order: Uint32Array | null,
  binarizer: Binarizer,
): Generator<tf.Tensor2D> {
  const scratch = new BinarizeScratch(batchSize);
  const indices = new Uint32Array(batchSize);
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    for (let i = 0; i < size; i++) indices[i] = order ? order[start + i] : start + i;
    // A fresh array per batch: tfjs-node may read the values lazily, after the next batch is made.
    const values = binarizeImages(split, indices.subarray(0, size), binarizer, scratch);
    yield tf.tensor2d(values, [size, PIXELS], 'float32');
  }
}
