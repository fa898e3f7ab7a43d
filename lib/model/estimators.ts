import * as tf from '@tensorflow/tfjs-node';
import type { RandomStream } from '../random/streams';
import { withNetwork, type Model } from './model';
import { decodeLogits, encode } from './network';
import { normalNoise } from './noise';
import { sampleTermsGiven } from './objectives';

/**
 * Rows decoded at once by the bound estimator: [rows, 784] float32 tensors of ~15 MB. The noise is drawn
 * chunk by chunk, so results depend on this value: keep the default for comparable numbers.
 */
export const DEFAULT_MAX_ROWS = 5000;

/**
 * L_k = log (1/k) sum_i w_i for each row of `x` (0/1 pixels), any k (k = 5000 for log-likelihood).
 * Samples are processed in chunks of at most `maxRows` decoded rows, so memory stays bounded whatever k is
 * (never a [batch, 5000, 784] tensor); each chunk's log-sum-exp is merged in float64 with a running max.
 */
export function importanceBoundPerImage(
  model: Model,
  x: tf.Tensor2D,
  k: number,
  noiseStream: RandomStream,
  options: { maxRows?: number } = {},
): Float64Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer >= 1, got ${k}`);
  const batch = x.shape[0];
  const latent = model.layout.architecture.latent;
  const perChunk = Math.max(1, Math.min(k, Math.floor((options.maxRows ?? DEFAULT_MAX_ROWS) / batch)));
  const runningMax = new Float64Array(batch).fill(-Infinity);
  const runningSum = new Float64Array(batch); // sum of exp(lse_chunk - runningMax)
  // One encoder pass serves every chunk.
  const posterior = withNetwork(model, (network) => encode(network, x));
  try {
    for (let done = 0; done < k; done += perChunk) {
      const samples = Math.min(perChunk, k - done);
      const chunkLse = withNetwork(model, (network) => {
        const noise = normalNoise(noiseStream, batch, samples, latent);
        const terms = sampleTermsGiven(network, posterior, x, noise);
        return tf.logSumExp(terms.logWeights, 1);
      });
      const values = chunkLse.dataSync();
      chunkLse.dispose();
      for (let b = 0; b < batch; b++) {
        const v = values[b];
        if (v === -Infinity) continue; // a zero weight adds nothing (and -Inf - -Inf would be NaN)
        if (v > runningMax[b]) {
          runningSum[b] = runningSum[b] * Math.exp(runningMax[b] - v) + 1;
          runningMax[b] = v;
        } else {
          runningSum[b] += Math.exp(v - runningMax[b]);
        }
      }
    }
  } finally {
    posterior.mean.dispose();
    posterior.logVariance.dispose();
  }
  const bound = new Float64Array(batch);
  for (let b = 0; b < batch; b++) bound[b] = runningMax[b] + Math.log(runningSum[b]) - Math.log(k);
  return bound;
}

/** E_q[z|x] for each row of `x`: [batch, latent] (caller disposes). Used for active units. */
export function posteriorMeans(model: Model, x: tf.Tensor2D): tf.Tensor2D {
  return withNetwork(model, (network) => encode(network, x).mean);
}

/** Bernoulli means p(x|z = E_q[z|x]): the model's reconstruction of each row, [batch, input]. */
export function reconstructionProbabilities(model: Model, x: tf.Tensor2D): tf.Tensor2D {
  return withNetwork(model, (network) => tf.sigmoid(decodeLogits(network, encode(network, x).mean)));
}

/** Bernoulli means of p(x|z) for `count` draws z ~ N(0, I) from `stream`: [count, input]. */
export function priorSampleProbabilities(model: Model, count: number, stream: RandomStream): tf.Tensor2D {
  const latent = model.layout.architecture.latent;
  return withNetwork(model, (network) => {
    const z = normalNoise(stream, count, 1, latent).reshape([count, latent]) as tf.Tensor2D;
    return tf.sigmoid(decodeLogits(network, z));
  });
}

/**
 * Decodings of one image's posterior mean with latent `unit` set to each of `values` (a latent
 * traversal): [values.length, input] Bernoulli means. `image` is [1, input].
 */
export function latentTraversal(model: Model, image: tf.Tensor2D, unit: number, values: number[]): tf.Tensor2D {
  const latent = model.layout.architecture.latent;
  if (!Number.isInteger(unit) || unit < 0 || unit >= latent) throw new RangeError(`unit must be in 0..${latent - 1}, got ${unit}`);
  return withNetwork(model, (network) => {
    const mean = encode(network, image).mean.dataSync();
    const z = new Float32Array(values.length * latent);
    values.forEach((value, row) => {
      z.set(mean, row * latent);
      z[row * latent + unit] = value;
    });
    return tf.sigmoid(decodeLogits(network, tf.tensor2d(z, [values.length, latent])));
  });
}
