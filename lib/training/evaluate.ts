import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { batches } from '../data/batches';
import type { Binarizer } from '../data/binarize';
import type { MnistSplit } from '../data/mnist';
import { ActivityAccumulator, activeUnitsOf, type ActiveUnits } from '../model/activity';
import { importanceBoundPerImage, posteriorMeans } from '../model/estimators';
import { withNetwork, type Model } from '../model/model';
import { normalNoise } from '../model/noise';
import { objectiveValues } from '../model/objectives';
import type { RandomStream } from '../random/streams';

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

export interface ObjectivePass {
  loss: number;
  lossSE: number;
  reconstruction: number;
  kl: number;
  /** Active units from the same forward passes' posterior means. */
  activeUnits: ActiveUnits;
}

export interface PassOptions {
  batchSize: number;
  binarizer: Binarizer;
  /** Shuffles the images (the study's test loader did; it does not change the means). */
  order?: RandomStream;
  activeUnitThreshold: number;
}

/** The training objective (no update) over a whole split, e.g. the per-epoch test loss. */
export function objectivePass(
  model: Model,
  objective: ModelName,
  k: number,
  split: MnistSplit,
  noiseStream: RandomStream,
  options: PassOptions,
): ObjectivePass {
  const latent = model.layout.architecture.latent;
  const loss = new ImageMeans();
  const reconstruction = new BatchMeans();
  const kl = new BatchMeans();
  const activity = new ActivityAccumulator(latent);
  for (const x of batches(split, { batchSize: options.batchSize, binarizer: options.binarizer, order: options.order })) {
    const size = x.shape[0];
    const [values, perImage, means] = withNetwork(model, (network) => {
      const o = objectiveValues(objective, network, x, normalNoise(noiseStream, size, k, latent));
      return [tf.stack([o.reconstruction, o.kl]), o.lossPerImage, o.posteriorMean];
    });
    x.dispose();
    const [r, d] = values.dataSync();
    loss.addAll(perImage.dataSync());
    activity.add(means.dataSync(), size);
    values.dispose();
    perImage.dispose();
    means.dispose();
    reconstruction.add(r, size);
    kl.add(d, size);
  }
  return {
    loss: loss.mean,
    lossSE: loss.standardError,
    reconstruction: reconstruction.mean,
    kl: kl.mean,
    activeUnits: activeUnitsOf(activity.activity(), options.activeUnitThreshold),
  };
}

/** Mean of per-image values and its standard error (sample sd / sqrt(images)), streamed. */
class ImageMeans {
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

/** A_u over a whole split, streamed batch by batch (encoder only). */
export function datasetActiveUnits(
  model: Model,
  split: MnistSplit,
  options: { batchSize: number; binarizer: Binarizer; activeUnitThreshold: number },
): ActiveUnits {
  const activity = new ActivityAccumulator(model.layout.architecture.latent);
  for (const x of batches(split, { batchSize: options.batchSize, binarizer: options.binarizer })) {
    const means = posteriorMeans(model, x);
    activity.add(means.dataSync(), x.shape[0]);
    means.dispose();
    x.dispose();
  }
  return activeUnitsOf(activity.activity(), options.activeUnitThreshold);
}

export interface BoundEstimate {
  k: number;
  /** Mean over images of L_k (nats; NLL estimate = -mean for large k). */
  mean: number;
  /** Standard error of the mean over images. */
  standardError: number;
  images: number;
}

/** Mean L_k over a split (k = 5000 for Burda's log-likelihood), chunked so memory stays bounded. */
export function datasetBound(
  model: Model,
  split: MnistSplit,
  k: number,
  noiseStream: RandomStream,
  options: { batchSize: number; binarizer: Binarizer; maxRows?: number; onBatch?: (done: number, total: number) => void },
): BoundEstimate {
  const bound = new ImageMeans();
  for (const x of batches(split, { batchSize: options.batchSize, binarizer: options.binarizer })) {
    try {
      bound.addAll(importanceBoundPerImage(model, x, k, noiseStream, { maxRows: options.maxRows }));
    } finally {
      x.dispose();
    }
    options.onBatch?.(bound.count, split.count);
  }
  return { k, mean: bound.mean, standardError: bound.standardError, images: bound.count };
}
