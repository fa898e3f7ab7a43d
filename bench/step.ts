/**
 * Milliseconds per training step of the study's model (784-200-200-50, batch 20) for each objective and
 * k, as the training loop runs it: noise made in JS from a stream, loss + gradient through the flat
 * parameter vector (the hand-written fast path), one fused Adam update, reading the loss values back.
 * Also the number of TensorFlow ops one step executes (counted at the backend, so raw ops such as MatMul
 * and ResourceApplyAdam count too; tf.profile would miss them).
 * Run: `npx tsx bench/step.ts [steps=200] [k=5]`. Prints medians after a warm-up; noisy on a shared machine.
 * For the side-by-side comparison with PyTorch use `iwae bench` (alternating blocks in one invocation).
 */
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES, type ModelName } from '../lib/config/run-config';
import { STUDY_ARCHITECTURE } from '../lib/model/architecture';
import { disposeModel, initModel } from '../lib/model/model';
import { normalNoise } from '../lib/model/noise';
import { countTensorFlowOps } from '../lib/perf/op-count';
import { createStream } from '../lib/random/streams';
import { FlatAdam } from '../lib/training/adam';
import { trainStep } from '../lib/training/step';

const BATCH = 20;
const WARMUP = 30;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function benchmark(objective: ModelName, k: number, steps: number) {
  const model = initModel(STUDY_ARCHITECTURE, 'xavier-uniform', createStream(0, 'init'));
  const adam = new FlatAdam(model.layout.size, { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 });
  const noiseStream = createStream(0, 'noise');
  const dataStream = createStream(0, 'data');
  // A few fixed binarized-looking batches (the data pipeline has its own benchmark, bench/batches.ts).
  const xs = Array.from({ length: 8 }, () => {
    const u = dataStream.fillUniform(new Float32Array(BATCH * 784));
    return tf.tensor2d(u.map((v) => (v < 0.13 ? 1 : 0)), [BATCH, 784]);
  });
  const step = (i: number) => {
    const noise = normalNoise(noiseStream, BATCH, k, STUDY_ARCHITECTURE.latent);
    trainStep(model, adam, objective, xs[i % xs.length], noise, 1e-3);
    noise.dispose();
  };
  for (let i = 0; i < WARMUP; i++) step(i);
  const ops = countTensorFlowOps(() => step(0)).ops;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    step(i);
    times.push(performance.now() - start);
  }
  xs.forEach((x) => x.dispose());
  disposeModel(model);
  adam.dispose();
  return { objective, k, msPerStep: median(times), p90: [...times].sort((a, b) => a - b)[Math.floor(0.9 * times.length)], ops };
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 200);
  const k = Number(process.argv[3] ?? 5);
  console.log(`backend ${tf.getBackend()}, batch ${BATCH}, ${steps} timed steps after ${WARMUP} warm-up`);
  for (const objective of MODEL_NAMES) {
    const r = benchmark(objective, k, steps);
    console.log(`${r.objective.padEnd(15)} k=${r.k}: median ${r.msPerStep.toFixed(2)} ms/step (p90 ${r.p90.toFixed(2)}), ${r.ops} TensorFlow ops/step`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
