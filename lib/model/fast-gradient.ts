import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { MODEL_ESTIMATORS } from './objectives';
import { batchMatMul, filledConstant, rawOps as op, tanhGrad } from './raw-ops';
import type { Architecture } from './architecture';
import type { StackedLayer, StackLayout } from './stack';

/**
 * The objective's values and gradient for a stack of R runs (lib/model/stack.ts) with a hand-written
 * backward pass: the fast path next to the autograd reference (lib/model/reference-gradient.ts), which
 * it must match run by run within float tolerance (test/model/fast-path.test.ts). One run is a stack of
 * one. Why it looks like this:
 * - every op costs a fixed dispatch whatever its size, so the runs share each op: every layer is
 *   one BatchMatMul over the run axis ([R, rows, in] x [R, in, out]) and every elementwise op covers all
 *   runs; the products then run near the machine's matmul rate instead of ~60% of it;
 * - the MLP backward is written out (dW = h^T delta, db = sum delta, dh = delta W^T, tanh' = 1 - h^2);
 * - each run's k samples are laid out sample-major (row i * batch + b): the posterior reaches every
 *   sample with one Tile, and the samples sum back onto their image with one reshape + Sum;
 * - the objective's tiny per-sample part runs in JS in float64 (`objectiveWeights`): after the forward
 *   pass only log p(x|z) and the prior/posterior term per sample are read back, the loss and the
 *   per-sample weights of the backward pass (IWAE: the normalized importance weights) are computed per
 *   run, and go back as one [R, rows, 1] tensor: log-sum-exp, softmax and the closed-form KL cost no
 *   kernels;
 * - the gradient estimators (MODEL_ESTIMATORS in objectives.ts) differ only in the encoder's share of the
 *   prior/posterior term and, for DReG, in one per-sample factor on d loss / d z (`stackedLossAndGradient`);
 * - ops are called straight on tfjs-node's backend (lib/model/raw-ops.ts).
 */

/** Batch means, as the autograd path reports them (float32-rounded, so the finite check agrees too). */
export interface FastValues {
  loss: number;
  reconstruction: number;
  kl: number;
  /** False when any value is NaN or +-Inf. */
  finite: boolean;
}

/** One run's share of a stacked forward pass. */
export interface RunForward {
  values: FastValues;
  /** The loss of each image ([batch]; `values.loss` is their mean). */
  lossPerImage: Float64Array;
}

export interface StackedGradient {
  /** Per run, in stack order. */
  runs: RunForward[];
  /**
   * d loss / d each parameter block (the stack's vector order, [R * size] each): each run's slice is its
   * own gradient. A run whose values are not finite gets zero upstream weights, so its slice is zero or
   * NaN: the caller decides for it.
   */
  gradient: tf.Tensor1D[];
}

/** Layer inputs (x, then each hidden activation) kept for the backward pass, and the linear output. */
interface MlpForward {
  inputs: tf.Tensor3D[];
  output: tf.Tensor3D;
}

interface LayerGradient {
  weight: tf.Tensor3D;
  bias: tf.Tensor2D;
}

/** What the forward pass leaves for the JS part and the backward pass. */
interface StackForward {
  layers: { encoder: StackedLayer[]; decoder: StackedLayer[] };
  encoded: MlpForward;
  decoded: MlpForward;
  signs: tf.Tensor3D;
  correct: tf.Tensor3D;
  z: tf.Tensor3D;
  spread: tf.Tensor3D;
  /** The (padded) noise eps and exp(logVariance / 2) of every sample row: spread = std * eps. */
  noise: tf.Tensor3D;
  std: tf.Tensor3D;
  readback: ForwardReadback[];
  /** Real images per run, and the images computed with (see `paddedBatch`). */
  images: number;
  batch: number;
}

/**
 * Checks the shapes: `x` [R, batch, input] of 0/1, `noise` [R, k * batch, latent] standard normals,
 * sample-major (row i * batch + b is sample i of image b).
 */
