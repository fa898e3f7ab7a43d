import * as tf from '@tensorflow/tfjs-node';
import { GRADIENT_SNR_MAX_DRAWS, type ModelName } from '../config/run-config';
import { binarizedRows, rowRange, type BinarizationSource, type DeviceSplit } from '../data/device-split';
import { parameterLayout, type Architecture, type NetworkName, type ParameterLayout } from '../model/architecture';
import { stackedLossAndGradient } from '../model/fast-gradient';
import { disposeModel, modelFromParameters } from '../model/model';
import { gatherRows, rawOps as op } from '../model/raw-ops';
import { batchMajorNoise, lossAndGradient } from '../model/reference-gradient';
import { stackLayout, type StackLayout } from '../model/stack';
import { counterStream, groupCounter } from '../random/counter-stream';

/**
 * The signal-to-noise ratio of a model's gradient estimate (Rainforth et al. 2018, "Tighter variational
 * bounds are not necessarily better"): for one parameter, SNR = |E g| / sd(g) over the noise of the
 * estimate, the data held fixed. Rainforth et al. showed that IWAE's encoder SNR falls like 1/sqrt(k)
 * while its decoder's grows; STL and DReG (MODEL_ESTIMATORS in lib/model/objectives.ts) change the
 * encoder's estimate. Measured after chosen epochs of training (config.evaluation.gradientSnr), per run:
 * - the batch: the first `images` training images, binarized once ('snr-binarization', the same bits at
 *   every epoch; the fixed protocol uses the run's own fixed bits);
 * - the draws: `draws` gradients of the run's estimator on that batch, each with its own noise, draw d
 *   after epoch e from counter e * GRADIENT_SNR_MAX_DRAWS + d of the run's 'snr-noise' stream (never a
 *   training stream, so measuring changes no training number);
 * - per entry, the sample mean and standard deviation (n - 1) over the draws (sums over a group of draws
 *   in float32 on TensorFlow's side, across groups in float64); per parameter block (every weight and
 *   bias of encoder and decoder), the mean and the median of the entries' SNR.
 *   Entries whose gradient is the same in every draw (e.g. the weights of a pixel off in every image of
 *   the batch: exactly zero) have no noise to measure and are left out of their block's summary.
 * Many draws are computed at once as extra "runs" of a stack with the run's parameters and batch
 * (lib/model/stack.ts; each slice is computed as if alone), in groups fixed by the settings: a run's
 * numbers depend only on its parameters (its checkpoint), seed, epoch and settings, never on the runs
 * trained beside it, so a resumed run measures what an uninterrupted one does.
 */

/** One parameter block's SNR summary. */
export interface BlockSnr {
  network: NetworkName;
  /** The block's parameter name, e.g. 'encoder.0.weight' (lib/model/architecture.ts). */
  block: string;
  /** Entries that vary over the draws, which the summary covers (of the block's size). */
  entries: number;
  /** Mean and median over those entries of |mean| / sd; 0 when no entry varies. */
  meanSnr: number;
  medianSnr: number;
}

/** A run's gradient SNR after one epoch, as EpochMetrics carries it. */
export interface GradientSnr {
  /** Noise draws used: the configured draws less any whose gradient was not finite (none, normally). */
  draws: number;
  /** Images in the fixed batch. */
  images: number;
  /** Every parameter block, layer by layer (weight, bias), encoder then decoder. */
  blocks: BlockSnr[];
}

/**
 * Per-entry mean and variance over draws, accumulated in float64. Sums are of differences from a shift
 * (the first draw): that keeps the variance accurate when the mean is large against the noise, and
 * exactly zero when every draw is the same.
 */
export class GradientMoments {
  private shiftValues: Float64Array | null = null;
  private readonly sum: Float64Array;
  private readonly sumSquares: Float64Array;
  private count = 0;

  constructor(readonly size: number) {
    this.sum = new Float64Array(size);
    this.sumSquares = new Float64Array(size);
  }

  /** Adds one draw of the gradient (`size` values); the first draw becomes the shift. */
  add(gradient: Float32Array): void {
    if (gradient.length !== this.size) throw new RangeError(`a draw of ${gradient.length} values, expected ${this.size}`);
    this.shiftValues ??= Float64Array.from(gradient);
    const { shiftValues: shift, sum, sumSquares } = this;
    for (let i = 0; i < this.size; i++) {
      const d = gradient[i] - shift[i];
      sum[i] += d;
      sumSquares[i] += d * d;
    }
    this.count++;
  }

