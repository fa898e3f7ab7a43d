import * as tf from '@tensorflow/tfjs-node';
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { MNIST_TEST_SIZE, MNIST_TRAIN_SIZE, type ModelName } from '../config/run-config';
import { intraOpThreads, trainingEnvironment } from '../env/tensorflow-threads';
import { STUDY_ARCHITECTURE } from '../model/architecture';
import { referenceInfo, type BenchReport } from './bench';
import { boundFlops, epochPassFlops, measureMachineMatMulGflops, stepFlops } from './floor';
import type { StepSetting } from './our-step';
import { ReferenceServer, type ReferenceLocation, type ReferenceStyle } from './reference';
import { median } from './stats';
import { messages } from './throughput';

/**
 * `iwae bench --grid`: the whole machine at the paper's setting, as `iwae grid` uses it. Ours: W worker
 * processes at once (one TensorFlow thread each, as the grid runner gives them), each with a stack of
 * runs; the PyTorch references: one process, run after run (the study trains its runs sequentially).
 * From the measured rates: the paper grid's projected wall time on this machine, part by part.
 */

/** The paper grid with its ablations (/work/shared/notes/paper-grid-budget.md). */
export const PAPER_GRID = {
  /** IWAE and VAE runs at k = 5. */
  runsAtK5: 40,
  /** Runs at k = 1: 40 IWAE/VAE and 20 sampled-KL VAE (costed as a k = 1 iteration; the 20 truncated-normal runs diverge at once and cost nothing). */
  runsAtK1: 60,
  epochs: 80,
  batch: 20,
  /** Runs with a final L_5000 (every run that trains). */
  finalRuns: 100,
  finalK: 5000,
  finalTestImages: MNIST_TEST_SIZE,
  trainImages: MNIST_TRAIN_SIZE,
  testImages: MNIST_TEST_SIZE,
} as const;

/** The training objective timed (the grid's k = 1 runs are costed at the IWAE k = 1 rate). */
const OBJECTIVE = 'iwae' as const;
const KS = [5, 1] as const;

export type GridJob =
  | { kind: 'train'; setting: StepSetting; warmupSteps: number }
  | { kind: 'final'; runs: number; images: number; k: number; seed: number }
  | { kind: 'passes'; runs: number; objective: ModelName; k: number; testImages: number; trainImages: number; seed: number };

export type ToGridWorker = { type: 'prepare'; job: GridJob } | { type: 'go'; count: number } | { type: 'release' } | { type: 'quit' };
export type FromGridWorker = { type: 'ready' } | { type: 'done'; seconds: number[] } | { type: 'released' } | { type: 'error'; message: string };

const WORKER_MODULE = join(__dirname, 'grid-bench-worker.ts');

/** W worker processes that prepare a job each, then run it together on every 'go'. */
class WorkerPool {
  private readonly children: ChildProcess[] = [];
  private readonly inboxes: Array<ReturnType<typeof messages<FromGridWorker>>> = [];

  constructor(workers: number, env: NodeJS.ProcessEnv) {
    for (let i = 0; i < workers; i++) {
      const stderr: string[] = [];
      const child = fork(WORKER_MODULE, [], {
        execArgv: ['--require', require.resolve('tsx/cjs')],
        env: { TF_CPP_MIN_LOG_LEVEL: '2', ...env },
        // TensorFlow's start-up banner goes to stderr; kept only to explain a failure.
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr.push(chunk.toString());
        if (stderr.length > 20) stderr.shift();
      });
      this.children.push(child);
      this.inboxes.push(messages<FromGridWorker>(child, `grid bench worker ${i + 1}`, () => stderr.join('').trim().split('\n').pop() ?? ''));
    }
  }

  get size(): number {
    return this.children.length;
  }

  /** Every worker prepares (and warms up) its job. */
  async prepare(jobFor: (worker: number) => GridJob): Promise<void> {
    this.children.forEach((c, w) => c.send({ type: 'prepare', job: jobFor(w) } satisfies ToGridWorker));
    await Promise.all(this.inboxes.map((m) => m.next('ready')));
  }