function stackShape(layout: StackLayout, x: tf.Tensor3D, noise: tf.Tensor3D, k: number): { runs: number; batch: number; rows: number } {
  const { input, latent } = layout.run.architecture;
  const [runs, batch, pixels] = x.shape;
  if (runs !== layout.runs || pixels !== input || !tf.util.arraysEqual(noise.shape, [runs, k * batch, latent])) {
    throw new RangeError(`x is [${x.shape}] and noise [${noise.shape}], expected [${layout.runs}, batch, ${input}] and [${layout.runs}, ${k} x batch, ${latent}]`);
  }
  return { runs, batch, rows: k * batch };
}

function forward(layout: StackLayout, params: readonly tf.Tensor1D[], objective: ModelName, realX: tf.Tensor3D, realNoise: tf.Tensor3D, k: number): StackForward {
  const { runs } = stackShape(layout, realX, realNoise, k);
  const latent = layout.run.architecture.latent;
  const { x, noise, images, batch } = padImages(layout, realX, realNoise, k);
  const rows = k * batch;
  const layers = unpackLayers(layout, params);
  const { encoder, decoder } = layers;
  const [half, one, two] = [0.5, 1, 2].map((v) => filledConstant(v, []));
  const encoded = mlpForward(encoder, x);
  const tiled = op.tile(encoded.output, [1, k, 1]); // row i * batch + b = image b's posterior
  const [meanTiled, logVarianceTiled] = op.split(tiled, [latent, latent], 2) as [tf.Tensor3D, tf.Tensor3D];
  const std = op.exp(op.mul(logVarianceTiled, half));
  const spread = op.mul(std, noise); // std * eps = z - mean
  const z = op.add(meanTiled, spread);
  const decoded = mlpForward(decoder, z);
  // log p(x|z) = sum_p log sigmoid(s l), s = 2x - 1: one Sigmoid the backward pass reuses and a cheap
  // Log instead of a Softplus. It underflows to -Inf only where s l < -87 (a pixel predicted wrong with
  // |logit| > 87); the run's loss is then not finite and the trainer asks the exact reference path.
  const signs = op.tile(op.sub(op.mul(x, two), one), [1, k, 1]);
  const correct = op.sigmoid(op.mul(signs, decoded.output)); // p(pixel = its observed value)
  const logLikelihood = op.sum(op.log(correct), 2).dataSync() as Float32Array;
  // 2 (log p(z) - log q(z|x)) = sum(logVariance) + |eps|^2 - |z|^2 (the log 2 pi terms cancel).
  const closedFormKl = MODEL_ESTIMATORS[objective].value === 'vae';
  const priorTerm = closedFormKl ? null : (op.sum(op.add(op.sub(logVarianceTiled, op.square(z)), op.square(noise)), 2).dataSync() as Float32Array);
  const posterior = closedFormKl ? (encoded.output.dataSync() as Float32Array) : null;
  // The JS part sees the real images only.
  const readback = Array.from({ length: runs }, (_, r) => ({
    batch: images,
    k,
    latent,
    logLikelihood: realRows(logLikelihood.subarray(r * rows, (r + 1) * rows), k, batch, images, 1),
    priorTerm: priorTerm ? realRows(priorTerm.subarray(r * rows, (r + 1) * rows), k, batch, images, 1) : null,
    posterior: posterior ? realRows(posterior.subarray(r * batch * 2 * latent, (r + 1) * batch * 2 * latent), 1, batch, images, 2 * latent) : null,
  }));
  return { layers, encoded, decoded, signs, correct, z, spread, noise, std, readback, images, batch };
}

/** SIMD packet of TensorFlow's elementwise kernels here (AVX: 8 floats); see `paddedBatch`. */
const PACKET_FLOATS = 8;

/**
 * Images per run a pass computes with: `images`, or a few more so that each run's share of every tensor
 * is a whole number of SIMD packets. TensorFlow's elementwise kernels (Exp, Log, Sigmoid, Tanh) compute a
 * tensor's last few values with scalar code, whose last bits differ from the vectorized code's; which
 * run those values belong to depends on the stack, so without this a run's numbers would depend on its
 * stack. The extra images (`blankImages`) weigh nothing in the objective and have zero noise, so the
 * real images' numbers are exactly those of a batch without them. The study's batches (20 images) and the
 * evaluation's (200, 500, 100) need none.
 */
export function paddedBatch(architecture: Architecture, images: number): number {
  const widths = [architecture.input, ...architecture.hidden, 2 * architecture.latent, architecture.latent];
  let batch = images;
  while (widths.some((n) => (batch * n) % PACKET_FLOATS !== 0)) batch++;
  return batch;
}

