import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { decodeLogits, encode, type DenseLayer, type Network, type Posterior } from './network';

/** The objectives whose values the models report (and whose loss training lowers). */
export type ValueObjective = 'vae' | 'iwae' | 'vae-sampled-kl';
/**
 * How a model's gradient is taken: 'full', the loss's own gradient (reparameterized); 'stl', the
 * encoder gets only the path derivative through z_i (log q's direct dependence on the encoder is
 * dropped); 'dreg', as 'stl' with the squared normalized weights w~_i^2 on the encoder's path derivative.
 * The decoder's gradient is the full one in all three.
 */
export type GradientEstimator = 'full' | 'stl' | 'dreg';

/** Each model as its value objective and its gradient estimator. */
export const MODEL_ESTIMATORS: Readonly<Record<ModelName, { value: ValueObjective; gradient: GradientEstimator }>> = {
  vae: { value: 'vae', gradient: 'full' },
  iwae: { value: 'iwae', gradient: 'full' },
  'vae-sampled-kl': { value: 'vae-sampled-kl', gradient: 'full' },
  'iwae-stl': { value: 'iwae', gradient: 'stl' },
  'iwae-dreg': { value: 'iwae', gradient: 'dreg' },
  'vae-stl': { value: 'vae-sampled-kl', gradient: 'stl' },
};

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
 * The three value objectives, as batch means of per-image values (a gradient-estimator model has its
 * base objective's values, MODEL_ESTIMATORS; autograd of its `loss` is the full gradient, see
 * `estimatorSurrogate` for its own):
 * - 'vae': -(mean_i log p(x|z_i)) + KL in closed form (the study's VAE);
 * - 'vae-sampled-kl': -mean_i log w_i (KL estimated from the same samples; with k = 1 this is exactly
 *   the IWAE objective, which isolates the KL estimator as the k = 1 VAE/IWAE difference);
 * - 'iwae': -L_k. Its gradient equals that of -sum_i w~_i log w_i with w~ = softmax(log w) held fixed.
 */
export function objectiveValues(model: ModelName, network: Network, x: tf.Tensor2D, noise: tf.Tensor3D): ObjectiveValues {
  const terms = sampleTerms(network, x, noise);
  const reconstructionPerImage = tf.neg(tf.mean(terms.logLikelihood, 1));
  const posteriorMean = terms.posterior.mean;
  switch (MODEL_ESTIMATORS[model].value) {
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

/** `x`'s value as a constant of autograd (its gradient is zero). tfjs has no stop-gradient op. */
export const stopGradient = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as <T extends tf.Tensor>(x: T) => T;

/** The network with its decoder's parameters held constant (the encoder's stay live). */
function withStoppedDecoder(network: Network): Network {
  const stop = (layer: DenseLayer): DenseLayer => ({ weight: stopGradient(layer.weight), bias: stopGradient(layer.bias) });
  return { ...network, decoder: network.decoder.map(stop) };
}

/** log p(x|z) per sample from Bernoulli logits [batch, k, input]: sum over pixels of x l - softplus(l). */
function bernoulliLogLikelihood(x: tf.Tensor2D, logits: tf.Tensor3D): tf.Tensor2D {
  return tf.sum(tf.sub(tf.mul(tf.expandDims(x, 1), logits), tf.softplus(logits)), 2) as tf.Tensor2D;
}

/** z_i = mean + exp(logVariance / 2) * eps_i, [batch, k, latent]. */
function reparameterize(posterior: Posterior, noise: tf.Tensor3D): tf.Tensor3D {
  const std = tf.exp(tf.mul(posterior.logVariance, 0.5));
  return tf.add(tf.expandDims(posterior.mean, 1), tf.mul(tf.expandDims(std, 1), noise)) as tf.Tensor3D;
}

/**
 * log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x) [batch, k] with q's mean and logVariance held
 * constant: z_i = mean + std * eps_i still carries the encoder's parameters, so the encoder's gradient is
 * the path derivative only ("sticking the landing"). The decoder is `decoder` (live or stopped). The values
 * equal `sampleTermsGiven`'s to float32 rounding ((z - mean) / std is eps up to rounding).
 */
function pathLogWeights(decoder: Network, posterior: Posterior, x: tf.Tensor2D, noise: tf.Tensor3D): tf.Tensor2D {
  const [batch, k, latent] = noise.shape;
  const z = reparameterize(posterior, noise);
  const logits = decodeLogits(decoder, tf.reshape(z, [batch * k, latent])).reshape([batch, k, decoder.layout.architecture.input]) as tf.Tensor3D;
  const logVariance = stopGradient(posterior.logVariance);
  const mean = tf.expandDims(stopGradient(posterior.mean), 1);
  const std = tf.expandDims(tf.exp(tf.mul(logVariance, 0.5)), 1);
  const standardized = tf.div(tf.sub(z, mean), std); // eps_i in value, a function of z_i for the gradient
  // log p(z) - log q(z|x) = (|(z - mean) / std|^2 - |z|^2 + sum(logVariance)) / 2 (the log 2 pi terms cancel).
  const logPriorOverPosterior = tf.mul(tf.add(tf.sub(tf.sum(tf.square(standardized), 2), tf.sum(tf.square(z), 2)), tf.sum(logVariance, 1, true)), 0.5);
  return tf.add(bernoulliLogLikelihood(x, logits), logPriorOverPosterior) as tf.Tensor2D;
}

/**
 * A scalar whose autograd gradient (with respect to the network's parameters) is `model`'s gradient
 * estimator of its loss: the autograd reference of the fast path (lib/model/fast-gradient.ts). Its value
 * need not be the loss (`objectiveValues` gives that). For a 'full' model, the loss itself. Otherwise,
 * with log w_i^path from `pathLogWeights`:
 * - 'stl': the base objective on log w^path, per image -(L_k) or -mean_i log w_i^path;
 * - 'dreg' (Tucker et al. 2019's surrogate), with w~ = softmax_i log w_i held constant:
 *   -sum_i w~_i log p(x|z_i) with z_i held constant (decoder: sum_i w~_i d log w_i / d theta), minus
 *   sum_i w~_i^2 log w_i^path with the decoder held constant (encoder: sum_i w~_i^2 d log w_i / d z_i
 *   d z_i / d phi).
 * Batch means. Its own encoder and decoder passes (DReG: two decoder passes), for clarity over speed.
 * Call inside tf.tidy or a gradient function.
 */
export function estimatorSurrogate(model: ModelName, network: Network, x: tf.Tensor2D, noise: tf.Tensor3D): tf.Scalar {
  const { value, gradient } = MODEL_ESTIMATORS[model];
  if (gradient === 'full') return objectiveValues(model, network, x, noise).loss;
  const [batch, k, latent] = noise.shape;
  const posterior = encode(network, x);
  if (gradient === 'stl') {
    const logWeights = pathLogWeights(network, posterior, x, noise);
    if (value === 'iwae') return tf.neg(tf.mean(importanceBound(logWeights))) as tf.Scalar;
    if (value === 'vae-sampled-kl') return tf.neg(tf.mean(logWeights)) as tf.Scalar;
    throw new RangeError(`no STL estimator of '${value}'`);
  }
  if (value !== 'iwae') throw new RangeError(`no DReG estimator of '${value}'`);
  const encoderPath = pathLogWeights(withStoppedDecoder(network), posterior, x, noise);
  const normalized = stopGradient(tf.softmax(encoderPath));
  const z = stopGradient(reparameterize(posterior, noise));
  const logits = decodeLogits(network, tf.reshape(z, [batch * k, latent])).reshape([batch, k, network.layout.architecture.input]) as tf.Tensor3D;
  const decoderTerm = tf.sum(tf.mul(normalized, bernoulliLogLikelihood(x, logits)));
  const encoderTerm = tf.sum(tf.mul(tf.square(normalized), encoderPath));
  return tf.div(tf.neg(tf.add(decoderTerm, encoderTerm)), batch) as tf.Scalar;
}