  /** All workers run their job at once; each one's seconds. */
  async go(count: number): Promise<number[][]> {
    this.children.forEach((c) => c.send({ type: 'go', count } satisfies ToGridWorker));
    return (await Promise.all(this.inboxes.map((m) => m.next('done')))).map((d) => d.seconds);
  }

  async release(): Promise<void> {
    this.children.forEach((c) => c.send({ type: 'release' } satisfies ToGridWorker));
    await Promise.all(this.inboxes.map((m) => m.next('released')));
  }

  close(): void {
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      if (child.connected) child.send({ type: 'quit' } satisfies ToGridWorker);
      // A worker that does not leave by itself within a moment is ended (only our own children).
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill();
      }, 2_000).unref();
    }
  }
}

export interface GridBenchOptions {
  /** Worker processes (`iwae grid`'s default: the number of cores). */
  workers: number;
  /** Runs per worker stack (`iwae grid`'s default: DEFAULT_STACK_SIZE). */
  stackSize: number;
  /** Timed iterations per side and k: each worker's stack iterations, each reference's iterations. */
  steps: number;
  /** Iterations per alternating block. */
  blockSteps: number;
  warmupSteps: number;
  /** Test images of the timed final L_5000 (extrapolated to 10,000). */
  finalImages: number;
  /** Test images of the timed per-epoch test pass (the activity pass times 6x as many training images). */
  passImages: number;
  reference: ReferenceLocation;
  seed: number;
  /** This process's environment; the workers get it as `iwae grid` gives it to its workers. */
  env: NodeJS.ProcessEnv;
}

export interface ReferenceRate {
  /** Median milliseconds per iteration over all timed iterations. */
  msPerIteration: number;
  /** One process, one run at a time: 1000 / msPerIteration. */
  runIterationsPerSecond: number;
}

export interface GridAtK {
  k: number;
  objective: ModelName;
  ours: {
    /** Median over blocks of the whole machine's run-iterations per second (every worker's stack iterations x runs / its own time, summed). */
    runIterationsPerSecond: number;
    blockRunIterationsPerSecond: number[];
    /** Each worker's median milliseconds per run-iteration (a stack iteration / its runs) while all ran at once. */
    msPerRunIterationPerWorker: number[];
  };
  studyReference: ReferenceRate | null;
  leanReference: ReferenceRate | null;
  /** ours / study-style reference in run-iterations per second (above 1: ours is faster). */
  ratio: number | null;
  /** ours / lean reference. */
  leanRatio: number | null;
  /** Machine time per run-iteration: 1000 / ours.runIterationsPerSecond. */
  machineMsPerRunIteration: number;
  /** stepFlops / the matmul rate with every core. */
  floorMsPerRunIteration: number;
  mflopPerIteration: number;
  overFloor: number;
  /** The per-epoch passes of one run-epoch: the test objective at k on 10,000 images, the activity pass on 60,000. */
  passes: {
    timedTestImages: number;
    timedTrainImages: number;
    /** Each worker's seconds for its stack's objective pass and activity pass on the timed images. */
    secondsPerWorker: Array<{ objective: number; activity: number }>;
    objectiveMachineSecondsPerRunEpoch: number;
    activityMachineSecondsPerRunEpoch: number;
    /** objective + activity. */
    machineSecondsPerRunEpoch: number;
    floorSecondsPerRunEpoch: number;
    overFloor: number;
  };
}

export interface GridReport {
  setting: {
    workers: number;
    stackSize: number;
    /** TensorFlow intra-op threads per worker, as `iwae grid` gives them (lib/env/tensorflow-threads.ts). */
    threadsPerWorker: number;
    objective: ModelName;
    batch: number;
    iterationsPerEpoch: number;
    steps: number;
    blockSteps: number;
    warmupSteps: number;
    finalImages: number;
    finalK: number;
    passTestImages: number;
    passTrainImages: number;
  };
  reference: { status: 'measured'; torch: string; threads: number } | { status: 'missing'; reason: string };
  k5: GridAtK;
  k1: GridAtK;
  final: {
    k: number;
    timedImages: number;
    secondsPerWorker: number[];
    /** Machine seconds per run of the final L_k on 10,000 test images (extrapolated from the timed images). */
    machineSecondsPerRun: number;
    tflopPerRun: number;
    floorSecondsPerRun: number;
    overFloor: number;
  };
  /** float32 matmul rate with every core (1024 x 1024 products), GFLOP/s. */
  matmulGflops: number;
  /** The paper grid with ablations on this machine, from the rates above (seconds; hours alongside). */
  projection: {
    runsAtK5: number;
    runsAtK1: number;
    epochs: number;
    iterationsPerEpoch: number;
    finalRuns: number;
    trainingK5Seconds: number;
    trainingK1Seconds: number;
    trainingSeconds: number;
    finalSeconds: number;
    passesK5Seconds: number;
    passesK1Seconds: number;
    passesSeconds: number;
    totalSeconds: number;
    hours: { training: number; final: number; passes: number; total: number };
    /** The same work at the matmul floor. */
    floorHours: number;
  };
  machine: BenchReport['machine'];
}

