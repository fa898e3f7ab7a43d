import * as tf from '@tensorflow/tfjs-node';
import { cpus } from 'node:os';
import { MNIST_TRAIN_SIZE } from '../config/run-config';
import { STUDY_ARCHITECTURE } from '../model/architecture';
import { measureMachineMatMulGflops, stepFlops } from './floor';
import { OurStep } from './our-step';
import { defaultPoolEnvironment, intraOpThreads, trainingEnvironment } from '../env/tensorflow-threads';
import { ReferenceServer, type ReferenceInfo, type ReferenceLocation, type ReferenceStyle } from './reference';
import { median } from './stats';
import { measureGridThroughput } from './throughput';

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
  /**
   * This process's environment (its TensorFlow thread settings are what ours is timed with); the grid
   * figure's workers get it as `iwae grid` gives it to its workers.
   */
  env: NodeJS.ProcessEnv;
}

export interface BenchReport {
  setting: { objective: string; k: number; batch: number; stepsPerEpoch: number; steps: number; blockSteps: number };
  oursMsPerStep: number;
  /** The study-style PyTorch iteration (bench/reference.py 'study': as the study's own code computes it). */
  referenceMsPerStep: number | null;
  /** ours / study-style reference per iteration (below 1: ours is faster). */
  ratio: number | null;
  /** The lean PyTorch rewrite of the same iteration ('lean'): the stricter comparison. */
  leanReferenceMsPerStep: number | null;
  /** ours / lean reference. */
  leanRatio: number | null;
  reference: { status: 'measured'; torch: string; threads: number; style: 'study'; sameLoss: { study: number; lean: number } } | { status: 'missing'; reason: string };
  /** Median ms/iteration of each alternating block, in order. */
  blocks: { ours: number[]; reference: number[]; leanReference: number[] };
  oursOpsPerStep: number;
  /** TensorFlow intra-op threads of the process timing ours (`iwae bench` trains with one, as `iwae train`). */
  oursThreads: number;
  /** Seconds per epoch of 60,000 images, extrapolated from the per-iteration medians. */
  epochSeconds: { ours: number; reference: number | null; leanReference: number | null };
  /** Training epochs per hour: ours with `workers` processes at once vs each reference in one process. */
  grid: {
    workers: number;
    /** TensorFlow threads per worker, as `iwae grid` gives them (lib/env/tensorflow-threads.ts). */
    threadsPerWorker: number;
    oursEpochsPerHour: number;
    oursMsPerStepPerWorker: number[];
    oursSequentialEpochsPerHour: number;
    referenceSequentialEpochsPerHour: number | null;
    /** ours (all workers) / the study-style reference run sequentially. */
    ratio: number | null;
    leanReferenceSequentialEpochsPerHour: number | null;
    leanRatio: number | null;
    /** The same workers with TensorFlow's default pools (every worker as many threads as cores). */
    defaultThreads: { epochsPerHour: number; msPerStepPerWorker: number[]; ratio: number | null };
  };
  floor: {
    mflopPerStep: number;
    /** The machine's float32 matmul rate with every core working (1024 x 1024 products). */
    matmulGflops: number;
    msPerStep: number;
    oursOverFloor: number;
    referenceOverFloor: number | null;
    leanReferenceOverFloor: number | null;
  };
  machine: { cores: number; cpu: string; node: string; tensorflow: string | null };
}

/**
 * Ours vs the PyTorch references at one setting, in one invocation: warm-up, then alternating blocks
 * (ours, study-style reference, lean reference, ours, ...) so that load from other processes hits every
 * side alike; medians over all timed iterations. Then the grid figure (our worker processes at once, as
 * `iwae grid` runs them), and the arithmetic floor. `log` gets progress lines (stderr in the CLI).
 */
