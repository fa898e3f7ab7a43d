import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { decodeLogits, encode, type Network, type Posterior } from './network';

/**
 * Per-sample terms of k reparameterized samples z_i = mean + exp(logVariance / 2) * eps_i, each [batch, k].
 * The log(2 pi) constants of log p(z) and log q(z|x) are left out: they cancel in log w and in the KL.
 */
export interface SampleTerms {
  posterior: Posterior;
  /** log p(x|z_i), Bernoulli from logits: sum over pixels of x l - softplus(l). */
  logLikelihood: tf.Tensor2D;
  /** log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x). */
  logWeights: tf.Tensor2D;
}

/**
 * `noise` is [batch, k, latent] standard normals (made in JS from the run's 'noise' stream: cheaper than
 * tf.randomNormal and reproducible). Call inside tf.tidy or a gradient function.
 */
export function sampleTerms(network: Network, x: tf.Tensor2D, noise: tf.Tensor3D): SampleTerms {
  const posterior = encode(network, x);
  return sampleTermsGiven(network, posterior, x, noise);
}

/** As `sampleTerms`, reusing an encoder pass (the k = 5000 estimator decodes many chunks per encoding). */
export function sampleTermsGiven(network: Network, posterior: Posterior, x: tf.Tensor2D, noise: tf.Tensor3D): SampleTerms {
  const [batch, k, latent] = noise.shape;
  if (batch !== x.shape[0] || latent !== network.layout.architecture.latent) {
    throw new RangeError(`noise is [${noise.shape}], expected [${x.shape[0]}, k, ${network.layout.architecture.latent}]`);
  }
  const std = tf.exp(tf.mul(posterior.logVariance, 0.5));
  const z = tf.add(tf.expandDims(posterior.mean, 1), tf.mul(tf.expandDims(std, 1), noise)) as tf.Tensor3D;
  const logits = decodeLogits(network, tf.reshape(z, [batch * k, latent])).reshape([batch, k, network.layout.architecture.input]);
  const pixels = tf.expandDims(x, 1);
  const logLikelihood = tf.sum(tf.sub(tf.mul(pixels, logits), tf.softplus(logits)), 2) as tf.Tensor2D;
  // log p(z) - log q(z|x) = -|z|^2/2 + |eps|^2/2 + sum(logVariance)/2; (z - mean)/std is exactly eps.
  const logPriorOverPosterior = tf.add(
    tf.mul(tf.sub(tf.sum(tf.square(noise), 2), tf.sum(tf.square(z), 2)), 0.5),
    tf.mul(tf.sum(posterior.logVariance, 1, true), 0.5),
  );
  const logWeights = tf.add(logLikelihood, logPriorOverPosterior) as tf.Tensor2D;
  return { posterior, logLikelihood, logWeights };
}

/** KL(q(z|x) || N(0, I)) in closed form, per row: 0.5 sum(mean^2 + exp(logVariance) - logVariance - 1). */
export function closedFormKl(posterior: Posterior): tf.Tensor1D {
  const { mean, logVariance } = posterior;
  const perUnit = tf.sub(tf.add(tf.square(mean), tf.exp(logVariance)), tf.add(logVariance, 1));
  return tf.mul(tf.sum(perUnit, 1), 0.5) as tf.Tensor1D;
}

/** L_k per row: log (1/k) sum_i w_i, by a stable log-sum-exp. */
export function importanceBound(logWeights: tf.Tensor2D): tf.Tensor1D {
  const k = logWeights.shape[1];
  return tf.sub(tf.logSumExp(logWeights, 1), Math.log(k)) as tf.Tensor1D;
}

/** Batch means; `loss` is what training minimizes, `reconstruction + kl` is what the study reported. */
export interface ObjectiveValues {
  loss: tf.Scalar;
  /** VAE: -mean_i log p(x|z_i). IWAE: -sum_i w~_i log p(x|z_i) (self-normalized, as the study split it). */
  reconstruction: tf.Scalar;
  /** VAE: closed form. Sampled-KL VAE: mean_i log q - log p. IWAE: sum_i w~_i (log q - log p). */
  kl: tf.Scalar;
  /** The loss of each image ([batch]; `loss` is its mean): standard errors over images come from it. */
  lossPerImage: tf.Tensor1D;
  /** E_q[z|x] of each image (already computed; the test pass accumulates active units from it). */
  posteriorMean: tf.Tensor2D;
}

/**
 * The three objectives, as batch means of per-image values:
 * - 'vae': -(mean_i log p(x|z_i)) + KL in closed form (the study's VAE);
 * - 'vae-sampled-kl': -mean_i log w_i (KL estimated from the same samples; with k = 1 this is exactly
 *   the IWAE objective, which isolates the KL estimator as the k = 1 VAE/IWAE difference);
 * - 'iwae': -L_k. Its gradient equals that of -sum_i w~_i log w_i with w~ = softmax(log w) held fixed.
 */
export function objectiveValues(model: ModelName, network: Network, x: tf.Tensor2D, noise: tf.Tensor3D): ObjectiveValues {
  const terms = sampleTerms(network, x, noise);
  const reconstructionPerImage = tf.neg(tf.mean(terms.logLikelihood, 1));
  const posteriorMean = terms.posterior.mean;
  switch (model) {
    case 'vae': {
      const reconstruction = tf.mean(reconstructionPerImage) as tf.Scalar;
      const klPerImage = closedFormKl(terms.posterior);
      const kl = tf.mean(klPerImage) as tf.Scalar;
      const lossPerImage = tf.add(reconstructionPerImage, klPerImage) as tf.Tensor1D;
      return { loss: tf.add(reconstruction, kl), reconstruction, kl, lossPerImage, posteriorMean };
    }
    case 'vae-sampled-kl': {
      const lossPerImage = tf.neg(tf.mean(terms.logWeights, 1)) as tf.Tensor1D;
      const loss = tf.mean(lossPerImage) as tf.Scalar;
      const reconstruction = tf.mean(reconstructionPerImage) as tf.Scalar;
      return { loss, reconstruction, kl: tf.sub(loss, reconstruction), lossPerImage, posteriorMean };
    }
    case 'iwae': {
      const lossPerImage = tf.neg(importanceBound(terms.logWeights)) as tf.Tensor1D;
      const loss = tf.mean(lossPerImage) as tf.Scalar;
      // Off the loss's gradient path: only reported, so no stop-gradient is needed.
      const normalized = tf.softmax(terms.logWeights);
      const batch = x.shape[0];
      const reconstruction = tf.div(tf.neg(tf.sum(tf.mul(normalized, terms.logLikelihood))), batch) as tf.Scalar;
      const studyLoss = tf.div(tf.neg(tf.sum(tf.mul(normalized, terms.logWeights))), batch) as tf.Scalar;
      return { loss, reconstruction, kl: tf.sub(studyLoss, reconstruction), lossPerImage, posteriorMean };
    }
  }
}
