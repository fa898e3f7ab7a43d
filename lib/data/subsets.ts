import type { MnistSplit } from './mnist';
import { PIXELS } from './shape';

/** Images `start .. end-1` of a split, as views sharing its bytes (no copy). */
export function sliceSplit(split: MnistSplit, start: number, end: number): MnistSplit {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > split.count) {
    throw new RangeError(`cannot take images ${start}..${end - 1} of a split of ${split.count}`);
  }
  return {
    images: split.images.subarray(start * PIXELS, end * PIXELS),
    labels: split.labels.subarray(start, end),
    count: end - start,
  };
}

/** Burda et al. trained on 59,600 images and kept 400 for validation. */
export const BURDA_VALIDATION_SIZE = 400;

/**
 * A deterministic validation split: the LAST `validationSize` images of `split` are the validation set,
 * the rest (in file order) the training set. It does not depend on any seed, so every run and every
 * model sees the same 400 validation images, and both parts are views (no copy). MNIST's training file
 * is not sorted by digit, so its last 400 images hold every class (see test/data/subsets.test.ts).
 * Compose with `takeFirst` for quick profiles: `splitValidation(takeFirst(train, n), v)`.
 */
export function splitValidation(
  split: MnistSplit,
  validationSize: number = BURDA_VALIDATION_SIZE,
): { train: MnistSplit; validation: MnistSplit } {
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize >= split.count) {
    throw new RangeError(`validation size ${validationSize} must be an integer in 0..${split.count - 1}`);
  }
  const cut = split.count - validationSize;
  return { train: sliceSplit(split, 0, cut), validation: sliceSplit(split, cut, split.count) };
}
