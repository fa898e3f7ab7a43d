import * as tf from '@tensorflow/tfjs-node';
import { batchArrays, type BatchOptions } from './batch-arrays';
import type { MnistSplit } from './mnist';
import { PIXELS } from './shape';

export { batchCount, type BatchOptions } from './batch-arrays';

/**
 * One epoch of binarized batches, each a float32 tensor [b, 784] of 0/1 (the last one may be smaller):
 * `batchArrays` as tensors, with its randomness (the shuffle drawn at the call, binarization per batch).
 * The caller disposes every tensor it receives; breaking out early leaks nothing, since a tensor exists
 * only once it is yielded.
 */
export function batches(split: MnistSplit, options: BatchOptions): Generator<tf.Tensor2D> {
  return asTensors(batchArrays(split, options));
}

function* asTensors(arrays: Generator<Float32Array>): Generator<tf.Tensor2D> {
  try {
    // A fresh array per batch: tfjs-node may read the values lazily, after the next batch is made.
    for (const values of arrays) yield tf.tensor2d(values, [values.length / PIXELS, PIXELS], 'float32');
  } finally {
    arrays.return(undefined);
  }
}
