import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import type { Model } from './model';
import { matMul2d, rawOps as op, tanhGrad } from './raw-ops';

/**
 * The training step's loss and gradient with a hand-written backward pass: the fast path next to the
 * autograd reference (`lossAndGradient` in lib/training/step.ts), which it must match within float
 * tolerance (test/model/fast-path.test.ts).
 *
 * Why: every op costs ~10-20 us of dispatch whatever its size (more through tfjs's engine), and at the
 * study's batch of 20 a step's arithmetic is small, so op count matters. Autograd through tf.valueAndGrad runs ~200 TensorFlow ops
 * (every broadcast, expandDims, softmax and log-sum-exp has its own backward ops); this path runs ~65
 * for the IWAE objective (79 with the Adam update and bookkeeping; `bench/step.ts --ops` counts and
 * times them) by
 * - writing the MLP backward directly (dW = h^T delta, db = sum delta, dh = delta W^T, tanh' = 1 - h^2);
 * - laying the k samples out sample-major (row i * batch + b), so the posterior reaches every sample with
 *   one Tile instead of expandDims/broadcast pairs, and summing the samples back with one matMul;
 * - doing the objective's tiny per-sample part in JS, in float64: after the forward pass only log p(x|z)
 *   and the prior/posterior term per sample ([batch * k] numbers each) are read back, the loss, its
 *   reconstruction/KL split and the per-sample weights of the backward pass (IWAE: the normalized
 *   importance weights) are computed in JS, and the weights go back as one [batch * k, 1] tensor. The
 *   log-sum-exp, softmax and closed-form KL then cost no kernels at all;
 * - calling every op straight on tfjs-node's backend (lib/model/raw-ops.ts): TensorFlow's 2-D MatMul
 *   (tfjs's BatchMatMulV2 costs ~100 us more per product at these shapes), TanhGrad, and `rawOps` for
 *   the elementwise and shape ops (15-40 us less each than through tfjs's engine);
 * - leaving out the backward pass when the loss is not finite (`trainStep` then asks the autograd path).
 */

/** Batch means, as the autograd path reports them (float32-rounded, so the finite check agrees too). */
export interface FastValues {
  loss: number;
  reconstruction: number;
  kl: number;
  /** False when any value is NaN or +-Inf. */
  finite: boolean;
}

export interface FastLossAndGradient {
  values: FastValues;
  /** d loss / d flat parameters ([layout.size]); null when the values are not finite (caller disposes). */
  gradient: tf.Tensor1D | null;
}

