import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { binarizedRows, rowRange, type BinarizationSource, type DeviceSplit } from '../data/device-split';
import { ActivityAccumulator, activeUnitsOf, type ActiveUnits } from '../model/activity';
import { stackedLogWeights, stackedObjective, stackedPosteriorMeans } from '../model/fast-gradient';
import { rawOps as op } from '../model/raw-ops';
import type { StackLayout } from '../model/stack';
import { counterStream, groupCounter, type CounterStream } from '../random/counter-stream';

/**
 * Every evaluation of trained weights, for a stack of runs at once (one run is a stack of one): the
 * per-epoch test pass and active-unit pass of training, and the L_k estimates of the final evaluation
 * and `iwae eval` (the same function with the same streams, so both give one run the same NLL). Each
 * run draws from its own counter-based streams (lib/random/streams.ts), so its numbers do not depend on
 * which runs share the stack.
 */

/** A stack's weights as evaluation reads them (the trainer's live variable, or loaded from checkpoints). */
export interface StackWeights {
  layout: StackLayout;
  /** The parameter blocks in the stack's vector order (lib/model/stack.ts). */
  params: readonly tf.Tensor1D[];
}

/** Batch statistics of a pass: per-image mean and the standard error of the batch values. */
export class BatchMeans {
  private images = 0;
  private weightedSum = 0;
  private readonly values: number[] = [];

  add(value: number, batchSize: number): void {
    this.values.push(value);
    this.weightedSum += value * batchSize;
    this.images += batchSize;
  }

  /** Mean over images (a smaller last batch counts for its size). */
  get mean(): number {
    return this.images > 0 ? this.weightedSum / this.images : NaN;
  }

  /** Sample standard deviation of the batch values / sqrt(batches); 0 for fewer than two batches. */
  get standardError(): number {
    const n = this.values.length;
    if (n < 2) return 0;
    const m = this.values.reduce((a, b) => a + b, 0) / n;
    const variance = this.values.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
    return Math.sqrt(variance / n);
  }
}

/** Mean of per-image values and its standard error (sample sd / sqrt(images)), streamed. */
export class ImageMeans {
  private n = 0;
  private sum = 0;
  private sumSquares = 0;

  addAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      this.sum += values[i];
      this.sumSquares += values[i] * values[i];
    }
    this.n += values.length;
  }

  get count(): number {
    return this.n;
  }

  get mean(): number {
    return this.n > 0 ? this.sum / this.n : NaN;
  }

  get standardError(): number {
    if (this.n < 2) return 0;
    const mean = this.sum / this.n;
    return Math.sqrt(Math.max(0, (this.sumSquares - this.n * mean * mean) / (this.n - 1)) / this.n);
  }
}

/** Counters of a per-epoch pass: batch j of epoch e is draw e * PASS_BATCHES + j. */
const PASS_BATCHES = 65_536;

export interface ObjectivePass {
  loss: number;
  lossSE: number;
  reconstruction: number;
  kl: number;
  /** Active units from the same forward passes' posterior means. */
  activeUnits: ActiveUnits;
}

/** What one run brings to a pass: where its bits come from, and (objective pass) its noise. */
export interface PassRun {
  binarization: BinarizationSource;
  noise?: CounterStream;
}

/**
 * The training objective (no update) of every run over a whole split in file order: the per-epoch test
 * loss, its reconstruction/KL split and the active units from the same posterior means.
 */