export async function runBench(options: BenchOptions, log: (line: string) => void = () => undefined): Promise<BenchReport> {
  const { objective, k, batch, seed } = options;
  const setting = { objective, k, batch, seed };
  const stepsPerEpoch = Math.ceil(MNIST_TRAIN_SIZE / batch);
  const styles: ReferenceStyle[] = ['study', 'lean'];
  const ours = new OurStep(setting);
  let server: ReferenceServer | null = null;
  let referenceStatus: BenchReport['reference'];
  const blocks = { ours: [] as number[], study: [] as number[], lean: [] as number[] };
  const all = { ours: [] as number[], study: [] as number[], lean: [] as number[] };
  const record = (side: keyof typeof all, ms: number[]) => {
    blocks[side].push(median(ms));
    all[side].push(...ms);
  };
  let opsPerStep: number;
  try {
    if (options.reference.available) {
      log('starting the PyTorch references');
      const started = await ReferenceServer.start(options.reference, setting);
      server = started.server;
      referenceStatus = referenceInfo(started.info, await server.losses(seed));
    } else {
      referenceStatus = { status: 'missing', reason: options.reference.reason };
    }
    log(`warm-up: ${options.warmupSteps} iterations each`);
    ours.time(options.warmupSteps);
    if (server) for (const style of styles) await server.time(options.warmupSteps, style);
    opsPerStep = ours.opsPerStep();
    const blockCount = Math.max(1, Math.ceil(options.steps / options.blockSteps));
    for (let b = 0; b < blockCount; b++) {
      const n = Math.min(options.blockSteps, options.steps - b * options.blockSteps) || options.steps;
      await settle();
      record('ours', ours.time(n));
      if (server) {
        for (const style of styles) {
          await settle();
          record(style, await server.time(n, style));
        }
      }
      const theirs = server ? `, study-style reference ${blocks.study[b].toFixed(2)}, lean reference ${blocks.lean[b].toFixed(2)}` : '';
      log(`block ${b + 1}/${blockCount}: ours ${blocks.ours[b].toFixed(2)} ms/iteration${theirs}`);
    }
  } finally {
    ours.dispose();
    await server?.close();
  }

  const oursMs = median(all.ours);
  const studyMs = all.study.length > 0 ? median(all.study) : null;
  const leanMs = all.lean.length > 0 ? median(all.lean) : null;
  const perHour = (stepsPerSecond: number) => (stepsPerSecond * 3600) / stepsPerEpoch;
  const sequential = (ms: number | null) => (ms === null ? null : perHour(1000 / ms));
  const over = (a: number, b: number | null) => (b === null ? null : a / b);

  const cores = cpus().length;
  // The workers get what `iwae grid` gives its workers (a user's TF_NUM_INTRAOP_THREADS wins there too).
  const workerEnv = trainingEnvironment(options.env);
  const threadsPerWorker = intraOpThreads(workerEnv) ?? cores;
  log(`grid throughput: ${options.workers} worker processes at once (${threadsPerWorker} TensorFlow thread(s) each, as iwae grid; then TensorFlow's default pools)`);
  const gridOptions = { workers: options.workers, warmupSteps: options.warmupSteps, steps: options.steps };
  const grid = await measureGridThroughput(setting, { ...gridOptions, env: workerEnv });
  const defaultThreads = await measureGridThroughput(setting, { ...gridOptions, env: defaultPoolEnvironment(options.env) });
  const oursGrid = perHour(grid.stepsPerSecond);
  const studySequential = sequential(studyMs);
  const leanSequential = sequential(leanMs);

  log('matmul rate (1024 x 1024 products, every core)');
  const gflops = measureMachineMatMulGflops(options.env);
  const flops = stepFlops(STUDY_ARCHITECTURE, batch, k);
  const floorMs = flops / (gflops * 1e6);
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  const seconds = (ms: number | null) => (ms === null ? null : (ms * stepsPerEpoch) / 1000);

  return {
    setting: { objective, k, batch, stepsPerEpoch, steps: options.steps, blockSteps: options.blockSteps },
    oursMsPerStep: oursMs,
    referenceMsPerStep: studyMs,
    ratio: over(oursMs, studyMs),
    leanReferenceMsPerStep: leanMs,
    leanRatio: over(oursMs, leanMs),
    reference: referenceStatus,
    blocks: { ours: blocks.ours, reference: blocks.study, leanReference: blocks.lean },
    oursOpsPerStep: opsPerStep,
    oursThreads: intraOpThreads(options.env) ?? cores,
    epochSeconds: { ours: (oursMs * stepsPerEpoch) / 1000, reference: seconds(studyMs), leanReference: seconds(leanMs) },
    grid: {
      workers: grid.workers,
      threadsPerWorker,
      oursEpochsPerHour: oursGrid,
      oursMsPerStepPerWorker: grid.msPerStepEach,
      oursSequentialEpochsPerHour: perHour(1000 / oursMs),
      referenceSequentialEpochsPerHour: studySequential,
      ratio: over(oursGrid, studySequential),
      leanReferenceSequentialEpochsPerHour: leanSequential,
      leanRatio: over(oursGrid, leanSequential),
      defaultThreads: {
        epochsPerHour: perHour(defaultThreads.stepsPerSecond),
        msPerStepPerWorker: defaultThreads.msPerStepEach,
        ratio: over(perHour(defaultThreads.stepsPerSecond), studySequential),
      },
    },
    floor: {
      mflopPerStep: flops / 1e6,
      matmulGflops: gflops,
      msPerStep: floorMs,
      oursOverFloor: oursMs / floorMs,
      referenceOverFloor: studyMs === null ? null : studyMs / floorMs,
      leanReferenceOverFloor: leanMs === null ? null : leanMs / floorMs,
    },
    machine: { cores, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, tensorflow: binding?.TF_Version ?? null },
  };
}