interface DenseLayer {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** Layer inputs (x, then each hidden activation) kept for the backward pass, and the linear output. */
interface MlpForward {
  inputs: tf.Tensor2D[];
  output: tf.Tensor2D;
}

interface LayerGradient {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/**
 * Loss values and gradient of `objective` on batch `x` ([batch, input] of 0/1) with reparameterization
 * noise `noise` ([batch, k, latent], batch-major as `normalNoise` makes it). Same definitions as
 * `objectiveValues` in objectives.ts; see there for the three objectives.
 */
export function fastLossAndGradient(model: Model, objective: ModelName, x: tf.Tensor2D, noise: tf.Tensor3D): FastLossAndGradient {
  const { layout } = model;
  const { input, latent } = layout.architecture;
  const [batch, k, noiseLatent] = noise.shape;
  if (batch !== x.shape[0] || noiseLatent !== latent || x.shape[1] !== input) {
    throw new RangeError(`x is [${x.shape}] and noise [${noise.shape}], expected [batch, ${input}] and [batch, k, ${latent}]`);
  }
  const rows = batch * k;
  const { sampleMajor, halfSquaredNorm } = sampleMajorNoise(noise.dataSync() as Float32Array, batch, k, latent);

  let values: FastValues = { loss: NaN, reconstruction: NaN, kl: NaN, finite: false };
  const gradient = tf.tidy(() => {
    const { encoder, decoder } = unpackLayers(model);
    const [half, one, two] = [0.5, 1, 2].map((v) => tf.scalar(v, 'float32'));

    // Forward: encoder on the batch, then every sample row of the decoder at once.
    const encoded = mlpForward(encoder, x);
    const tiled = op.tile(encoded.output, [k, 1]); // row i * batch + b = image b's posterior
    const [meanTiled, logVarianceTiled] = op.split(tiled, [latent, latent], 1) as [tf.Tensor2D, tf.Tensor2D];
    const eps = tf.tensor2d(sampleMajor, [rows, latent], 'float32');
    const spread = op.mul(op.exp(op.mul(logVarianceTiled, half)), eps); // std * eps = z - mean
    const z = op.add(meanTiled, spread);
    const decoded = mlpForward(decoder, z);
    const logits = decoded.output;
    // log p(x|z) = sum_p x l - softplus(l) = sum_p log sigmoid(s l), s = 2x - 1 (+1 on, -1 off): one
    // Sigmoid that the backward pass reuses, and a cheap Log, instead of a Softplus (~0.3 ms at
    // [100, 784] here) plus a Sigmoid. log sigmoid(s l) underflows to -Inf only where s l < -87 (a pixel
    // predicted wrong with |logit| > 87); the loss is then not finite and `trainStep` falls back to the
    // autograd path, which computes it exactly.
    const signs = op.tile(op.sub(op.mul(x, two), one), [k, 1]);
    const correct = op.sigmoid(op.mul(signs, logits)); // p(pixel = its observed value)
    const logLikelihood = op.sum(op.log(correct), 1);
    // sum(logVariance) - |z|^2; log w adds 2 * that / 2 and |eps|^2 / 2 (from JS), see objectives.ts.
    const priorTerm = objective === 'vae' ? null : op.sum(op.sub(logVarianceTiled, op.square(z)), 1);
    const posterior = objective === 'vae' ? (encoded.output.dataSync() as Float32Array) : null;

    const weights = objectiveWeights(objective, {
      batch,
      k,
      latent,
      logLikelihood: logLikelihood.dataSync() as Float32Array,
      priorTerm: priorTerm ? (priorTerm.dataSync() as Float32Array) : null,
      halfSquaredNorm,
      posterior,
    });
    values = weights.values;
    if (!values.finite) return undefined;

    // Backward. d loss / d logits = a_n (x - sigmoid(l)) = a_n s (1 - sigmoid(s l)), a_n = d loss / d log p(x|z_n).
    const likelihoodWeight = tf.tensor2d(weights.likelihood, [rows, 1], 'float32');
    const dLogits = op.mul(op.mul(signs, op.sub(one, correct)), likelihoodWeight);
    const decoderBack = mlpBackward(decoder, decoded.inputs, dLogits, true);
    let dz = decoderBack.input!;
    let dLogVarianceTiled: tf.Tensor2D;
    if (weights.prior) {
      // The prior/posterior term c_n (sum(logVariance) - |z|^2) / 2: d/dz = -c_n z, d/dlogVariance = c_n / 2.
      const priorWeight = tf.tensor2d(weights.prior, [rows, 1], 'float32');
      dz = op.sub(dz, op.mul(z, priorWeight));
      // z = mean + exp(logVariance / 2) eps: d z / d logVariance = spread / 2.
      dLogVarianceTiled = op.mul(op.add(op.mul(dz, spread), priorWeight), half);
    } else {
      dLogVarianceTiled = op.mul(op.mul(dz, spread), half);
    }
    // Sum the k sample rows of each image back onto it: [batch, rows] 0/1 matrix times [rows, 2 latent].
    let dEncoded = matMul2d(tf.tensor2d(untileMatrix(batch, k), [batch, rows], 'float32'), op.concat([dz, dLogVarianceTiled], 1));
    if (weights.posterior) dEncoded = op.add(dEncoded, tf.tensor2d(weights.posterior, [batch, 2 * latent], 'float32'));
    const encoderBack = mlpBackward(encoder, encoded.inputs, dEncoded, false);

    // One flat gradient in the vector's order: every weight matrix, every bias, zeros for the padding.
    const layerGradients = [...encoderBack.layers, ...decoderBack.layers];
    const { padding } = layout;
    return op.concat(
      [...layerGradients.map((g) => op.reshape<tf.Rank.R1>(g.weight, [-1])), ...layerGradients.map((g) => g.bias), ...(padding > 0 ? [tf.zeros([padding]) as tf.Tensor1D] : [])],
      0,
    );
  });
  return { values, gradient: gradient ?? null };
}

/**
 * Views of every layer: one SplitV cuts the flat vector (weights, then biases, then padding:
 * architecture.ts) into the weight matrices and the bias block, a second one the bias block into the
 * biases, and one Reshape per weight matrix. TensorFlow's SplitV returns views instead of copies when
 * every piece starts and ends on a 64-byte boundary: the layout pads the bias block to one, so when the
 * weight matrices are whole multiples of 16 floats (the study's all are) the 1.7 MB of weights are not
 * copied and only the few kB of biases are.
 */
function unpackLayers(model: Model): { encoder: DenseLayer[]; decoder: DenseLayer[] } {
  const { layout, params } = model;
  const weights = layout.specs.filter((s) => s.role === 'weight');
  const biases = layout.specs.filter((s) => s.role === 'bias');
  const { padding } = layout;
  const pieces = op.split(params, [...weights.map((w) => w.size), layout.biasesSize + padding], 0);
  const biasPieces = op.split(pieces[weights.length], [...biases.map((b) => b.size), ...(padding > 0 ? [padding] : [])], 0);
  const layers = { encoder: [] as DenseLayer[], decoder: [] as DenseLayer[] };
  weights.forEach((w, i) => {
    layers[w.network].push({ weight: op.reshape<tf.Rank.R2>(pieces[i], [w.fanIn, w.fanOut]), bias: biasPieces[i] as tf.Tensor1D });
  });
  return layers;
}

/** tanh hidden layers, linear last layer (as network.ts), keeping what the backward pass needs. */
function mlpForward(layers: DenseLayer[], input: tf.Tensor2D): MlpForward {
  const inputs: tf.Tensor2D[] = [];
  let h = input;
  layers.forEach((layer, i) => {
    inputs.push(h);
    const affine = op.add(matMul2d(h, layer.weight), layer.bias);
    h = i + 1 < layers.length ? op.tanh(affine) : affine;
  });
  return { inputs, output: h };
}

/**
 * Backward through `mlpForward` from `dOutput` (d loss / d the linear output): per-layer gradients, and
 * d loss / d input when `inputGradient` (the decoder's input z needs it; the encoder's x does not).
 */
function mlpBackward(
  layers: DenseLayer[],
  inputs: tf.Tensor2D[],
  dOutput: tf.Tensor2D,
  inputGradient: boolean,
): { layers: LayerGradient[]; input: tf.Tensor2D | null } {
  const gradients: LayerGradient[] = new Array(layers.length);
  let delta = dOutput; // d loss / d this layer's pre-activation
  let dInput: tf.Tensor2D | null = null;
  for (let i = layers.length - 1; i >= 0; i--) {
    gradients[i] = { weight: matMul2d(inputs[i], delta, true, false), bias: op.sum(delta, 0) as tf.Tensor1D };
    if (i === 0 && !inputGradient) break;
    const dh = matMul2d(delta, layers[i].weight, false, true);
    if (i === 0) {
      dInput = dh;
    } else {
      // inputs[i] = tanh(a) of the layer below: tanh'(a) = 1 - tanh(a)^2.
      delta = tanhGrad(inputs[i], dh);
    }
  }
  return { layers: gradients, input: dInput };
}

/** The noise reordered sample-major (row i * batch + b) and |eps_n|^2 / 2 per row, in float64. */
function sampleMajorNoise(noise: Float32Array, batch: number, k: number, latent: number): { sampleMajor: Float32Array; halfSquaredNorm: Float64Array } {
  const sampleMajor = new Float32Array(noise.length);
  const halfSquaredNorm = new Float64Array(batch * k);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < k; i++) {
      const from = (b * k + i) * latent;
      const row = i * batch + b;
      let sum = 0;
      for (let u = 0; u < latent; u++) {
        const e = noise[from + u];
        sampleMajor[row * latent + u] = e;
        sum += e * e;
      }
      halfSquaredNorm[row] = 0.5 * sum;
    }
  }
  return { sampleMajor, halfSquaredNorm };
}