/**
 * The whole-machine view at the paper setting. Per k (5, then 1): the workers each prepare a training
 * stack; then alternating blocks (ours: every worker at once; study-style reference; lean reference)
 * so load from other processes hits every side alike; medians. Then the per-epoch passes at k. Then the
 * final L_k (every worker a stack at once), then the matmul rate (nothing else of ours running).
 */
export async function runGridBench(options: GridBenchOptions, log: (line: string) => void = () => undefined): Promise<GridReport> {
  const { seed, stackSize } = options;
  const batch = PAPER_GRID.batch;
  const iterationsPerEpoch = Math.ceil(PAPER_GRID.trainImages / batch);
  const passTestImages = options.passImages;
  const passTrainImages = Math.min(PAPER_GRID.trainImages, (PAPER_GRID.trainImages / PAPER_GRID.testImages) * options.passImages);
  const cores = cpus().length;
  const workerEnv = trainingEnvironment(options.env);
  const threadsPerWorker = intraOpThreads(workerEnv) ?? cores;
  const workerSeed = (w: number) => seed + 1000 * w;
  log(`grid bench: ${options.workers} worker(s) x stacks of ${stackSize} x ${threadsPerWorker} TensorFlow thread(s); references sequential`);

  const pool = new WorkerPool(options.workers, workerEnv);
  let referenceStatus: GridReport['reference'] = options.reference.available
    ? { status: 'missing', reason: 'not started' }
    : { status: 'missing', reason: options.reference.reason };
  const measured: Array<Omit<GridAtK, 'machineMsPerRunIteration' | 'floorMsPerRunIteration' | 'mflopPerIteration' | 'overFloor' | 'passes'> & { passSeconds: number[][] }> = [];
  let finalSeconds: number[];
  try {
    for (const k of KS) {
      const setting: StepSetting = { objective: OBJECTIVE, k, batch, seed, runs: stackSize };
      log(`k=${k}: preparing ${pool.size} training stack(s) (warm-up ${options.warmupSteps} stack iterations each)`);
      await pool.prepare((w) => ({ kind: 'train', setting: { ...setting, seed: workerSeed(w) }, warmupSteps: options.warmupSteps }));
      let server: ReferenceServer | null = null;
      const refMs: Record<ReferenceStyle, number[]> = { study: [], lean: [] };
      const blockRates: number[] = [];
      const workerMs: number[][] = Array.from({ length: pool.size }, () => []);
      try {
        if (options.reference.available) {
          const started = await ReferenceServer.start(options.reference, { objective: OBJECTIVE, k, batch, seed });
          server = started.server;
          const info = referenceInfo(started.info, await server.losses(seed));
          if (info.status === 'measured') referenceStatus = { status: 'measured', torch: info.torch, threads: info.threads };
          for (const style of STYLES) await server.time(options.warmupSteps, style);
        }
        const blockCount = Math.max(1, Math.ceil(options.steps / options.blockSteps));
        for (let b = 0; b < blockCount; b++) {
          const n = Math.min(options.blockSteps, options.steps - b * options.blockSteps) || options.steps;
          await settle();
          const seconds = (await pool.go(n)).map((s) => s[0]);
          blockRates.push(seconds.reduce((sum, s) => sum + (n * stackSize) / s, 0));
          seconds.forEach((s, w) => workerMs[w].push((1000 * s) / (n * stackSize)));
          const theirs: string[] = [];
          if (server) {
            for (const style of STYLES) {
              await settle();
              const ms = await server.time(n, style);
              refMs[style].push(...ms);
              theirs.push(`${style === 'study' ? 'study-style' : 'lean'} ${(1000 / median(ms)).toFixed(0)}`);
            }
          }
          log(`k=${k} block ${b + 1}/${blockCount}: ours ${blockRates[b].toFixed(0)} run-iterations/s${theirs.length ? `, ${theirs.join(', ')}` : ''}`);
        }
      } finally {
        await server?.close();
      }
      await pool.release();
      log(`k=${k}: per-epoch passes (${passTestImages} test images at k, ${passTrainImages} training images)`);
      await pool.prepare((w) => ({ kind: 'passes', runs: stackSize, objective: OBJECTIVE, k, testImages: passTestImages, trainImages: passTrainImages, seed: workerSeed(w) }));
      await settle();
      const passSeconds = await pool.go(1);
      await pool.release();
      const rate = (ms: number[]): ReferenceRate | null => (ms.length === 0 ? null : { msPerIteration: median(ms), runIterationsPerSecond: 1000 / median(ms) });
      const oursRate = median(blockRates);
      const studyReference = rate(refMs.study);
      const leanReference = rate(refMs.lean);
      measured.push({
        k,
        objective: OBJECTIVE,
        ours: { runIterationsPerSecond: oursRate, blockRunIterationsPerSecond: blockRates, msPerRunIterationPerWorker: workerMs.map((ms) => median(ms)) },
        studyReference,
        leanReference,
        ratio: studyReference ? oursRate / studyReference.runIterationsPerSecond : null,
        leanRatio: leanReference ? oursRate / leanReference.runIterationsPerSecond : null,
        passSeconds,
      });
    }
    log(`final L_${PAPER_GRID.finalK}: ${pool.size} stack(s) of ${stackSize} on ${options.finalImages} test image(s) each`);
    await pool.prepare((w) => ({ kind: 'final', runs: stackSize, images: options.finalImages, k: PAPER_GRID.finalK, seed: workerSeed(w) }));
    await settle();
    finalSeconds = (await pool.go(1)).map((s) => s[0]);
    await pool.release();
  } finally {
    pool.close();
  }

  log('matmul rate (1024 x 1024 products, every core)');
  const gflops = measureMachineMatMulGflops(options.env);
  const floorSeconds = (flops: number) => flops / (gflops * 1e9);

  const [k5, k1] = measured.map(({ passSeconds, ...m }): GridAtK => {
    const flops = stepFlops(STUDY_ARCHITECTURE, batch, m.k);
    const machineMs = 1000 / m.ours.runIterationsPerSecond;
    const floorMs = 1000 * floorSeconds(flops);
    // Run-epochs of each pass per second of the machine: every worker's runs x the timed fraction of the split / its seconds.
    const perRunEpoch = (i: 0 | 1, fraction: number) => 1 / passSeconds.reduce((sum, s) => sum + (stackSize * fraction) / s[i], 0);
    const objective = perRunEpoch(0, passTestImages / PAPER_GRID.testImages);
    const activity = perRunEpoch(1, passTrainImages / PAPER_GRID.trainImages);
    const passFloor = floorSeconds(epochPassFlops(STUDY_ARCHITECTURE, m.k, PAPER_GRID.testImages, PAPER_GRID.trainImages));
    return {
      ...m,
      machineMsPerRunIteration: machineMs,
      floorMsPerRunIteration: floorMs,
      mflopPerIteration: flops / 1e6,
      overFloor: machineMs / floorMs,
      passes: {
        timedTestImages: passTestImages,
        timedTrainImages: passTrainImages,
        secondsPerWorker: passSeconds.map((s) => ({ objective: s[0], activity: s[1] })),
        objectiveMachineSecondsPerRunEpoch: objective,
        activityMachineSecondsPerRunEpoch: activity,
        machineSecondsPerRunEpoch: objective + activity,
        floorSecondsPerRunEpoch: passFloor,
        overFloor: (objective + activity) / passFloor,
      },
    };
  });
  const finalFlops = boundFlops(STUDY_ARCHITECTURE, PAPER_GRID.finalTestImages, PAPER_GRID.finalK);
  const finalMachine = 1 / finalSeconds.reduce((sum, s) => sum + (stackSize * options.finalImages) / PAPER_GRID.finalTestImages / s, 0);
  const final = {
    k: PAPER_GRID.finalK,
    timedImages: options.finalImages,
    secondsPerWorker: finalSeconds,
    machineSecondsPerRun: finalMachine,
    tflopPerRun: finalFlops / 1e12,
    floorSecondsPerRun: floorSeconds(finalFlops),
    overFloor: finalMachine / floorSeconds(finalFlops),
  };
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  return {
    setting: {
      workers: pool.size,
      stackSize,
      threadsPerWorker,
      objective: OBJECTIVE,
      batch,
      iterationsPerEpoch,
      steps: options.steps,
      blockSteps: options.blockSteps,
      warmupSteps: options.warmupSteps,
      finalImages: options.finalImages,
      finalK: PAPER_GRID.finalK,
      passTestImages,
      passTrainImages,
    },
    reference: referenceStatus,
    k5,
    k1,
    final,
    matmulGflops: gflops,
    projection: projectPaperGrid(
      { k5: k5.ours.runIterationsPerSecond, k1: k1.ours.runIterationsPerSecond },
      final.machineSecondsPerRun,
      { k5: k5.passes.machineSecondsPerRunEpoch, k1: k1.passes.machineSecondsPerRunEpoch },
      iterationsPerEpoch,
      // The floor: the same work at the matmul rate.
      {
        training: { k5: 1000 / k5.floorMsPerRunIteration, k1: 1000 / k1.floorMsPerRunIteration },
        final: final.floorSecondsPerRun,
        passes: { k5: k5.passes.floorSecondsPerRunEpoch, k1: k1.passes.floorSecondsPerRunEpoch },
      },
    ),
    machine: { cores, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, tensorflow: binding?.TF_Version ?? null },
  };
}

