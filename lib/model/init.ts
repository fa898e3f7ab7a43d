import type { InitName } from '../config/run-config';
import type { RandomStream } from '../random/streams';
import type { ParameterLayout } from './architecture';
import { outputBiasSpec } from './architecture';

/** How one weight matrix is drawn; the formulas are PyTorch's (torch.nn.init). */
export type WeightDistribution =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  /** N(0, std^2) restricted to [-cut, cut] (PyTorch's trunc_normal_ defaults: std 1, cut 2, absolute). */
  | { kind: 'truncated-normal'; std: number; cut: number };

/**
 * The distribution of a [fanIn, fanOut] weight matrix under `init`.
 * Xavier: gain 1, fans summed. He (Kaiming): PyTorch's defaults a=0, mode fan_in, gain sqrt(2).
 */
export function weightDistribution(init: InitName, fanIn: number, fanOut: number): WeightDistribution {
  switch (init) {
    case 'xavier-uniform':
      return { kind: 'uniform', bound: Math.sqrt(6 / (fanIn + fanOut)) };
    case 'xavier-normal':
      return { kind: 'normal', std: Math.sqrt(2 / (fanIn + fanOut)) };
    case 'he-uniform':
      return { kind: 'uniform', bound: Math.sqrt(6 / fanIn) };
    case 'he-normal':
      return { kind: 'normal', std: Math.sqrt(2 / fanIn) };
    case 'truncated-normal':
      return { kind: 'truncated-normal', std: 1, cut: 2 };
  }
}

/** The standard deviation a weight drawn from `d` has (for the truncated normal: after truncation). */
export function distributionStd(d: WeightDistribution): number {
  switch (d.kind) {
    case 'uniform':
      return d.bound / Math.sqrt(3);
    case 'normal':
      return d.std;
    case 'truncated-normal': {
      // Var of N(0, s^2) truncated to [-c, c]: s^2 (1 - 2 a phi(a) / (2 Phi(a) - 1)), a = c / s.
      const a = d.cut / d.std;
      const phi = Math.exp(-0.5 * a * a) / Math.sqrt(2 * Math.PI);
      const mass = erf(a / Math.SQRT2);
      return d.std * Math.sqrt(1 - (2 * a * phi) / mass);
    }
  }
}

/**
 * A fresh flat parameter vector: weights drawn layer by layer (in layout order) from `stream`, biases
 * zero, except the decoder's output bias when `outputBias` is given (Burda-style data-mean init).
 */
export function initialParameters(
  layout: ParameterLayout,
  init: InitName,
  stream: RandomStream,
  options: { outputBias?: Float32Array } = {},
): Float32Array {
  const flat = new Float32Array(layout.size);
  for (const spec of layout.specs) {
    if (spec.role !== 'weight') continue;
    const view = flat.subarray(spec.offset, spec.offset + spec.size);
    drawWeights(view, weightDistribution(init, spec.fanIn, spec.fanOut), stream);
  }
  if (options.outputBias) {
    const spec = outputBiasSpec(layout);
    if (options.outputBias.length !== spec.size) {
      throw new RangeError(`output bias has ${options.outputBias.length} values, the layout needs ${spec.size}`);
    }
    flat.set(options.outputBias, spec.offset);
  }
  return flat;
}

function drawWeights(out: Float32Array, d: WeightDistribution, stream: RandomStream): void {
  switch (d.kind) {
    case 'uniform': {
      stream.fillUniform(out);
      for (let i = 0; i < out.length; i++) out[i] = (2 * out[i] - 1) * d.bound;
      return;
    }
    case 'normal': {
      stream.fillNormal(out);
      for (let i = 0; i < out.length; i++) out[i] *= d.std;
      return;
    }
    case 'truncated-normal': {
      // Rejection sampling is exact for a truncated normal; with cut = 2 std it accepts 95.4%.
      const buffer = new Float32Array(Math.max(64, Math.ceil(out.length * 0.06)));
      let filled = 0;
      while (filled < out.length) {
        stream.fillNormal(buffer);
        for (let j = 0; j < buffer.length && filled < out.length; j++) {
          const value = buffer[j] * d.std;
          if (Math.abs(value) <= d.cut) out[filled++] = value;
        }
      }
      return;
    }
  }
}

/**
 * Burda et al.'s output-bias init: the logit of each pixel's mean intensity over the training images,
 * with the mean clipped to [1e-3, 1 - 1e-3] (as in their code) so always-black pixels get a finite bias.
 */
export function dataMeanOutputBias(images: Uint8Array, count: number, pixels: number): Float32Array {
  if (images.length !== count * pixels) throw new RangeError(`expected ${count * pixels} bytes, got ${images.length}`);
  const sums = new Float64Array(pixels);
  for (let i = 0; i < count; i++) {
    const row = i * pixels;
    for (let p = 0; p < pixels; p++) sums[p] += images[row + p];
  }
  const bias = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const mean = Math.min(1 - 1e-3, Math.max(1e-3, sums[p] / (255 * count)));
    bias[p] = Math.log(mean / (1 - mean));
  }
  return bias;
}

/** Abramowitz-Stegun 7.1.26 is too coarse for a test oracle; this series/continued fraction is ~1e-15. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a < 3) {
    // Maclaurin series: converges fast for |x| < 3.
    let term = a;
    let sum = a;
    for (let n = 1; n < 100; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return sign * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  return sign * (1 - erfc);
}
