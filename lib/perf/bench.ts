import * as tf from '@tensorflow/tfjs-node';
import { cpus } from 'node:os';
import { MNIST_TRAIN_SIZE } from '../config/run-config';
import { STUDY_ARCHITECTURE } from '../model/architecture';
import { measureMatMulGflops, stepFlops } from './floor';
import { OurStep } from './our-step';
import { ReferenceServer, type ReferenceInfo, type ReferenceLocation } from './reference';
import { median } from './stats';
import { measureGridThroughput } from './throughput';

/** TensorFlow reads these at start-up (there is no tfjs-node API for its thread pools). */
export const ONE_THREAD_ENV: Readonly<Record<string, string>> = Object.freeze({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });

export interface BenchOptions {
  objective: 'iwae' | 'vae';
  k: number;
  batch: number;
  /** Timed steps per side, split into alternating blocks. */
  steps: number;
  /** Steps per A/B block. */
  blockSteps: number;
  /** Untimed steps per side before the first block (JIT, TensorFlow's and PyTorch's caches). */
  warmupSteps: number;
  /** Worker processes for the grid-throughput figure (the grid runner's default: the number of cores). */
  workers: number;
  reference: ReferenceLocation;
  seed: number;
}

export interface BenchReport {
  setting: { objective: string; k: number; batch: number; stepsPerEpoch: number; steps: number; blockSteps: number };
  oursMsPerStep: number;
  referenceMsPerStep: number | null;
  /** ours / reference per step (below 1: ours is faster). */
  ratio: number | null;
  reference: { status: 'measured'; torch: string; threads: number } | { status: 'missing'; reason: string };
  /** Median ms/step of each A/B block, in order. */
  blocks: { ours: number[]; reference: number[] };
  oursOpsPerStep: number;
  /** Seconds per epoch of 60,000 images, extrapolated from the per-step medians. */
  epochSeconds: { ours: number; reference: number | null };
  /** Training epochs per hour: ours with `workers` processes at once vs one process (each). */
  grid: {
    workers: number;
    oursEpochsPerHour: number;
    oursMsPerStepPerWorker: number[];
    oursSequentialEpochsPerHour: number;
    referenceSequentialEpochsPerHour: number | null;
    /** ours (all workers) / reference run sequentially. */
    ratio: number | null;
    /**
     * The same workers with one TensorFlow thread each (TF_NUM_INTRAOP_THREADS=1, TF_NUM_INTEROP_THREADS=1,
     * which the grid runner can pass as `workerEnv`): with as many workers as cores, more threads only
     * contend for the same cores.
     */
    oneThreadPerWorker: { epochsPerHour: number; msPerStepPerWorker: number[]; ratio: number | null };
  };
  floor: { mflopPerStep: number; matmulGflops: number; msPerStep: number; oursOverFloor: number; referenceOverFloor: number | null };
  machine: { cores: number; cpu: string; node: string; tensorflow: string | null };
}

/**
 * Ours vs the PyTorch reference at one setting, in one invocation: warm-up, then alternating blocks
 * (ours, reference, ours, ...) so that load from other processes hits both sides alike; medians over all
 * timed steps. Then the grid figure (our worker processes at once), and the arithmetic floor. `log` gets
 * progress lines (stderr in the CLI).
 */
