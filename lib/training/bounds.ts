import { makeBinarizer, type Binarizer } from '../data/binarize';
import type { MnistSplit } from '../data/mnist';
import type { Model } from '../model/model';
import { createStream, type RandomStream } from '../random/streams';
import { datasetBound, type BoundEstimate } from './evaluate';

/** Images per batch of the bound estimates: part of how the noise is drawn, so fixed for comparable numbers. */
export const BOUND_BATCH = 100;

/** The one fixed binarization of an evaluation split: every k and the active-unit pass see the same bits. */
export function evaluationBinarizer(split: MnistSplit, seed: number): Binarizer {
  return makeBinarizer('fixed', split, createStream(seed, 'eval'));
}

/**
 * L_k for several k on the same images: one binarization for every k, so differences between k are the
 * bound's and not the data's; each k its own noise stream (`noiseFor(k)`), so adding a k never changes
 * another k's number. Sorted by k. `onProgress` gets images x samples done out of the ladder's total.
 */
export function boundLadder(
  model: Model,
  split: MnistSplit,
  ks: readonly number[],
  binarizer: Binarizer,
  noiseFor: (k: number) => RandomStream,
  onProgress?: (done: number, total: number, k: number) => void,
): BoundEstimate[] {
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  const totalWork = sorted.reduce((sum, k) => sum + k, 0) * split.count;
  let workBefore = 0;
  return sorted.map((k) => {
    const estimate = datasetBound(model, split, k, noiseFor(k), {
      batchSize: BOUND_BATCH,
      binarizer,
      onBatch: (images) => onProgress?.(workBefore + images * k, totalWork, k),
    });
    workBefore += k * split.count;
    return estimate;
  });
}

/**
 * The ladder as `iwae eval` and the notebooks compute it: the seed's 'eval' binarization (pass
 * `binarizer` when it is already made, e.g. for an active-unit pass on the same bits) and its
 * 'eval-noise-k<k>' streams.
 */
export function boundsOnSplit(
  model: Model,
  split: MnistSplit,
  ks: readonly number[],
  seed: number,
  options: { binarizer?: Binarizer; onProgress?: (done: number, total: number, k: number) => void } = {},
): BoundEstimate[] {
  const binarizer = options.binarizer ?? evaluationBinarizer(split, seed);
  return boundLadder(model, split, ks, binarizer, (k) => createStream(seed, `eval-noise-k${k}`), options.onProgress);
}

/** True when the estimates do not decrease with k (L_k is non-decreasing in k in expectation). */
export function boundsIncreaseWithK(estimates: readonly BoundEstimate[]): boolean {
  return estimates.every((e, i) => i === 0 || e.mean >= estimates[i - 1].mean);
}
