/**
 * Cost of the data pipeline next to a training step (~10-35 ms here): loading MNIST with checksums, and
 * producing batches of 20 binarized images as tensors. Run: `npx tsx bench/batches.ts`.
 * Prints medians over repeats; each figure includes tensor creation and disposal.
 */
import * as tf from '@tensorflow/tfjs-node';
import { resolve } from 'node:path';
import { batches } from '../lib/data/batches';
import { fixedBinarization, type Binarizer } from '../lib/data/binarize';
import { loadMnist, type MnistData, type MnistSplit } from '../lib/data/mnist';
import { createStream } from '../lib/random/streams';

const BATCH_SIZE = 20;
const BATCHES_PER_REPEAT = 3000; // one epoch of the 60,000 training images
const REPEATS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds per batch over one epoch: shuffle, binarize, make the tensor, dispose it. */
function epochMsPerBatch(split: MnistSplit, binarizer: Binarizer, seed: number): number {
  const order = createStream(seed, 'data-order');
  const start = performance.now();
  let n = 0;
  for (const batch of batches(split, { batchSize: BATCH_SIZE, order, binarizer })) {
    batch.dispose();
    n++;
  }
  return (performance.now() - start) / n;
}

async function main(): Promise<void> {
  const loadTimes: number[] = [];
  let data: MnistData | null = null;
  for (let r = 0; r < REPEATS; r++) {
    const start = performance.now();
    data = await loadMnist({ cacheDir: resolve(__dirname, '..', 'data', 'mnist'), verifyChecksums: true });
    loadTimes.push(performance.now() - start);
  }
  if (!data) throw new Error('unreachable');
  const train = data.train;
  console.log(`load 70,000 images + labels, MD5 verified (${data.source}): median ${median(loadTimes).toFixed(0)} ms over ${REPEATS}`);
  if (train.count !== BATCHES_PER_REPEAT * BATCH_SIZE) throw new Error('expected the full training set');

  const tensorsBefore = tf.memory().numTensors;
  epochMsPerBatch(train, { kind: 'dynamic', stream: createStream(0, 'binarization') }, 0); // warm-up (JIT, TF runtime)
  const dynamic = Array.from({ length: REPEATS }, (_, r) =>
    epochMsPerBatch(train, { kind: 'dynamic', stream: createStream(r, 'binarization') }, r),
  );
  const fixedStart = performance.now();
  const bits = fixedBinarization(train, createStream(0, 'binarization'));
  const fixedMs = performance.now() - fixedStart;
  const fixed = Array.from({ length: REPEATS }, (_, r) => epochMsPerBatch(train, { kind: 'fixed', bits }, r));
  const leaked = tf.memory().numTensors - tensorsBefore;

  console.log(`batch of ${BATCH_SIZE}, dynamic binarization (shuffled epoch): median ${(median(dynamic) * 1000).toFixed(0)} us/batch`);
  console.log(`batch of ${BATCH_SIZE}, fixed binarization (shuffled epoch):   median ${(median(fixed) * 1000).toFixed(0)} us/batch`);
  console.log(`fixed binarization of 60,000 images (once per run): ${fixedMs.toFixed(0)} ms`);
  console.log(`tensors left after ${REPEATS * 2 + 1} epochs: ${leaked}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
