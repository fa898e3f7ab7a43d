import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';
import { join } from 'node:path';
import { fixedBinarization } from '../data/binarize';
import { takeFirst, type MnistSplit } from '../data/mnist';
import { PIXELS } from '../data/shape';
import { priorSampleProbabilities, reconstructionProbabilities } from '../model/estimators';
import type { Model } from '../model/model';
import { createStream } from '../random/streams';
import { writeFileAtomic } from '../io/atomic-file';
import type { EpochMetrics } from './metrics';

/** Images per PNG grid row; also the number of test digits reconstructed. */
const GRID_COLUMNS = 8;
const SIDE = 28;

/** Where a run keeps what is looked at rather than computed with: TensorBoard events and PNG grids. */
export function artifactDirs(runDir: string) {
  return { tensorboard: join(runDir, 'tensorboard'), images: join(runDir, 'images') };
}

/**
 * Epochs that get PNGs: every `every`-th and the last, so a short run still leaves one set. Which epochs
 * is fixed by the config, so a resumed run writes exactly the images an uninterrupted one would.
 */
export function isImageEpoch(epoch: number, every: number, lastEpoch: number): boolean {
  return epoch % every === 0 || epoch === lastEpoch;
}

/** Rows of `count` 28x28 images (values in [0, 1]) tiled `columns` wide into one gray PNG. */
export async function imageGridPng(images: Float32Array, count: number, columns = GRID_COLUMNS): Promise<Uint8Array> {
  const rows = Math.ceil(count / columns);
  const pixels = new Uint8Array(rows * SIDE * columns * SIDE);
  const width = columns * SIDE;
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * SIDE;
    const left = (i % columns) * SIDE;
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        // Ink dark on white, as digits are drawn in the figures.
        pixels[(top + r) * width + left + c] = Math.round(255 * (1 - images[i * PIXELS + r * SIDE + c]));
      }
    }
  }
  const image = tf.tensor3d(pixels, [rows * SIDE, width, 1], 'int32');
  try {
    return await tf.node.encodePng(image);
  } finally {
    image.dispose();
  }
}

/**
 * Reconstructions (top row: binarized test digits, bottom row: p(x|z = posterior mean)) and 64 prior
 * samples as PNGs under images/. Random choices come from streams of the run's seed named by the epoch,
 * never from the training streams, so writing images does not change any training number.
 */
export async function writeEpochImages(model: Model, test: MnistSplit, seed: number, epoch: number, runDir: string): Promise<string[]> {
  const digits = takeFirst(test, Math.min(GRID_COLUMNS, test.count));
  const bits = Float32Array.from(fixedBinarization(digits, createStream(seed, 'images-binarization', epoch)));
  const priorCount = 8 * GRID_COLUMNS;
  const [reconstructions, samples] = tf.tidy(() => {
    const x = tf.tensor2d(bits, [digits.count, PIXELS]);
    return [
      reconstructionProbabilities(model, x).dataSync() as Float32Array,
      priorSampleProbabilities(model, priorCount, createStream(seed, 'images-prior', epoch)).dataSync() as Float32Array,
    ];
  });
  const pairs = new Float32Array(2 * GRID_COLUMNS * PIXELS);
  pairs.set(bits, 0);
  pairs.set(reconstructions, GRID_COLUMNS * PIXELS);
  const dir = artifactDirs(runDir).images;
  const tag = String(epoch).padStart(3, '0');
  const written = [
    [join(dir, `reconstructions-epoch-${tag}.png`), await imageGridPng(pairs, 2 * GRID_COLUMNS)],
    [join(dir, `prior-samples-epoch-${tag}.png`), await imageGridPng(samples, priorCount)],
  ] as const;
  for (const [path, png] of written) writeFileAtomic(path, png);
  return written.map(([path]) => path);
}

/** Writes one run's TensorBoard events; `close` it (in a finally) when the training session ends. */
export interface EpochSummaryWriter {
  write(m: EpochMetrics): void;
  close(): void;
}

/**
 * TensorBoard scalars and the activity histogram of each epoch, into one events file per training
 * session (a resumed run adds a file; TensorBoard reads them all). Not tf.node.summaryFileWriter: it
 * caches a writer per log directory for the life of the process and never frees it, so every run left
 * its resource tensor, four argument scalars and an open file behind (a grid worker's tensor count grew
 * by 5 per run). Here the writer's resource is closed (which flushes it) and its handle disposed.
 * Events are written after the checkpoint: a kill between the two repeats at most one epoch's points on
 * resume (TensorBoard shows the last).
 */
export function openEpochSummaryWriter(runDir: string): EpochSummaryWriter {
  const backend = tf.backend() as unknown as NodeJSKernelBackend;
  const logdir = artifactDirs(runDir).tensorboard;
  const handle = backend.summaryWriter(logdir);
  try {
    // tidy: the backend makes four argument scalars and does not dispose them.
    tf.tidy(() => backend.createSummaryFileWriter(handle, logdir));
  } catch (err) {
    handle.dispose();
    throw err;
  }
  let closed = false;
  return {
    write(m: EpochMetrics): void {
      const scalars: Record<string, number> = {
        'loss/train': m.trainLoss,
        'loss/test': m.testLoss,
        'study_loss/train': m.trainStudyLoss,
        'study_loss/test': m.testStudyLoss,
        'reconstruction/train': m.trainRecon,
        'kl/train': m.trainKL,
        'reconstruction/test': m.testRecon,
        'kl/test': m.testKL,
        'active_units/train': m.activeUnitsTrain,
        'active_units/test': m.activeUnitsTest,
        learning_rate: m.learningRate,
        epoch_seconds: m.seconds,
      };
      // Gradient SNR, on the epochs that measure it: one chart group for the blocks' mean, one for their median.
      for (const b of m.gradientSnr?.blocks ?? []) {
        scalars[`gradient_snr_mean/${b.block}`] = b.meanSnr;
        scalars[`gradient_snr_median/${b.block}`] = b.medianSnr;
      }
      for (const [name, value] of Object.entries(scalars)) backend.writeScalarSummary(handle, m.epoch, name, value);
      // log10 A_u: the activities span many orders of magnitude (active ~1, inactive ~1e-4).
      const logActivity = tf.tensor1d(m.activityTrain.map((a) => Math.log10(Math.max(a, 1e-12))));
      try {
        backend.writeHistogramSummary(handle, m.epoch, 'log10_activity/train', logActivity, undefined, undefined);
      } finally {
        logActivity.dispose();
      }
      backend.flushSummaryWriter(handle);
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        backend.executeMultipleOutputs('CloseSummaryWriter', [], [handle], 0);
      } finally {
        handle.dispose();
      }
    },
  };
}