/** x [R, images, input] and noise [R, k x images, latent] with padding images appended (see `paddedBatch`). */
function padImages(layout: StackLayout, x: tf.Tensor3D, noise: tf.Tensor3D, k: number): { x: tf.Tensor3D; noise: tf.Tensor3D; images: number; batch: number } {
  const [R, images] = x.shape;
  const batch = paddedBatch(layout.run.architecture, images);
  if (batch === images) return { x, noise, images, batch };
  const latent = noise.shape[2];
  const extra = batch - images;
  const paddedNoise = op.concat([op.reshape<tf.Rank.R4>(noise, [R, k, images, latent]), tf.zeros([R, k, extra, latent], 'float32') as tf.Tensor4D], 2);
  return {
    x: op.concat([x, blankImages(x, extra)], 1),
    noise: op.reshape<tf.Rank.R3>(paddedNoise, [R, k * batch, latent]),
    images,
    batch,
  };
}

/**
 * `extra` padding images per run: copies of each run's first image (with zero noise and zero weight).
 * Not zeros: a blank image's posterior could overflow where no real image's does (exp(logVariance / 2)
 * = Inf, times zero noise = NaN), and a NaN would reach the gradient through the zero weights.
 */
function blankImages(x: tf.Tensor3D, extra: number): tf.Tensor3D {
  const [, images] = x.shape;
  const first = images === 1 ? x : (op.split(x, [1, images - 1], 1)[0] as tf.Tensor3D);
  return op.tile(first, [1, extra, 1]);
}

/** The rows of the real images ([k x images, width], sample-major) out of a padded run's [k x batch, width]. */
function realRows(values: Float32Array, k: number, batch: number, images: number, width: number): Float32Array {
  if (batch === images) return values;
  const out = new Float32Array(k * images * width);
  for (let i = 0; i < k; i++) out.set(values.subarray(i * batch * width, (i * batch + images) * width), i * images * width);
  return out;
}

/** A run's real rows spread back into its padded layout, blank rows zero (the inverse of `realRows`). */
function paddedRows(values: Float32Array, k: number, batch: number, images: number, width: number): Float32Array {
  if (batch === images) return values;
  const out = new Float32Array(k * batch * width);
  for (let i = 0; i < k; i++) out.set(values.subarray(i * images * width, (i + 1) * images * width), i * batch * width);
  return out;
}

/**
 * Values of `objective` for each run of the stack on its batch, without the backward pass (the
 * per-epoch test pass), and the posterior means [R, batch, latent] (caller disposes).
 */
export function stackedObjective(
  layout: StackLayout,
  params: readonly tf.Tensor1D[],
  objective: ModelName,
  x: tf.Tensor3D,
  noise: tf.Tensor3D,
  k: number,
): { runs: RunForward[]; posteriorMeans: tf.Tensor3D } {
  let runs: RunForward[] = [];
  const posteriorMeans = tf.tidy(() => {
    const f = forward(layout, params, objective, x, noise, k);
    runs = f.readback.map((r) => {
      const w = objectiveWeights(objective, r);
      return { values: w.values, lossPerImage: w.lossPerImage };
    });
    const latent = layout.run.architecture.latent;
    const means = op.split(f.encoded.output, [latent, latent], 2)[0] as tf.Tensor3D;
    return f.batch === f.images ? means : (op.split(means, [f.images, f.batch - f.images], 1)[0] as tf.Tensor3D);
  });
  return { runs, posteriorMeans };
}

/**
 * log w of every sample of every run ([R, k * batch], sample-major): the importance weights of the L_k
 * estimates (evaluation decodes k = 5000 in chunks through this). Forward only, arranged for large
 * chunks: the biases of the decoder's wide layers ride in the products (a column of ones on the layer's
 * input; a broadcast add over [R, rows, 784] cost a fifth of the product), and the pixel signs broadcast
 * over the samples instead of being tiled. Same function as the training path's, computed differently,
 * so the last bits may differ from it.
 */