/** [batch, batch * k]: 1 where column i * batch + b belongs to image b (sums sample rows per image). */
function untileMatrix(batch: number, k: number): Float32Array {
  const m = new Float32Array(batch * batch * k);
  for (let b = 0; b < batch; b++) for (let i = 0; i < k; i++) m[b * batch * k + i * batch + b] = 1;
  return m;
}

/** What the JS part of the objective reads back from the forward pass (sample-major rows). */
export interface ForwardReadback {
  batch: number;
  k: number;
  latent: number;
  /** log p(x|z_n), [batch * k]. */
  logLikelihood: Float32Array;
  /** sum(logVariance) - |z_n|^2, [batch * k]; null for 'vae' (not needed). */
  priorTerm: Float32Array | null;
  /** |eps_n|^2 / 2, [batch * k]. */
  halfSquaredNorm: Float64Array;
  /** The encoder's output [batch, 2 latent] (mean, logVariance); only for 'vae' (closed-form KL). */
  posterior: Float32Array | null;
}

/**
 * The objective's values and the upstream weights of the backward pass:
 *   loss = sum_n likelihood_n log p(x|z_n) + prior_n (sum(logVariance) - |z_n|^2) / 2 + (closed-form KL)
 * locally around the current point (IWAE's normalized weights held fixed, which is its exact gradient).
 * Float64 in JS: log w is tiny ([batch * k] numbers) and this costs no TensorFlow kernels.
 */
