import type { ModelName } from '../../lib/config/run-config';
import type { ParameterLayout } from '../../lib/model/architecture';

/**
 * A plain float64 implementation of the model and its three objectives, written from the formulas (not
 * from the tfjs code): the oracle for forward values and, by central finite differences in float64, for
 * gradients. Only for tiny models.
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
    if (model === 'vae') {
      const klClosed = 0.5 * mean.reduce((s, m, u) => s + m * m + Math.exp(logVar[u]) - logVar[u] - 1, 0);
      loss += -meanLpx + klClosed;
      reconstruction += -meanLpx;
      kl += klClosed;
    } else if (model === 'vae-sampled-kl') {
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