export function stackedLogWeights(layout: StackLayout, params: readonly tf.Tensor1D[], realX: tf.Tensor3D, realNoise: tf.Tensor3D, k: number): Float32Array[] {
  const { runs } = stackShape(layout, realX, realNoise, k);
  const { latent, input } = layout.run.architecture;
  const images = realX.shape[1];
  const batch = paddedBatch(layout.run.architecture, images);
  const rows = k * batch;
  const logW = tf.tidy(() => {
    const { x, noise } = padImages(layout, realX, realNoise, k);
    const { encoder, decoder } = unpackLayers(layout, params);
    const [half, one, two] = [0.5, 1, 2].map((v) => filledConstant(v, []));
    const encoded = mlpForward(encoder, x).output;
    const tiled = op.tile(encoded, [1, k, 1]);
    const [meanTiled, logVarianceTiled] = op.split(tiled, [latent, latent], 2) as [tf.Tensor3D, tf.Tensor3D];
    const z = op.add(meanTiled, op.mul(op.exp(op.mul(logVarianceTiled, half)), noise));
    let h = op.tanh(op.add(batchMatMul(z, decoder[0].weight), decoder[0].bias));
    const ones = tf.ones([runs, rows, 1], 'float32') as tf.Tensor3D;
    decoder.slice(1).forEach((layer, i) => {
      const affine = batchMatMul(op.concat([h, ones], 2), op.concat([layer.weight, layer.bias], 1));
      h = i + 2 < decoder.length ? op.tanh(affine) : affine;
    });
    // log p(x|z) = sum_p log sigmoid(s l), s = 2x - 1, each image's signs broadcast over its k samples.
    const signs = op.reshape<tf.Rank.R4>(op.sub(op.mul(x, two), one), [runs, 1, batch, input]);
    const logLikelihood = op.reshape<tf.Rank.R2>(op.sum(op.log(op.sigmoid(op.mul(op.reshape<tf.Rank.R4>(h, [runs, k, batch, input]), signs))), 3), [runs, rows]);
    const priorTerm = op.sum(op.add(op.sub(logVarianceTiled, op.square(z)), op.square(noise)), 2);
    return op.add(logLikelihood, op.mul(priorTerm, half));
  });
  try {
    const values = logW.dataSync() as Float32Array;
    return Array.from({ length: runs }, (_, r) => realRows(values.slice(r * rows, (r + 1) * rows), k, batch, images, 1));
  } finally {
    logW.dispose();
  }
}

/** E_q[z|x] of every run's images: x [R, batch, input] -> [R, batch, latent] (encoder only; caller disposes). */
export function stackedPosteriorMeans(layout: StackLayout, params: readonly tf.Tensor1D[], realX: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const { latent } = layout.run.architecture;
    const images = realX.shape[1];
    const batch = paddedBatch(layout.run.architecture, images);
    const x = batch === images ? realX : op.concat([realX, blankImages(realX, batch - images)], 1);
    const means = op.split(mlpForward(unpackLayers(layout, params).encoder, x).output, [latent, latent], 2)[0] as tf.Tensor3D;
    return batch === images ? means : (op.split(means, [images, batch - images], 1)[0] as tf.Tensor3D);
  });
}

