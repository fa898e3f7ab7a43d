import * as tf from '@tensorflow/tfjs-node';
import { fixedBinarization } from '../data/binarize';
import { takeFirst, type MnistData, PIXELS } from '../data/mnist';
import type { Model } from '../model/model';
import { latentTraversal, priorSampleProbabilities, reconstructionProbabilities } from '../model/estimators';
import { createStream } from '../random/streams';

export interface RunSamples {
  /** Binarized test images, their reconstructions p(x | z = E_q[z|x]) and Bernoulli means of prior samples. */
  originals: Float32Array;
  reconstructions: Float32Array;
  priorSamples: Float32Array;
  count: number;
  /** Decodings of the first test image with each of the most active units swept over `values`. */
  traversals: Array<{ unit: number; activity: number }>;
  traversalValues: number[];
  traversalImages: Float32Array;
}

/**
 * What a trained model generates: reconstructions, prior samples and latent traversals of its most active
 * units (by the last epoch's A_u). All randomness from streams of `seed`. The caller owns `model`.
 */
export function runSamples(model: Model, data: MnistData, activity: readonly number[], options: { count?: number; units?: number; seed?: number } = {}): RunSamples {
  const count = options.count ?? 10;
  const seed = options.seed ?? 0;
  const values = [-3, -2, -1, 0, 1, 2, 3];
  const top = activity
    .map((a, unit) => ({ unit, activity: a }))
    .sort((a, b) => b.activity - a.activity)
    .slice(0, options.units ?? 5);
  const split = takeFirst(data.test, count);
  const bits = fixedBinarization(split, createStream(seed, 'sample-binarization'));
  const originals = Float32Array.from(bits);
  const [reconstructions, priorSamples, traversalImages] = tf.tidy(() => {
    const x = tf.tensor2d(originals, [count, PIXELS]);
    const rec = reconstructionProbabilities(model, x).dataSync() as Float32Array;
    const prior = priorSampleProbabilities(model, count, createStream(seed, 'prior-samples')).dataSync() as Float32Array;
    const first = x.slice([0, 0], [1, PIXELS]) as tf.Tensor2D;
    const sweeps = top.map((t) => latentTraversal(model, first, t.unit, values).dataSync() as Float32Array);
    const all = new Float32Array(sweeps.length * values.length * PIXELS);
    sweeps.forEach((s, i) => all.set(s, i * values.length * PIXELS));
    return [Float32Array.from(rec), Float32Array.from(prior), all];
  });
  return { originals, reconstructions, priorSamples, count, traversals: top, traversalValues: values, traversalImages };
}