/**
 * A pause before each timed block, so the side that ran last is idle when the next one starts: PyTorch's
 * OpenMP threads spin for a while after their last parallel region, on the cores the next block needs.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}
const SETTLE_MS = 100;

export function referenceInfo(info: ReferenceInfo, losses: Record<ReferenceStyle, number>): BenchReport['reference'] {
  // Both styles must compute the same objective, or timing them against ours would compare different work.
  const gap = Math.abs(losses.study - losses.lean);
  if (!(gap <= 1e-3 * Math.max(1, Math.abs(losses.lean)))) {
    throw new Error(`the study-style and lean references disagree on the loss (${losses.study} vs ${losses.lean})`);
  }
  return { status: 'measured', torch: info.torch, threads: info.threads, style: 'study', sameLoss: losses };
}

/** The human-readable report: one line per figure. */
export function formatBenchReport(r: BenchReport): string[] {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)} ms`);
  const x = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}x`);
  const ratio = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));
  const perHour = (v: number | null) => (v === null ? 'n/a' : v.toFixed(0));
  const s = r.setting;
  const g = r.grid;
  const lines = [`setting: ${s.objective}, k=${s.k}, batch ${s.batch} (${s.stepsPerEpoch} iterations/epoch); ${s.steps} timed iterations per side in blocks of ${s.blockSteps}`];
  if (r.reference.status === 'missing') lines.push(`reference: missing (${r.reference.reason}); reporting ours only`);
  else lines.push(`reference: PyTorch ${r.reference.torch}, ${r.reference.threads} threads; study-style and lean iterations, same loss (${r.reference.sameLoss.study.toFixed(3)})`);
  lines.push(
    `per iteration: ours ${ms(r.oursMsPerStep)} (${r.oursOpsPerStep} TensorFlow ops, ${r.oursThreads} thread(s)), study-style reference ${ms(r.referenceMsPerStep)} (ratio ${ratio(r.ratio)}), ` +
      `lean reference ${ms(r.leanReferenceMsPerStep)} (ratio ${ratio(r.leanRatio)})`,
    `per epoch: ours ${r.epochSeconds.ours.toFixed(1)} s, study-style ${r.epochSeconds.reference === null ? 'n/a' : `${r.epochSeconds.reference.toFixed(1)} s`}, ` +
      `lean ${r.epochSeconds.leanReference === null ? 'n/a' : `${r.epochSeconds.leanReference.toFixed(1)} s`}`,
    `grid: ours ${perHour(g.oursEpochsPerHour)} epochs/hour with ${g.workers} workers x ${g.threadsPerWorker} thread(s) (${perHour(g.oursSequentialEpochsPerHour)} in one process); ` +
      `sequential study-style ${perHour(g.referenceSequentialEpochsPerHour)} (${x(g.ratio)}), lean ${perHour(g.leanReferenceSequentialEpochsPerHour)} (${x(g.leanRatio)}); ` +
      `with TensorFlow's default pools: ${perHour(g.defaultThreads.epochsPerHour)} epochs/hour (${x(g.defaultThreads.ratio)})`,
    `floor: ${r.floor.mflopPerStep.toFixed(0)} MFLOP/iteration at ${r.floor.matmulGflops.toFixed(0)} GFLOP/s = ${ms(r.floor.msPerStep)}; ` +
      `ours ${x(r.floor.oursOverFloor)} the floor, study-style ${x(r.floor.referenceOverFloor)}, lean ${x(r.floor.leanReferenceOverFloor)}`,
  );
  return lines;
}