/** Loss values of every run and the gradient of the stack vector (see `StackedGradient`). */
export function stackedLossAndGradient(layout: StackLayout, params: readonly tf.Tensor1D[], objective: ModelName, x: tf.Tensor3D, noise: tf.Tensor3D, k: number): StackedGradient {
  let runs: RunForward[] = [];
  const gradient = tf.tidy(() => {
    const latent = layout.run.architecture.latent;
    const f = forward(layout, params, objective, x, noise, k);
    const { batch, images } = f;
    const rows = k * batch;
    const { encoder, decoder } = f.layers;
    const weights = f.readback.map((r) => objectiveWeights(objective, r));
    runs = weights.map((w) => ({ values: w.values, lossPerImage: w.lossPerImage }));
    // A run that is not finite gets zero weights: its NaNs stay in its own slice. Blank images weigh 0.
    const joined = (pick: (w: ObjectiveWeights) => Float32Array | null, samples: number, width: number): Float32Array | null => {
      if (pick(weights[0]) === null) return null;
      const size = samples * batch * width;
      const out = new Float32Array(weights.length * size);
      weights.forEach((w, r) => {
        if (w.values.finite) out.set(paddedRows(pick(w)!, samples, batch, images, width), r * size);
      });
      return out;
    };
    const R = layout.runs;
    const [half, one] = [0.5, 1].map((v) => filledConstant(v, []));

    // Backward. d loss / d logits = a_n s (1 - sigmoid(s l)), a_n = d loss / d log p(x|z_n).
    const likelihoodWeight = tf.tensor3d(joined((w) => w.likelihood, k, 1)!, [R, rows, 1], 'float32');
    const dLogits = op.mul(op.mul(f.signs, op.sub(one, f.correct)), likelihoodWeight);
    const decoderBack = mlpBackward(decoder, f.decoded.inputs, dLogits, true);
    let dz = decoderBack.input!;
    let dLogVarianceTiled: tf.Tensor3D;
    const prior = joined((w) => w.prior, k, 1);
    if (prior && MODEL_ESTIMATORS[objective].gradient !== 'full') {
      // Path derivative only (STL, DReG): c_n (log p(z) - log q(z|x)) at q's mean and logVariance held
      // fixed, d/dz = c_n ((z - mean) / std^2 - z) = c_n (eps / std - z), and no direct logVariance term.
      const priorWeight = tf.tensor3d(prior, [R, rows, 1], 'float32');
      dz = op.add(dz, op.mul(op.sub(op.div(f.noise, f.std), f.z), priorWeight));
      // DReG: the encoder's path gets w~_n^2 where the decoder gets w~_n: d loss / d z_n times w~_n.
      const scale = joined((w) => w.pathScale, k, 1);
      if (scale) dz = op.mul(dz, tf.tensor3d(scale, [R, rows, 1], 'float32'));
      dLogVarianceTiled = op.mul(op.mul(dz, f.spread), half);
    } else if (prior) {
      // The prior/posterior term c_n (sum(logVariance) - |z|^2) / 2: d/dz = -c_n z, d/dlogVariance = c_n / 2.
      const priorWeight = tf.tensor3d(prior, [R, rows, 1], 'float32');
      dz = op.sub(dz, op.mul(f.z, priorWeight));
      // z = mean + exp(logVariance / 2) eps: d z / d logVariance = spread / 2.
      dLogVarianceTiled = op.mul(op.add(op.mul(dz, f.spread), priorWeight), half);
    } else {
      dLogVarianceTiled = op.mul(op.mul(dz, f.spread), half);
    }
    // Sum each image's k sample rows back onto it: [R, k, batch x 2 latent] summed over k.
    let dEncoded = op.reshape<tf.Rank.R3>(sumOverRows(op.reshape<tf.Rank.R3>(op.concat([dz, dLogVarianceTiled], 2), [R, k, batch * 2 * latent])), [R, batch, 2 * latent]);
    const posterior = joined((w) => w.posterior, 1, 2 * latent);
    if (posterior) dEncoded = op.add(dEncoded, tf.tensor3d(posterior, [R, batch, 2 * latent], 'float32'));
    const encoderBack = mlpBackward(encoder, f.encoded.inputs, dEncoded, false);

    // The gradient blocks in the stack vector's order: every weight block, then every bias block.
    const layerGradients = [...encoderBack.layers, ...decoderBack.layers];
    return [...layerGradients.map((g) => op.reshape<tf.Rank.R1>(g.weight, [-1])), ...layerGradients.map((g) => op.reshape<tf.Rank.R1>(g.bias, [-1]))];
  });
  return { runs, gradient };
}

/** Every layer as [R, fanIn, fanOut] weights and [R, 1, fanOut] biases, reshaped from the parameter blocks. */
function unpackLayers(layout: StackLayout, params: readonly tf.Tensor1D[]): { encoder: StackedLayer[]; decoder: StackedLayer[] } {
  if (params.length !== layout.blocks.length || params.some((p, i) => p.size !== layout.runs * layout.blocks[i].spec.size)) {
    throw new RangeError(`expected the ${layout.blocks.length} parameter blocks of a stack of ${layout.runs}`);
  }
  const R = layout.runs;
  const bySpec = new Map(layout.blocks.map((b, i) => [b.spec.name, params[i]]));
  const layers = { encoder: [] as StackedLayer[], decoder: [] as StackedLayer[] };
  for (const spec of layout.run.specs) {
    if (spec.role !== 'weight') continue;
    const bias = layout.run.specs.find((s) => s.network === spec.network && s.layer === spec.layer && s.role === 'bias')!;
    layers[spec.network].push({
      weight: op.reshape<tf.Rank.R3>(bySpec.get(spec.name)!, [R, spec.fanIn, spec.fanOut]),
      bias: op.reshape<tf.Rank.R3>(bySpec.get(bias.name)!, [R, 1, spec.fanOut]),
    });
  }
  return layers;
}