export function objectiveWeights(
  objective: ModelName,
  r: ForwardReadback,
): { values: FastValues; likelihood: Float32Array; prior: Float32Array | null; posterior: Float32Array | null } {
  const { batch, k, latent } = r;
  const rows = batch * k;
  const logWeight = (n: number) => r.logLikelihood[n] + 0.5 * r.priorTerm![n] + r.halfSquaredNorm[n];
  let sumLogLikelihood = 0;
  for (let n = 0; n < rows; n++) sumLogLikelihood += r.logLikelihood[n];
  const meanReconstruction = -sumLogLikelihood / rows; // mean over images of -mean_i log p(x|z_i)
  const uniform = new Float32Array(rows).fill(-1 / rows);
  switch (objective) {
    case 'vae': {
      const post = r.posterior!;
      const dPosterior = new Float32Array(batch * 2 * latent);
      let kl = 0;
      for (let b = 0; b < batch; b++) {
        for (let u = 0; u < latent; u++) {
          const mean = post[b * 2 * latent + u];
          const logVariance = post[b * 2 * latent + latent + u];
          const variance = Math.exp(logVariance);
          kl += 0.5 * (mean * mean + variance - logVariance - 1);
          dPosterior[b * 2 * latent + u] = mean / batch;
          dPosterior[b * 2 * latent + latent + u] = (0.5 * (variance - 1)) / batch;
        }
      }
      kl /= batch;
      return { values: reported(meanReconstruction + kl, meanReconstruction, kl), likelihood: uniform, prior: null, posterior: dPosterior };
    }
    case 'vae-sampled-kl': {
      let sum = 0;
      for (let n = 0; n < rows; n++) sum += logWeight(n);
      const loss = -sum / rows;
      return { values: reported(loss, meanReconstruction, loss - meanReconstruction), likelihood: uniform, prior: uniform, posterior: null };
    }
    case 'iwae': {
      // Per image: L_k = log-sum-exp_i log w - log k; normalized weights w~ = softmax_i log w.
      const normalized = new Float32Array(rows);
      let bound = 0;
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
        bound += max + Math.log(sum) - Math.log(k);
        for (let i = 0; i < k; i++) {
          const n = i * batch + b;
          const w = Math.exp(logW[i] - max) / sum;
          normalized[n] = -w / batch;
          reconstruction -= w * r.logLikelihood[n];
          studyLoss -= w * logW[i];
        }
      }
      reconstruction /= batch;
      studyLoss /= batch;
      return { values: reported(-bound / batch, reconstruction, studyLoss - reconstruction), likelihood: normalized, prior: normalized, posterior: null };
    }
  }
}

function reported(loss: number, reconstruction: number, kl: number): FastValues {
  const values = { loss: Math.fround(loss), reconstruction: Math.fround(reconstruction), kl: Math.fround(kl) };
  return { ...values, finite: Number.isFinite(values.loss) && Number.isFinite(values.reconstruction) && Number.isFinite(values.kl) };
}
