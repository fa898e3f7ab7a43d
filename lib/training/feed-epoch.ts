import { batchArrays } from '../data/batch-arrays';
import type { Binarizer } from '../data/binarize';
import type { MnistSplit } from '../data/mnist';
import { PIXELS } from '../data/shape';
import type { RandomStream, StreamState } from '../random/streams';

/*
 * No TensorFlow here: the training feed's worker thread runs this module.
 */

/** What one training step's inputs look like. */
export interface FeedShape {
  batchSize: number;
  /** Importance samples per image. */
  k: number;
  latent: number;
}

/** The training loop's randomness: its run streams 'data-order' and 'noise', and the train binarizer. */
export interface FeedSources {
  order: RandomStream;
  /** Dynamic: draws from the run's 'binarization' stream; fixed: the run's one sample per image. */
  binarizer: Binarizer;
  noise: RandomStream;
}

/** One step's inputs as arrays: `size` images (0/1, [size, 784]) and their noise ([size, k, latent]). */
export interface StepArrays {
  size: number;
  x: Float32Array;
  noise: Float32Array;
}

/** The states of the run streams a feed draws from (checkpointed with the run's other streams). */
export type FeedStates = { 'data-order': StreamState; noise: StreamState; binarization?: StreamState };

/**
 * One epoch of the training loop's inputs, as it has always drawn them: the shuffle when the epoch
 * starts (`batchArrays`), then per step the batch's binarization and its reparameterization noise,
 * [size, k, latent] standard normals row-major (image, sample, unit) as `normalNoise` makes them.
 */
export function* epochStepArrays(split: MnistSplit, shape: FeedShape, sources: FeedSources): Generator<StepArrays> {
  for (const x of batchArrays(split, { batchSize: shape.batchSize, order: sources.order, binarizer: sources.binarizer })) {
    const size = x.length / PIXELS;
    yield { size, x, noise: sources.noise.fillNormal(new Float32Array(size * shape.k * shape.latent)) };
  }
}

/** The current states of `sources`' streams. */
export function feedStates(sources: FeedSources): FeedStates {
  const states: FeedStates = { 'data-order': sources.order.state(), noise: sources.noise.state() };
  if (sources.binarizer.kind === 'dynamic') states.binarization = sources.binarizer.stream.state();
  return states;
}