/** tanh hidden layers, linear last layer, keeping what the backward pass needs. */
function mlpForward(layers: StackedLayer[], input: tf.Tensor3D): MlpForward {
  const inputs: tf.Tensor3D[] = [];
  let h = input;
  layers.forEach((layer, i) => {
    inputs.push(h);
    const affine = op.add(batchMatMul(h, layer.weight), layer.bias);
    h = i + 1 < layers.length ? op.tanh(affine) : affine;
  });
  return { inputs, output: h };
}

/**
 * Backward through `mlpForward` from `dOutput` (d loss / d the linear output): per-layer gradients, and
 * d loss / d input when `inputGradient` (the decoder's input z needs it; the encoder's x does not).
 */
function mlpBackward(layers: StackedLayer[], inputs: tf.Tensor3D[], dOutput: tf.Tensor3D, inputGradient: boolean): { layers: LayerGradient[]; input: tf.Tensor3D | null } {
  const gradients: LayerGradient[] = new Array(layers.length);
  let delta = dOutput; // d loss / d this layer's pre-activation
  let dInput: tf.Tensor3D | null = null;
  for (let i = layers.length - 1; i >= 0; i--) {
    gradients[i] = { weight: batchMatMul(inputs[i], delta, true, false), bias: op.reshape<tf.Rank.R2>(sumOverRows(delta), [delta.shape[0], delta.shape[2]]) };
    if (i === 0 && !inputGradient) break;
    const dh = batchMatMul(delta, layers[i].weight, false, true);
    if (i === 0) {
      dInput = dh;
    } else {
      // inputs[i] = tanh(a) of the layer below: tanh'(a) = 1 - tanh(a)^2.
      delta = tanhGrad(inputs[i], dh);
    }
  }
  return { layers: gradients, input: dInput };
}

/**
 * x [R, rows, n] summed over its rows, as [R, 1, n]: a product with a row of ones. TensorFlow's Sum over
 * a middle axis computes a run's slice differently when the stack around it changes (its vectorization
 * depends on where the slice starts unless n is a multiple of 16), a batched product never does; the
 * arithmetic is negligible.
 */
function sumOverRows(x: tf.Tensor3D): tf.Tensor3D {
  const [R, rows] = x.shape;
  return batchMatMul(filledConstant(1, [R, 1, rows]) as tf.Tensor3D, x);
}

/** What the JS part of the objective reads back from one run's forward pass (sample-major rows). */
export interface ForwardReadback {
  batch: number;
  k: number;
  latent: number;
  /** log p(x|z_n), [batch * k]. */
  logLikelihood: Float32Array;
  /** 2 (log p(z_n) - log q(z_n|x)) = sum(logVariance) + |eps_n|^2 - |z_n|^2, [batch * k]; null for 'vae'. */
  priorTerm: Float32Array | null;
  /** The encoder's output [batch, 2 latent] (mean, logVariance); only for 'vae' (closed-form KL). */
  posterior: Float32Array | null;
}

interface ObjectiveWeights {
  values: FastValues;
  lossPerImage: Float64Array;
  likelihood: Float32Array;
  prior: Float32Array | null;
  posterior: Float32Array | null;
  /** DReG: w~_n, the factor on d loss / d z_n that turns the decoder's w~_n into w~_n^2; else null. */
  pathScale: Float32Array | null;
}

/**
 * The objective's values and the upstream weights of the backward pass:
 *   loss = sum_n likelihood_n log p(x|z_n) + prior_n priorTerm_n / 2 + (closed-form KL)
 * locally around the current point (IWAE's normalized weights held fixed, which is its exact gradient).
 * Same definitions as `objectiveValues` in objectives.ts. Float64: [batch * k] numbers, no kernels.
 * A gradient-estimator model gets its base objective's values and weights (and DReG its `pathScale`).
 */
