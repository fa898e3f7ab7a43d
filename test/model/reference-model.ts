import type { ModelName } from '../../lib/config/run-config';
import type { ParameterLayout } from '../../lib/model/architecture';

/**
 * A plain float64 implementation of the model and its three objectives, written from the formulas (not
 * from the tfjs code): the oracle for forward values and, by central finite differences in float64, for
 * gradients (the gradient estimators' through `referenceSurrogate`). Only for tiny models.
 */
export interface ReferenceValues {
  loss: number;
  reconstruction: number;
  kl: number;
  /** Per image, per sample: log w. */
  logWeights: number[][];
}

function layer(flat: ArrayLike<number>, layout: ParameterLayout, network: 'encoder' | 'decoder', index: number) {
  const w = layout.specs.find((s) => s.network === network && s.layer === index && s.role === 'weight')!;
  const b = layout.specs.find((s) => s.network === network && s.layer === index && s.role === 'bias')!;
  return (input: number[]): number[] => {
    const out: number[] = [];
    for (let j = 0; j < w.fanOut; j++) {
      let sum = flat[b.offset + j];
      for (let i = 0; i < w.fanIn; i++) sum += input[i] * flat[w.offset + i * w.fanOut + j];
      out.push(sum);
    }
    return out;
  };
}

function mlp(flat: ArrayLike<number>, layout: ParameterLayout, network: 'encoder' | 'decoder', input: number[]): number[] {
  const layers = layout.architecture.hidden.length + 1;
  let h = input;
  for (let i = 0; i < layers; i++) {
    h = layer(flat, layout, network, i)(h);
    if (i + 1 < layers) h = h.map(Math.tanh);
  }
  return h;
}

const softplus = (l: number) => (l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l)));

/** The objective whose value a model reports: the gradient estimators report their base objective's. */
function valueObjective(model: ModelName): 'vae' | 'iwae' | 'vae-sampled-kl' {
  if (model === 'iwae-stl' || model === 'iwae-dreg') return 'iwae';
  if (model === 'vae-stl') return 'vae-sampled-kl';
  return model;
}

/** Batch-mean objective values; `x` is [batch][input] of 0/1, `noise` [batch][k][latent]. */
export function referenceObjective(
  model: ModelName,
  flat: ArrayLike<number>,
  layout: ParameterLayout,
  x: number[][],
  noise: number[][][],
): ReferenceValues {
  const latent = layout.architecture.latent;
  const LOG_2PI = Math.log(2 * Math.PI);
  let loss = 0;
  let reconstruction = 0;
  let kl = 0;
  const allLogWeights: number[][] = [];
  const objective = valueObjective(model);
  x.forEach((image, b) => {
    const out = mlp(flat, layout, 'encoder', image);
    const mean = out.slice(0, latent);
    const logVar = out.slice(latent);
    const logPx: number[] = [];
    const logW: number[] = [];
    for (const eps of noise[b]) {
      const z = mean.map((m, u) => m + Math.exp(0.5 * logVar[u]) * eps[u]);
      const logits = mlp(flat, layout, 'decoder', z);
      const lpx = logits.reduce((s, l, p) => s + image[p] * l - softplus(l), 0);
      const lpz = z.reduce((s, v) => s - 0.5 * v * v - 0.5 * LOG_2PI, 0);
      const lqz = z.reduce((s, v, u) => s - 0.5 * ((v - mean[u]) ** 2) / Math.exp(logVar[u]) - 0.5 * logVar[u] - 0.5 * LOG_2PI, 0);
      logPx.push(lpx);
      logW.push(lpx + lpz - lqz);
    }
    allLogWeights.push(logW);
    const k = logW.length;
    const meanLpx = logPx.reduce((a, c) => a + c, 0) / k;
    if (objective === 'vae') {
      const klClosed = 0.5 * mean.reduce((s, m, u) => s + m * m + Math.exp(logVar[u]) - logVar[u] - 1, 0);
      loss += -meanLpx + klClosed;
      reconstruction += -meanLpx;
      kl += klClosed;
    } else if (objective === 'vae-sampled-kl') {
      const meanLw = logW.reduce((a, c) => a + c, 0) / k;
      loss += -meanLw;
      reconstruction += -meanLpx;
      kl += meanLpx - meanLw;
    } else {
      const max = Math.max(...logW);
      const sumExp = logW.reduce((s, v) => s + Math.exp(v - max), 0);
      loss += -(max + Math.log(sumExp / k));
      const wTilde = logW.map((v) => Math.exp(v - max) / sumExp);
      const rec = -wTilde.reduce((s, w, i) => s + w * logPx[i], 0);
      const study = -wTilde.reduce((s, w, i) => s + w * logW[i], 0);
      reconstruction += rec;
      kl += study - rec;
    }
  });
  const n = x.length;
  return { loss: loss / n, reconstruction: reconstruction / n, kl: kl / n, logWeights: allLogWeights };
}