  /** The shift (the first draw), once a draw was added. */
  get shift(): Float64Array | null {
    return this.shiftValues;
  }

  /**
   * Adds `draws` draws given as sums, made elsewhere (on TensorFlow's side): for the entries from `offset`
   * of each part, the sum over the draws of (g - shift) and of its square. Call once per part, then
   * `countDraws` once.
   */
  addShiftedSums(offset: number, sum: Float32Array, sumSquares: Float32Array): void {
    if (!this.shiftValues) throw new Error('shifted sums need the shift: add the first draw first');
    for (let i = 0; i < sum.length; i++) {
      this.sum[offset + i] += sum[i];
      this.sumSquares[offset + i] += sumSquares[i];
    }
  }

  countDraws(draws: number): void {
    this.count += draws;
  }

  get draws(): number {
    return this.count;
  }

  /** |mean| / sd of every entry (sd with n - 1); NaN where the draws do not vary, or before two draws. */
  snr(): Float64Array {
    const n = this.count;
    const out = new Float64Array(this.size).fill(NaN);
    const shift = this.shiftValues;
    if (n < 2 || !shift) return out;
    for (let i = 0; i < this.size; i++) {
      const meanShifted = this.sum[i] / n;
      const variance = (this.sumSquares[i] - n * meanShifted * meanShifted) / (n - 1);
      if (variance > 0) out[i] = Math.abs(shift[i] + meanShifted) / Math.sqrt(variance);
    }
    return out;
  }
}

/** Mean and median SNR of every parameter block of `layout`, from per-entry SNRs (NaN: left out). */
export function blockSummaries(layout: ParameterLayout, snr: Float64Array): BlockSnr[] {
  if (snr.length !== layout.size) throw new RangeError(`${snr.length} SNR values for a layout of ${layout.size}`);
  return layout.specs.map((spec) => {
    const values = Float64Array.from(snr.subarray(spec.offset, spec.offset + spec.size).filter((v) => !Number.isNaN(v))).sort();
    const n = values.length;
    const meanSnr = n > 0 ? values.reduce((a, b) => a + b, 0) / n : 0;
    const medianSnr = n === 0 ? 0 : n % 2 === 1 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return { network: spec.network, block: spec.name, entries: n, meanSnr, medianSnr };
  });
}

/** One run to measure: its parameters (run layout) and seed (its 'snr-noise' stream). */
export interface SnrRun {
  parameters: Float32Array;
  seed: number;
}

/**
 * Decoded rows one stacked call may hold (draws x images x k), and most draws per call: the size of
 * the stacks the draws are computed in (a training step's budget is far larger; this keeps a
 * measurement's extra memory to tens of MB at the study's sizes). Fixed by the run's settings, so a
 * run's numbers are.
 */
const ROWS_PER_CALL = 4000;
const MAX_DRAWS_PER_CALL = 32;

export function drawsPerCall(images: number, k: number): number {
  return Math.max(1, Math.min(MAX_DRAWS_PER_CALL, Math.floor(ROWS_PER_CALL / (images * k))));
}

/** The fixed batch of every run: rows 0..images-1 of `train` from each run's source, [R, images, input] (caller disposes). */
export function snrBatch(train: DeviceSplit, sources: readonly BinarizationSource[], images: number): tf.Tensor3D {
  if (images > train.count) throw new RangeError(`an SNR batch of ${images} images from ${train.count}`);
  return binarizedRows(train, sources, sources.map(() => rowRange(0, images)), 0);
}

/** Where a run's SNR batch comes from: a binarization of its own ('dynamic'), or the run's fixed bits. */
export function snrBinarization(seed: number, fixedBits?: tf.Tensor2D): BinarizationSource {
  return fixedBits ? { kind: 'fixed', bits: fixedBits } : { kind: 'dynamic', stream: counterStream(seed, 'snr-binarization') };
}

interface MeasureSettings {
  architecture: Architecture;
  model: ModelName;
  k: number;
  draws: number;
  epoch: number;
}

/**
 * The gradient SNR of every run after `epoch`: `draws` gradients of `model`'s estimator on run r's batch
 * `x[r]` ([R, images, input]) at the run's parameters. One summary per run, in order; no tensors left
 * behind (the caller keeps `x` until the promise settles). `perCall` (draws per stacked call; default
 * `drawsPerCall`) is for tests: other groupings change the float32 partial sums' rounding only.
 */