export function objectiveWeights(objective: ModelName, r: ForwardReadback): ObjectiveWeights {
  const { value, gradient } = MODEL_ESTIMATORS[objective];
  const { batch, k, latent } = r;
  const rows = batch * k;
  const logWeight = (n: number) => r.logLikelihood[n] + 0.5 * r.priorTerm![n];
  let sumLogLikelihood = 0;
  const reconstructionPerImage = new Float64Array(batch);
  for (let n = 0; n < rows; n++) {
    sumLogLikelihood += r.logLikelihood[n];
    reconstructionPerImage[n % batch] -= r.logLikelihood[n] / k;
  }
  const meanReconstruction = -sumLogLikelihood / rows; // mean over images of -mean_i log p(x|z_i)
  const uniform = new Float32Array(rows).fill(-1 / rows);
  switch (value) {
    case 'vae': {
      const post = r.posterior!;
      const dPosterior = new Float32Array(batch * 2 * latent);
      const lossPerImage = Float64Array.from(reconstructionPerImage);
      let kl = 0;
      for (let b = 0; b < batch; b++) {
        for (let u = 0; u < latent; u++) {
          const mean = post[b * 2 * latent + u];
          const logVariance = post[b * 2 * latent + latent + u];
          const variance = Math.exp(logVariance);
          const term = 0.5 * (mean * mean + variance - logVariance - 1);
          kl += term;
          lossPerImage[b] += term;
          dPosterior[b * 2 * latent + u] = mean / batch;
          dPosterior[b * 2 * latent + latent + u] = (0.5 * (variance - 1)) / batch;
        }
      }
      kl /= batch;
      return { values: reported(meanReconstruction + kl, meanReconstruction, kl), lossPerImage, likelihood: uniform, prior: null, posterior: dPosterior, pathScale: null };
    }
    case 'vae-sampled-kl': {
      let sum = 0;
      const lossPerImage = new Float64Array(batch);
      for (let n = 0; n < rows; n++) {
        const w = logWeight(n);
        sum += w;
        lossPerImage[n % batch] -= w / k;
      }
      const loss = -sum / rows;
      return { values: reported(loss, meanReconstruction, loss - meanReconstruction), lossPerImage, likelihood: uniform, prior: uniform, posterior: null, pathScale: null };
    }
    case 'iwae': {
      // Per image: L_k = log-sum-exp_i log w - log k; normalized weights w~ = softmax_i log w.
      const normalized = new Float32Array(rows);
      const pathScale = gradient === 'dreg' ? new Float32Array(rows) : null;
      const lossPerImage = new Float64Array(batch);
      let reconstruction = 0;
      let studyLoss = 0;
      const logW = new Float64Array(k);
      for (let b = 0; b < batch; b++) {
        let max = -Infinity;
        for (let i = 0; i < k; i++) {
          logW[i] = logWeight(i * batch + b);
          if (logW[i] > max) max = logW[i];
        }
        let sum = 0;
        for (let i = 0; i < k; i++) sum += Math.exp(logW[i] - max);
        lossPerImage[b] = -(max + Math.log(sum) - Math.log(k));
        for (let i = 0; i < k; i++) {
          const n = i * batch + b;
          const w = Math.exp(logW[i] - max) / sum;
          normalized[n] = -w / batch;
          if (pathScale) pathScale[n] = w;
          reconstruction -= w * r.logLikelihood[n];
          studyLoss -= w * logW[i];
        }
      }
      let bound = 0;
      for (let b = 0; b < batch; b++) bound -= lossPerImage[b];
      reconstruction /= batch;
      studyLoss /= batch;
      return { values: reported(-bound / batch, reconstruction, studyLoss - reconstruction), lossPerImage, likelihood: normalized, prior: normalized, posterior: null, pathScale };
    }
  }
}

function reported(loss: number, reconstruction: number, kl: number): FastValues {
  const values = { loss: Math.fround(loss), reconstruction: Math.fround(reconstruction), kl: Math.fround(kl) };
  return { ...values, finite: Number.isFinite(values.loss) && Number.isFinite(values.reconstruction) && Number.isFinite(values.kl) };
}