const LOG_2PI = Math.log(2 * Math.PI);
const logNormal = (v: number, mean: number, logVar: number) => -0.5 * ((v - mean) ** 2) / Math.exp(logVar) - 0.5 * logVar - 0.5 * LOG_2PI;

/**
 * A batch-mean function of the live parameters `flat` whose gradient at `flat` = `frozen` is the
 * gradient estimator of `model` ('iwae-stl', 'vae-stl', 'iwae-dreg'), for finite differences: what
 * autograd gets through stop-gradients is here a second argument held fixed. With z_i = mean + std eps_i
 * from `flat`'s encoder and q's mean and logVariance from `frozen`'s:
 *   path log w_i(theta) = log p_theta(x|z_i) + log N(z_i; 0, I) - log N(z_i; mean_frozen, var_frozen);
 * - 'iwae-stl': -log mean_i exp(path log w_i(theta)); 'vae-stl': -mean_i path log w_i(theta);
 * - 'iwae-dreg': -sum_i w~_i log p_theta(x|z_i(frozen)) - sum_i w~_i^2 path log w_i(theta_frozen), with
 *   w~ the normalized weights at `frozen`.
 */
export function referenceSurrogate(
  model: 'iwae-stl' | 'vae-stl' | 'iwae-dreg',
  flat: ArrayLike<number>,
  frozen: ArrayLike<number>,
  layout: ParameterLayout,
  x: number[][],
  noise: number[][][],
): number {
  const latent = layout.architecture.latent;
  const logLikelihood = (params: ArrayLike<number>, image: number[], z: number[]) =>
    mlp(params, layout, 'decoder', z).reduce((s, l, p) => s + image[p] * l - softplus(l), 0);
  const samples = (params: ArrayLike<number>, image: number[], b: number) => {
    const out = mlp(params, layout, 'encoder', image);
    const mean = out.slice(0, latent);
    const logVar = out.slice(latent);
    return noise[b].map((eps) => mean.map((m, u) => m + Math.exp(0.5 * logVar[u]) * eps[u]));
  };
  let total = 0;
  x.forEach((image, b) => {
    const q = mlp(frozen, layout, 'encoder', image);
    const pathLogWeight = (decoder: ArrayLike<number>, z: number[]) =>
      logLikelihood(decoder, image, z) + z.reduce((s, v, u) => s + logNormal(v, 0, 0) - logNormal(v, q[u], q[latent + u]), 0);
    const live = samples(flat, image, b);
    const k = live.length;
    if (model === 'vae-stl') {
      total -= live.reduce((s, z) => s + pathLogWeight(flat, z), 0) / k;
      return;
    }
    if (model === 'iwae-stl') {
      const logW = live.map((z) => pathLogWeight(flat, z));
      const max = Math.max(...logW);
      total -= max + Math.log(logW.reduce((s, v) => s + Math.exp(v - max), 0) / k);
      return;
    }
    const fixed = samples(frozen, image, b);
    const logW = fixed.map((z) => pathLogWeight(frozen, z));
    const max = Math.max(...logW);
    const sum = logW.reduce((s, v) => s + Math.exp(v - max), 0);
    const normalized = logW.map((v) => Math.exp(v - max) / sum);
    normalized.forEach((w, i) => {
      total -= w * logLikelihood(flat, image, fixed[i]) + w * w * pathLogWeight(frozen, live[i]);
    });
  });
  return total / x.length;
}
