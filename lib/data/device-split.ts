import * as tf from '@tensorflow/tfjs-node';
import { gatherRows, lessAsFloat, rawOps as op } from '../model/raw-ops';
import type { CounterStream } from '../random/counter-stream';
import type { MnistSplit } from './mnist';
import { PIXELS } from './shape';

/**
 * A split's images on the TensorFlow side, as P(pixel = 1) = intensity / 255, so a batch of a whole
 * stack is binarized there: one gather of every run's rows, one counter-based uniform draw per run, one
 * comparison. Nothing of it is made in JS (the study's protocol draws a fresh binarization of each image
 * every time it is read: "dynamic").
 */
export class DeviceSplit {
  readonly count: number;
  readonly probabilities: tf.Tensor2D;

  constructor(split: MnistSplit) {
    this.count = split.count;
    const values = new Float32Array(split.count * PIXELS);
    for (let i = 0; i < values.length; i++) values[i] = split.images[i] / 255;
    this.probabilities = tf.keep(tf.tensor2d(values, [split.count, PIXELS], 'float32'));
  }

  /**
   * One fixed binarization of every image ('fixed' protocol): block j of FIXED_BLOCK images is draw j of
   * `stream`, so an image's bits depend on its index only. [count, 784] of 0/1 (caller disposes).
   */
  fixedBits(stream: CounterStream): tf.Tensor2D {
    return tf.tidy(() => {
      const blocks: tf.Tensor2D[] = [];
      for (let start = 0, j = 0; start < this.count; start += FIXED_BLOCK, j++) {
        const size = Math.min(FIXED_BLOCK, this.count - start);
        const p = this.probabilities.slice([start, 0], [size, PIXELS]);
        blocks.push(lessAsFloat(stream.uniform([size, PIXELS], j) as tf.Tensor2D, p));
      }
      return blocks.length === 1 ? blocks[0] : (op.concat(blocks, 0) as tf.Tensor2D);
    });
  }

  dispose(): void {
    this.probabilities.dispose();
  }
}

/** Images per draw of a fixed binarization (part of which bits an image gets: fixed for comparable numbers). */
export const FIXED_BLOCK = 1000;

/** Where one run's bits come from: a fresh draw of its stream (dynamic) or its fixed bits of this split. */
export type BinarizationSource = { kind: 'dynamic'; stream: CounterStream } | { kind: 'fixed'; bits: tf.Tensor2D };

/**
 * The binarized rows `indices[r]` of `split` for every run r of a stack: [R, n, 784] of 0/1 (caller
 * disposes). Dynamic sources draw their uniforms at `counter`; every run has the same n.
 */
export function binarizedRows(split: DeviceSplit, sources: readonly BinarizationSource[], indices: readonly Int32Array[], counter: number): tf.Tensor3D {
  const runs = sources.length;
  const n = indices[0].length;
  if (indices.length !== runs || indices.some((i) => i.length !== n)) throw new RangeError(`binarizedRows: ${indices.length} index lists of unequal length for ${runs} runs`);
  return tf.tidy(() => {
    if (sources.every((s) => s.kind === 'dynamic')) {
      const all = new Int32Array(runs * n);
      indices.forEach((rows, r) => all.set(rows, r * n));
      const p = gatherRows(split.probabilities, all);
      const uniforms = sources.map((s) => (s as Extract<BinarizationSource, { kind: 'dynamic' }>).stream.uniform([n, PIXELS], counter));
      return op.reshape<tf.Rank.R3>(lessAsFloat(runs === 1 ? uniforms[0] : op.concat(uniforms, 0), p), [runs, n, PIXELS]);
    }
    const pieces = sources.map((s, r) => {
      if (s.kind === 'fixed') return gatherRows(s.bits, indices[r]);
      return lessAsFloat(s.stream.uniform([n, PIXELS], counter), gatherRows(split.probabilities, indices[r]));
    });
    return op.reshape<tf.Rank.R3>(runs === 1 ? pieces[0] : op.concat(pieces, 0), [runs, n, PIXELS]);
  });
}

/** Batches in one pass over `count` images, counting the final partial batch. */
export function batchCount(count: number, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  return Math.ceil(count / batchSize);
}

/** Rows start..start+n-1 as an index list (passes that walk a split in order). */
export function rowRange(start: number, n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => start + i);
}