const STYLES: ReferenceStyle[] = ['study', 'lean'];

/**
 * The paper grid's wall time from whole-machine rates: training (runs x epochs x iterations / run-iterations
 * per second, per k), the final L_5000 of every run, and every run-epoch's passes.
 */
export function projectPaperGrid(
  runIterationsPerSecond: { k5: number; k1: number },
  finalSecondsPerRun: number,
  passSecondsPerRunEpoch: { k5: number; k1: number },
  iterationsPerEpoch: number,
  floor: { training: { k5: number; k1: number }; final: number; passes: { k5: number; k1: number } },
): GridReport['projection'] {
  const { runsAtK5, runsAtK1, epochs, finalRuns } = PAPER_GRID;
  const parts = (rates: { k5: number; k1: number }, final: number, passes: { k5: number; k1: number }) => {
    const trainingK5Seconds = (runsAtK5 * epochs * iterationsPerEpoch) / rates.k5;
    const trainingK1Seconds = (runsAtK1 * epochs * iterationsPerEpoch) / rates.k1;
    const passesK5Seconds = runsAtK5 * epochs * passes.k5;
    const passesK1Seconds = runsAtK1 * epochs * passes.k1;
    const finalSeconds = finalRuns * final;
    return { trainingK5Seconds, trainingK1Seconds, passesK5Seconds, passesK1Seconds, finalSeconds };
  };
  const p = parts(runIterationsPerSecond, finalSecondsPerRun, passSecondsPerRunEpoch);
  const f = parts(floor.training, floor.final, floor.passes);
  const trainingSeconds = p.trainingK5Seconds + p.trainingK1Seconds;
  const passesSeconds = p.passesK5Seconds + p.passesK1Seconds;
  const totalSeconds = trainingSeconds + p.finalSeconds + passesSeconds;
  const floorSeconds = f.trainingK5Seconds + f.trainingK1Seconds + f.finalSeconds + f.passesK5Seconds + f.passesK1Seconds;
  return {
    runsAtK5,
    runsAtK1,
    epochs,
    iterationsPerEpoch,
    finalRuns,
    ...p,
    trainingSeconds,
    passesSeconds,
    totalSeconds,
    hours: { training: trainingSeconds / 3600, final: p.finalSeconds / 3600, passes: passesSeconds / 3600, total: totalSeconds / 3600 },
    floorHours: floorSeconds / 3600,
  };
}