export async function measureGradientSnr(runs: readonly SnrRun[], x: tf.Tensor3D, options: MeasureSettings & { perCall?: number }): Promise<GradientSnr[]> {
  const [R, images] = x.shape;
  if (R !== runs.length) throw new RangeError(`a batch for ${R} runs, ${runs.length} runs`);
  const { draws, k } = options;
  if (!Number.isInteger(draws) || draws < 2 || draws > GRADIENT_SNR_MAX_DRAWS) throw new RangeError(`draws must be in 2..${GRADIENT_SNR_MAX_DRAWS}, got ${draws}`);
  const perCall = options.perCall ?? drawsPerCall(images, k);
  const out: GradientSnr[] = [];
  for (const [r, run] of runs.entries()) {
    const batch = gatherRows(x, Int32Array.of(r));
    try {
      out.push(await measureRun(run, batch, options, perCall));
    } finally {
      batch.dispose();
    }
  }
  return out;
}

/** Return to the event loop at least this often, so signal handlers (Ctrl-C) and lock heartbeats run during a long measurement. */
const YIELD_MS = 100;

/**
 * One run's measurement. Its first finite draw is the shift; the other draws go in stacks of `perCall`
 * copies of the run (parameters and batch tiled on TensorFlow's side), each copy with its draw's noise,
 * and each stack's gradients are reduced there to the sums of (g - shift) and (g - shift)^2 per entry,
 * so only two run-sized vectors per stack come back to JS. A stack with a draw the fast path cannot
 * decide (not finite: rare, as in training) is computed again and read back draw by draw, that draw by
 * the exact reference path.
 */