export function objectivePass(
  weights: StackWeights,
  objective: ModelName,
  k: number,
  split: DeviceSplit,
  runs: readonly PassRun[],
  options: { batchSize: number; epoch: number; activeUnitThreshold: number },
): ObjectivePass[] {
  const { layout, params } = weights;
  const latent = layout.run.architecture.latent;
  const loss = runs.map(() => new ImageMeans());
  const reconstruction = runs.map(() => new BatchMeans());
  const kl = runs.map(() => new BatchMeans());
  const activity = runs.map(() => new ActivityAccumulator(latent));
  for (let start = 0, j = 0; start < split.count; start += options.batchSize, j++) {
    const size = Math.min(options.batchSize, split.count - start);
    const counter = groupCounter(options.epoch, j, PASS_BATCHES);
    const rows = rowRange(start, size);
    const x = binarizedRows(split, runs.map((r) => r.binarization), runs.map(() => rows), counter);
    const noise = stackNoise(runs.map((r) => r.noise!), [k * size, latent], counter);
    try {
      const out = stackedObjective(layout, params, objective, x, noise, k);
      const means = out.posteriorMeans.dataSync() as Float32Array;
      out.posteriorMeans.dispose();
      out.runs.forEach((run, r) => {
        loss[r].addAll(run.lossPerImage);
        reconstruction[r].add(run.values.reconstruction, size);
        kl[r].add(run.values.kl, size);
        activity[r].add(means.subarray(r * size * latent, (r + 1) * size * latent), size);
      });
    } finally {
      x.dispose();
      noise.dispose();
    }
  }
  return runs.map((_, r) => ({
    loss: loss[r].mean,
    lossSE: loss[r].standardError,
    reconstruction: reconstruction[r].mean,
    kl: kl[r].mean,
    activeUnits: activeUnitsOf(activity[r].activity(), options.activeUnitThreshold),
  }));
}

/** A_u of every run over a whole split, batch by batch (encoder only). */
export function activityPass(
  weights: StackWeights,
  split: DeviceSplit,
  sources: readonly BinarizationSource[],
  options: { batchSize: number; epoch: number; activeUnitThreshold: number },
): ActiveUnits[] {
  const latent = weights.layout.run.architecture.latent;
  const activity = sources.map(() => new ActivityAccumulator(latent));
  for (let start = 0, j = 0; start < split.count; start += options.batchSize, j++) {
    const size = Math.min(options.batchSize, split.count - start);
    const rows = rowRange(start, size);
    const x = binarizedRows(split, sources, sources.map(() => rows), groupCounter(options.epoch, j, PASS_BATCHES));
    try {
      const means = stackedPosteriorMeans(weights.layout, weights.params, x);
      const values = means.dataSync() as Float32Array;
      means.dispose();
      activity.forEach((a, r) => a.add(values.subarray(r * size * latent, (r + 1) * size * latent), size));
    } finally {
      x.dispose();
    }
  }
  return activity.map((a) => activeUnitsOf(a.activity(), options.activeUnitThreshold));
}

export interface BoundEstimate {
  k: number;
  /** Mean over images of L_k (nats; NLL estimate = -mean for large k). */
  mean: number;
  /** Standard error of the mean over images. */
  standardError: number;
  images: number;
}

/**
 * Images per batch of the bound estimates, and samples per noise draw (one chunk: 5,000 decoded rows
 * per run). Both are part of which noise each sample gets, so they are fixed: a run's L_k is the same
 * whatever the memory, the stack or the command (final evaluation, `iwae eval`, notebooks).
 */
export const BOUND_BATCH = 100;
export const BOUND_SAMPLE_BLOCK = 50;

/** The evaluation's streams of one run: one binarization of the images for every k, one noise stream per k. */
export function evaluationStreams(seed: number): { binarization: CounterStream; noise: (k: number) => CounterStream } {
  return { binarization: counterStream(seed, 'final-binarization'), noise: (k) => counterStream(seed, 'final-noise', k) };
}

/**
 * L_k of every run for each k in `ks` on the first images of `split` (k = 5000: Burda's log-likelihood
 * estimate), and the active units on the same bits. Image batch j gets draw j of the run's
 * 'final-binarization' (the same bits for every k); each k draws its noise from 'final-noise/<k>', chunk
 * c of batch j at counter j * chunks + c, so adding a k never changes another's number. Each chunk's
 * log-sum-exp is merged in float64.
 * `onProgress` gets images x samples done, out of the total.
 */