export async function runBench(options: BenchOptions, log: (line: string) => void = () => undefined): Promise<BenchReport> {
  const { objective, k, batch, seed } = options;
  const setting = { objective, k, batch, seed };
  const stepsPerEpoch = Math.ceil(MNIST_TRAIN_SIZE / batch);
  const ours = new OurStep(setting);
  let server: ReferenceServer | null = null;
  let referenceStatus: BenchReport['reference'];
  const blocks = { ours: [] as number[], reference: [] as number[] };
  const all = { ours: [] as number[], reference: [] as number[] };
  let opsPerStep: number;
  try {
    if (options.reference.available) {
      log('starting the PyTorch reference');
      const started = await ReferenceServer.start(options.reference, setting);
      server = started.server;
      referenceStatus = referenceInfo(started.info);
    } else {
      referenceStatus = { status: 'missing', reason: options.reference.reason };
    }
    log(`warm-up: ${options.warmupSteps} steps each`);
    ours.time(options.warmupSteps);
    if (server) await server.time(options.warmupSteps);
    opsPerStep = ours.opsPerStep();
    const blockCount = Math.max(1, Math.ceil(options.steps / options.blockSteps));
    for (let b = 0; b < blockCount; b++) {
      const n = Math.min(options.blockSteps, options.steps - b * options.blockSteps) || options.steps;
      const mine = ours.time(n);
      blocks.ours.push(median(mine));
      all.ours.push(...mine);
      if (server) {
        const theirs = await server.time(n);
        blocks.reference.push(median(theirs));
        all.reference.push(...theirs);
      }
      log(`block ${b + 1}/${blockCount}: ours ${blocks.ours[b].toFixed(2)} ms/step${server ? `, reference ${blocks.reference[b].toFixed(2)} ms/step` : ''}`);
    }
  } finally {
    ours.dispose();
    await server?.close();
  }

  const oursMs = median(all.ours);
  const referenceMs = all.reference.length > 0 ? median(all.reference) : null;

  log(`grid throughput: ${options.workers} worker processes at once (default threads, then one TensorFlow thread each)`);
  const grid = await measureGridThroughput(setting, { workers: options.workers, warmupSteps: options.warmupSteps, steps: options.steps });
  const perHour = (stepsPerSecond: number) => (stepsPerSecond * 3600) / stepsPerEpoch;
  const oneThread = await measureGridThroughput(setting, {
    workers: options.workers,
    warmupSteps: options.warmupSteps,
    steps: options.steps,
    env: ONE_THREAD_ENV,
  });
  const oursGrid = perHour(grid.stepsPerSecond);
  const referenceSequential = referenceMs === null ? null : perHour(1000 / referenceMs);

  log('matmul rate (1024 x 1024 products)');
  const gflops = measureMatMulGflops();
  const flops = stepFlops(STUDY_ARCHITECTURE, batch, k);
  const floorMs = flops / (gflops * 1e6);
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;

  return {
    setting: { objective, k, batch, stepsPerEpoch, steps: options.steps, blockSteps: options.blockSteps },
    oursMsPerStep: oursMs,
    referenceMsPerStep: referenceMs,
    ratio: referenceMs === null ? null : oursMs / referenceMs,
    reference: referenceStatus,
    blocks,
    oursOpsPerStep: opsPerStep,
    epochSeconds: { ours: (oursMs * stepsPerEpoch) / 1000, reference: referenceMs === null ? null : (referenceMs * stepsPerEpoch) / 1000 },
    grid: {
      workers: grid.workers,
      oursEpochsPerHour: oursGrid,
      oursMsPerStepPerWorker: grid.msPerStepEach,
      oursSequentialEpochsPerHour: perHour(1000 / oursMs),
      referenceSequentialEpochsPerHour: referenceSequential,
      ratio: referenceSequential === null ? null : oursGrid / referenceSequential,
      oneThreadPerWorker: {
        epochsPerHour: perHour(oneThread.stepsPerSecond),
        msPerStepPerWorker: oneThread.msPerStepEach,
        ratio: referenceSequential === null ? null : perHour(oneThread.stepsPerSecond) / referenceSequential,
      },
    },
    floor: {
      mflopPerStep: flops / 1e6,
      matmulGflops: gflops,
      msPerStep: floorMs,
      oursOverFloor: oursMs / floorMs,
      referenceOverFloor: referenceMs === null ? null : referenceMs / floorMs,
    },
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, tensorflow: binding?.TF_Version ?? null },
  };
}

function referenceInfo(info: ReferenceInfo): BenchReport['reference'] {
  return { status: 'measured', torch: info.torch, threads: info.threads };
}

/** The human-readable report: one line per figure. */
export function formatBenchReport(r: BenchReport): string[] {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)} ms`);
  const x = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}x`);
  const s = r.setting;
  const lines = [`setting: ${s.objective}, k=${s.k}, batch ${s.batch} (${s.stepsPerEpoch} steps/epoch); ${s.steps} timed steps per side in blocks of ${s.blockSteps}`];
  if (r.reference.status === 'missing') lines.push(`reference: missing (${r.reference.reason}); reporting ours only`);
  else lines.push(`reference: PyTorch ${r.reference.torch}, ${r.reference.threads} threads`);
  lines.push(
    `per step: ours ${ms(r.oursMsPerStep)} (${r.oursOpsPerStep} TensorFlow ops), reference ${ms(r.referenceMsPerStep)}, ratio ours/reference ${r.ratio === null ? 'n/a' : r.ratio.toFixed(2)}`,
    `per epoch: ours ${r.epochSeconds.ours.toFixed(1)} s, reference ${r.epochSeconds.reference === null ? 'n/a' : `${r.epochSeconds.reference.toFixed(1)} s`}`,
    `grid: ours ${r.grid.oursEpochsPerHour.toFixed(0)} epochs/hour with ${r.grid.workers} workers (${r.grid.oursSequentialEpochsPerHour.toFixed(0)} in one process), ` +
      `reference sequential ${r.grid.referenceSequentialEpochsPerHour === null ? 'n/a' : r.grid.referenceSequentialEpochsPerHour.toFixed(0)}, ratio ${x(r.grid.ratio)}; ` +
      `one TensorFlow thread per worker: ${r.grid.oneThreadPerWorker.epochsPerHour.toFixed(0)} epochs/hour, ratio ${x(r.grid.oneThreadPerWorker.ratio)}`,
    `floor: ${r.floor.mflopPerStep.toFixed(0)} MFLOP/step at ${r.floor.matmulGflops.toFixed(0)} GFLOP/s = ${ms(r.floor.msPerStep)}; ours ${x(r.floor.oursOverFloor)} the floor, reference ${x(r.floor.referenceOverFloor)}`,
  );
  return lines;
}