async function measureRun(run: SnrRun, x: tf.Tensor3D, settings: MeasureSettings, perCall: number): Promise<GradientSnr> {
  const { architecture, model, k, draws, epoch } = settings;
  const images = x.shape[1];
  const runLayout = parameterLayout(architecture);
  const stream = counterStream(run.seed, 'snr-noise');
  const noiseOf = (draw: number) => stream.normal([k * images, architecture.latent], groupCounter(epoch, draw, GRADIENT_SNR_MAX_DRAWS));
  const moments = new GradientMoments(runLayout.size);
  const one = stackLayout(architecture, 1);
  const blocks = one.blocks.map(({ spec }) => tf.tensor1d(run.parameters.subarray(spec.offset, spec.offset + spec.size), 'float32'));
  let shift: tf.Tensor2D[] = [];
  try {
    let next = 0;
    while (next < draws && !moments.shift) {
      const [gradient] = drawGradients(one, run.parameters, blocks, x, [next++], noiseOf, model, k);
      if (gradient) moments.add(gradient);
    }
    const shiftValues = moments.shift;
    if (shiftValues) shift = one.blocks.map(({ spec }) => tf.tensor2d(Float32Array.from(shiftValues.subarray(spec.offset, spec.offset + spec.size)), [1, spec.size], 'float32'));
    let lastYield = performance.now();
    for (let start = next; start < draws; start += perCall) {
      if (performance.now() - lastYield >= YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      const chunk = Array.from({ length: Math.min(perCall, draws - start) }, (_, i) => start + i);
      const layout = stackLayout(architecture, chunk.length);
      const sums = shiftedSums(layout, blocks, shift, x, chunk, noiseOf, model, k);
      if (sums) {
        one.blocks.forEach(({ spec }, b) => moments.addShiftedSums(spec.offset, sums[b].sum, sums[b].sumSquares));
        moments.countDraws(chunk.length);
      } else {
        for (const gradient of drawGradients(layout, run.parameters, blocks, x, chunk, noiseOf, model, k)) if (gradient) moments.add(gradient);
      }
    }
  } finally {
    [...blocks, ...shift].forEach((t) => t.dispose());
  }
  return { draws: moments.draws, images, blocks: blockSummaries(runLayout, moments.snr()) };
}

/** The run's parameter blocks, batch and the chunk's noise as a stack of `layout.runs` copies (caller disposes). */
function tiledInputs(layout: StackLayout, blocks: readonly tf.Tensor1D[], x: tf.Tensor3D, chunk: readonly number[], noiseOf: (draw: number) => tf.Tensor) {
  const copies = layout.runs;
  return tf.tidy(() => {
    const params = blocks.map((b) => (copies === 1 ? tf.clone(b) : op.tile(b, [copies])));
    const batch = copies === 1 ? tf.clone(x) : op.tile(x, [copies, 1, 1]);
    const pieces = chunk.map(noiseOf);
    const [rows, latent] = pieces[0].shape;
    const noise = op.reshape<tf.Rank.R3>(pieces.length === 1 ? pieces[0] : op.concat(pieces, 0), [copies, rows, latent]);
    return { params, batch, noise };
  });
}

/**
 * Per parameter block, the sums over the chunk's draws of (g - shift) and (g - shift)^2 (float32, on
 * TensorFlow's side), or null when a draw is not finite by the fast path (or there is no shift yet).
 */
function shiftedSums(
  layout: StackLayout,
  blocks: readonly tf.Tensor1D[],
  shift: readonly tf.Tensor2D[],
  x: tf.Tensor3D,
  chunk: readonly number[],
  noiseOf: (draw: number) => tf.Tensor,
  model: ModelName,
  k: number,
): Array<{ sum: Float32Array; sumSquares: Float32Array }> | null {
  if (shift.length === 0) return null;
  const inputs = tiledInputs(layout, blocks, x, chunk, noiseOf);
  try {
    const out = stackedLossAndGradient(layout, inputs.params, model, inputs.batch, inputs.noise, k);
    try {
      if (!out.runs.every((r) => r.values.finite)) return null;
      return layout.blocks.map(({ spec }, b) => {
        // Tensors out of the tidy, values read after it (tidy walks a returned typed array entry by entry).
        const sums = tf.tidy(() => {
          const difference = op.sub(op.reshape<tf.Rank.R2>(out.gradient[b], [layout.runs, spec.size]), shift[b]);
          return [op.sum(difference, 0), op.sum(op.square(difference), 0)];
        });
        try {
          return { sum: sums[0].dataSync() as Float32Array, sumSquares: sums[1].dataSync() as Float32Array };
        } finally {
          sums.forEach((t) => t.dispose());
        }
      });
    } finally {
      out.gradient.forEach((g) => g.dispose());
    }
  } finally {
    [...inputs.params, inputs.batch, inputs.noise].forEach((t) => t.dispose());
  }
}

/**
 * The gradient (run layout) of each draw of `chunk`, read back one by one; a draw the fast path cannot
 * decide is computed by the exact autograd path, and is null when that is not finite either.
 */
function drawGradients(
  layout: StackLayout,
  parameters: Float32Array,
  blocks: readonly tf.Tensor1D[],
  x: tf.Tensor3D,
  chunk: readonly number[],
  noiseOf: (draw: number) => tf.Tensor,
  model: ModelName,
  k: number,
): Array<Float32Array | null> {
  const inputs = tiledInputs(layout, blocks, x, chunk, noiseOf);
  try {
    const out = stackedLossAndGradient(layout, inputs.params, model, inputs.batch, inputs.noise, k);
    const values = out.gradient.map((g) => g.dataSync() as Float32Array);
    out.gradient.forEach((g) => g.dispose());
    return out.runs.map((r, i) => {
      if (!r.values.finite) return referenceGradient(layout.run, parameters, model, x, inputs.noise, i);
      const gradient = new Float32Array(layout.run.size);
      layout.blocks.forEach(({ spec }, b) => gradient.set(values[b].subarray(i * spec.size, (i + 1) * spec.size), spec.offset));
      return gradient;
    });
  } finally {
    [...inputs.params, inputs.batch, inputs.noise].forEach((t) => t.dispose());
  }
}

/** Copy `i`'s gradient by the exact autograd path (run layout), or null when that is not finite either. */
function referenceGradient(layout: ParameterLayout, parameters: Float32Array, model: ModelName, x: tf.Tensor3D, noise: tf.Tensor3D, i: number): Float32Array | null {
  const [, images, pixels] = x.shape;
  const [, rows, latent] = noise.shape;
  const k = rows / images;
  const reference = modelFromParameters(layout, parameters);
  const xi = tf.tensor2d(x.dataSync() as Float32Array, [images, pixels], 'float32');
  const ni = tf.tensor3d(batchMajorNoise((noise.dataSync() as Float32Array).subarray(i * rows * latent, (i + 1) * rows * latent), images, k, latent), [images, k, latent], 'float32');
  try {
    const out = lossAndGradient(reference, model, xi, ni);
    const values = out.values.dataSync();
    const gradient = out.gradient.dataSync() as Float32Array;
    out.values.dispose();
    out.gradient.dispose();
    return values.every(Number.isFinite) && gradient.every(Number.isFinite) ? gradient : null;
  } finally {
    xi.dispose();
    ni.dispose();
    disposeModel(reference);
  }
}