export function boundLadder(
  weights: StackWeights,
  split: DeviceSplit,
  ks: readonly number[],
  seeds: readonly number[],
  options: { activeUnitThreshold: number; onProgress?: (done: number, total: number) => void },
): Array<{ bounds: BoundEstimate[]; activeUnits: ActiveUnits }> {
  const { layout, params } = weights;
  const R = layout.runs;
  if (seeds.length !== R) throw new RangeError(`${seeds.length} seeds for a stack of ${R}`);
  const latent = layout.run.architecture.latent;
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  for (const k of sorted) if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer >= 1, got ${k}`);
  const streams = seeds.map(evaluationStreams);
  const sources: BinarizationSource[] = streams.map((s) => ({ kind: 'dynamic', stream: s.binarization }));
  const totalWork = sorted.reduce((sum, k) => sum + k, 0) * split.count;
  let done = 0;
  const estimates = sorted.map(() => seeds.map(() => new ImageMeans()));
  const activity = seeds.map(() => new ActivityAccumulator(latent));
  for (let start = 0, j = 0; start < split.count; start += BOUND_BATCH, j++) {
    const size = Math.min(BOUND_BATCH, split.count - start);
    const rows = rowRange(start, size);
    const x = binarizedRows(split, sources, sources.map(() => rows), j);
    try {
      const means = stackedPosteriorMeans(layout, params, x);
      const values = means.dataSync() as Float32Array;
      means.dispose();
      activity.forEach((a, r) => a.add(values.subarray(r * size * latent, (r + 1) * size * latent), size));
      sorted.forEach((k, ki) => {
        const perChunk = Math.min(k, BOUND_SAMPLE_BLOCK);
        const chunks = Math.ceil(k / perChunk);
        const merge = seeds.map(() => new LogSumExp(size));
        for (let c = 0; c < chunks; c++) {
          const samples = Math.min(perChunk, k - c * perChunk);
          const noise = stackNoise(streams.map((s) => s.noise(k)), [samples * size, latent], groupCounter(j, c, chunks));
          try {
            const logW = stackedLogWeights(layout, params, x, noise, samples);
            logW.forEach((w, r) => merge[r].add(w, samples));
          } finally {
            noise.dispose();
          }
          done += samples * size;
          options.onProgress?.(done, totalWork);
        }
        merge.forEach((m, r) => estimates[ki][r].addAll(m.bounds(k)));
      });
    } finally {
      x.dispose();
    }
  }
  return seeds.map((_, r) => ({
    bounds: sorted.map((k, ki) => ({ k, mean: estimates[ki][r].mean, standardError: estimates[ki][r].standardError, images: estimates[ki][r].count })),
    activeUnits: activeUnitsOf(activity[r].activity(), options.activeUnitThreshold),
  }));
}

/** Per image, log sum_i exp(log w_i) over chunks of samples, in float64 with a running max. */
class LogSumExp {
  private readonly max: Float64Array;
  private readonly sum: Float64Array;

  constructor(private readonly images: number) {
    this.max = new Float64Array(images).fill(-Infinity);
    this.sum = new Float64Array(images);
  }

  /** `logW`: [samples * images], sample-major (row i * images + b). */
  add(logW: Float32Array, samples: number): void {
    for (let b = 0; b < this.images; b++) {
      let chunkMax = -Infinity;
      for (let i = 0; i < samples; i++) chunkMax = Math.max(chunkMax, logW[i * this.images + b]);
      if (chunkMax === -Infinity) continue; // zero weights add nothing (and -Inf - -Inf would be NaN)
      let chunkSum = 0;
      for (let i = 0; i < samples; i++) chunkSum += Math.exp(logW[i * this.images + b] - chunkMax);
      if (chunkMax > this.max[b]) {
        this.sum[b] = this.sum[b] * Math.exp(this.max[b] - chunkMax) + chunkSum;
        this.max[b] = chunkMax;
      } else {
        this.sum[b] += chunkSum * Math.exp(chunkMax - this.max[b]);
      }
    }
  }

  /** L_k = log (1/k) sum_i w_i per image. */
  bounds(k: number): Float64Array {
    return Float64Array.from(this.max, (m, b) => m + Math.log(this.sum[b]) - Math.log(k));
  }
}

/** [R, rows, latent] standard normals: run r's from its stream at `counter`, sample-major rows. */
export function stackNoise(streams: readonly CounterStream[], shape: [number, number], counter: number): tf.Tensor3D {
  return tf.tidy(() => {
    const pieces = streams.map((s) => s.normal(shape, counter));
    return op.reshape<tf.Rank.R3>(pieces.length === 1 ? pieces[0] : op.concat(pieces, 0), [streams.length, ...shape]);
  });
}

/** True when the estimates do not decrease with k (L_k is non-decreasing in k in expectation). */
export function boundsIncreaseWithK(estimates: readonly BoundEstimate[]): boolean {
  return estimates.every((e, i) => i === 0 || e.mean >= estimates[i - 1].mean);
}