/** A pause before each timed block, so the side that ran last is idle (PyTorch's OpenMP threads spin a while). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

/** The human-readable grid report. */
export function formatGridReport(r: GridReport): string[] {
  const s = r.setting;
  const x = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}x`);
  const rate = (v: ReferenceRate | null) => (v === null ? 'n/a' : `${v.runIterationsPerSecond.toFixed(0)}`);
  const h = (seconds: number) => `${(seconds / 3600).toFixed(2)} h`;
  const lines = [
    `setting: ours as \`iwae grid\` runs it: ${s.workers} worker process(es) at once x stacks of ${s.stackSize} runs x ${s.threadsPerWorker} TensorFlow thread(s); ` +
      `${s.objective.toUpperCase()} objective, batch ${s.batch} (${s.iterationsPerEpoch} iterations/epoch); ` +
      `${s.steps} timed iterations per side and k (ours: stack iterations of every worker) in blocks of ${s.blockSteps}, medians`,
    r.reference.status === 'missing'
      ? `references: missing (${r.reference.reason}); ours only`
      : `references: PyTorch ${r.reference.torch}, one process with ${r.reference.threads} thread(s), one run after another (study-style and lean, same loss)`,
  ];
  for (const g of [r.k5, r.k1]) {
    const p = g.passes;
    lines.push(
      `k=${g.k} training: ours ${g.ours.runIterationsPerSecond.toFixed(0)} run-iterations/s (whole machine; per worker ${g.ours.msPerRunIterationPerWorker.map((v) => v.toFixed(2)).join(', ')} ms/run-iteration), ` +
        `study-style ${rate(g.studyReference)} (ours/study-style ${x(g.ratio)}), lean ${rate(g.leanReference)} (ours/lean ${x(g.leanRatio)}); ` +
        `machine time ${g.machineMsPerRunIteration.toFixed(3)} ms/run-iteration, floor ${g.floorMsPerRunIteration.toFixed(3)} ms (${g.mflopPerIteration.toFixed(0)} MFLOP): ${x(g.overFloor)} the floor`,
      `k=${g.k} per-epoch passes: ${p.machineSecondsPerRunEpoch.toFixed(3)} machine s per run-epoch (test objective ${p.objectiveMachineSecondsPerRunEpoch.toFixed(3)} s + ` +
        `activity ${p.activityMachineSecondsPerRunEpoch.toFixed(3)} s; timed on ${p.timedTestImages} of ${PAPER_GRID.testImages} test and ${p.timedTrainImages} of ${PAPER_GRID.trainImages} training images, scaled): ` +
        `${x(p.overFloor)} the floor (${p.floorSecondsPerRunEpoch.toFixed(3)} s)`,
    );
  }
  const f = r.final;
  lines.push(
    `final L_${f.k}: ${f.machineSecondsPerRun.toFixed(1)} machine s per run (timed once: every worker a stack of ${s.stackSize} on ${f.timedImages} test image(s), extrapolated to ${PAPER_GRID.finalTestImages}); ` +
      `floor ${f.floorSecondsPerRun.toFixed(1)} s (${f.tflopPerRun.toFixed(1)} TFLOP at ${r.matmulGflops.toFixed(0)} GFLOP/s): ${x(f.overFloor)} the floor`,
  );
  const p = r.projection;
  lines.push(
    `projected paper grid with ablations (${p.runsAtK5} runs at k=5, ${p.runsAtK1} at k=1 incl. 20 sampled-KL VAE costed as k=1; ${p.epochs} epochs x ${p.iterationsPerEpoch} iterations; ` +
      `${p.finalRuns} final L_${f.k}; ${p.finalRuns} x ${p.epochs} per-epoch passes): ${p.hours.total.toFixed(2)} h = ` +
      `training ${h(p.trainingSeconds)} (k=5 ${h(p.trainingK5Seconds)}, k=1 ${h(p.trainingK1Seconds)}) + final ${h(p.finalSeconds)} + passes ${h(p.passesSeconds)} ` +
      `(k=5 ${h(p.passesK5Seconds)}, k=1 ${h(p.passesK1Seconds)}); at the matmul floor: ${p.floorHours.toFixed(2)} h`,
  );
  return lines;
}
