import * as tf from '@tensorflow/tfjs-node';
import { appendFileSync, renameSync, rmSync } from 'node:fs';
import { computationShape, type RunConfig } from '../config/run-config';
import { batchCount, binarizedRows, DeviceSplit, type BinarizationSource } from '../data/device-split';
import { takeFirst, type MnistData, type MnistSplit } from '../data/mnist';
import { PIXELS } from '../data/shape';
import { removeStaleTempFiles, writeFileAtomic } from '../io/atomic-file';
import { fileWriteError, makeDirectory } from '../io/fs-errors';
import { parameterLayout, type Architecture } from '../model/architecture';
import { stackedLossAndGradient, type FastValues } from '../model/fast-gradient';
import { dataMeanOutputBias, initialParameters } from '../model/init';
import { disposeModel, modelFromParameters } from '../model/model';
import { batchMajorNoise, lossAndGradient } from '../model/reference-gradient';
import { packStack, runParameters, stackLayout, type StackLayout } from '../model/stack';
import { counterStream, type CounterStream } from '../random/counter-stream';
import { createStream, permutation } from '../random/streams';
import { StackedAdam, type AdamState } from './adam';
import { CheckpointError, writeCheckpoint, type Checkpoint } from './checkpoint';
import { activityPass, BatchMeans, objectivePass, stackNoise, type PassRun } from './evaluate';
import { measureGradientSnr, snrBatch, snrBinarization, type GradientSnr } from './gradient-snr';
import type { EpochMetrics, FailureTerm, RunFailure, RunResult } from './metrics';
import { artifactDirs, isImageEpoch, openEpochSummaryWriter, writeEpochImages, type EpochSummaryWriter } from './run-artifacts';
import { differenceExceptEpochs, metricsText, readFailure, readRunCheckpoint, readRunConfig, runFiles, RunDirError, writeFailure } from './run-dir';
import { learningRateAt } from './schedule';

export type { EpochMetrics, RunFailure, RunResult } from './metrics';

/**
 * Training, for a stack of runs at once: R runs with the same computation shape (everything but seed
 * and init equal) train as one model (lib/model/stack.ts), each with its own streams, files and
 * outcome. One run is a stack of one: this is the only training loop.
 *
 * Per run, as a run trained alone: config.json, checkpoint.bin replaced atomically after every epoch,
 * one metrics.jsonl line per epoch, TensorBoard events, images/, failure.json on a NaN/Inf. Killed
 * anywhere and rerun, each run resumes from its checkpoint and gives exactly the numbers of an
 * uninterrupted run: a step's draws are a function of (seed, stream, step), the shuffle of epoch e is
 * drawn from its own stream, and every kernel computes each run's slice as if it were alone.
 */

/** A run of a stack: its config and the directory it trains into. */
export interface StackRun {
  config: RunConfig;
  runDir: string;
}

export interface StackHooks {
  /** After a run's epoch is written (checkpoint, metrics line): `run` indexes the stack's runs. */
  onEpoch?(run: number, metrics: EpochMetrics): void;
  /** After each optimizer step: run-steps done (a stack step counts once per run in it) out of `total`. */
  onStep?(done: number, total: number): void;
  /**
   * After a run's failure.json is written (NaN/Inf): it has left the stack for good, the others go on.
   * Also, before training starts, for each run whose failure an earlier attempt recorded.
   */
  onFailure?(run: number, failure: RunFailure): void;
}

export interface TrainOptions {
  /**
   * A checkpoint that is damaged, of another run or of an older version: by default a CheckpointError
   * (nothing is changed); with this, the bad file is kept as checkpoint.bin.bad and the run trains again
   * from scratch. Never resumed.
   */
  restartBadCheckpoint?: boolean;
}

/** Images per batch of the activity pass (encoder only; part of the counters, so fixed). */
export const ACTIVITY_BATCH = 500;
/** Return to the event loop at least this often during an epoch, so signal handlers (Ctrl-C) run promptly. */
const YIELD_MS = 100;


/** A run of a stack that could not be opened (a bad checkpoint, a foreign directory): the others go on. */
export interface RunError {
  config: RunConfig;
  status: 'error';
  error: Error;
}

/** A run's state between epochs, in JS (the stack is rebuilt from these each epoch). */
interface Member {
  index: number;
  config: RunConfig;
  runDir: string;
  epoch: number;
  metrics: EpochMetrics[];
  parameters: Float32Array;
  adam: AdamState;
  summaries: EpochSummaryWriter | null;
  /** Its one binarization of the training and test images ('fixed' protocol only), made once. */
  fixedBits?: { train: tf.Tensor2D; test: tf.Tensor2D };
  result: RunResult | RunError | null;
}

/**
 * Trains every run of `runs` to its last epoch (or its failure) and returns each run's result, in
 * order. Runs that resume from different epochs train in groups until they meet.
 */
export async function trainStack(runs: readonly StackRun[], data: MnistData, hooks: StackHooks = {}, options: TrainOptions = {}): Promise<Array<RunResult | RunError>> {
  if (runs.length === 0) return [];
  const shape = computationShape(runs[0].config);
  for (const run of runs) {
    if (computationShape(run.config) !== shape) throw new RunDirError(`${run.runDir}: runs of one stack must differ only in seed and init`);
  }
  const dirs = new Set(runs.map((r) => r.runDir));
  if (dirs.size !== runs.length) throw new RunDirError('a stack holds the same run directory twice');
  const config0 = runs[0].config;
  const train = takeFirst(data.train, config0.trainSize);
  const test = takeFirst(data.test, config0.testSize);
  const outputBias = config0.outputBiasInit === 'data-mean' ? dataMeanOutputBias(train.images, train.count, PIXELS) : undefined;
  const perEpoch = batchCount(train.count, config0.batchSize);
  const members = runs.map((run, index) => {
    try {
      return openMember(run, index, outputBias, perEpoch, options.restartBadCheckpoint ?? false);
    } catch (err) {
      return { ...closedMember(run, index), result: { config: run.config, status: 'error', error: err as Error } } satisfies Member;
    }
  });
  // Progress counts every run-step of the runs still training, those done before a resume included.
  const active0 = members.filter((m) => !m.result);
  const progress = {
    done: active0.reduce((sum, m) => sum + m.epoch * perEpoch, 0),
    total: active0.reduce((sum, m) => sum + m.config.epochs * perEpoch, 0),
    lastYield: performance.now(),
  };
  const devices = { train: new DeviceSplit(train), test: new DeviceSplit(test) };
  try {
    // A failure recorded by an earlier attempt is reported at once too, as if it had just happened.
    for (const m of members) if (m.result?.status === 'failed' && m.result.failure) hooks.onFailure?.(m.index, m.result.failure);
    for (;;) {
      const active = members.filter((m) => !m.result);
      if (active.length === 0) break;
      const from = Math.min(...active.map((m) => m.epoch));
      await trainEpoch(active.filter((m) => m.epoch === from), from + 1, devices, test, hooks, progress);
    }
    return members.map((m) => m.result!);
  } finally {
    for (const m of members) {
      m.summaries?.close();
      for (const t of Object.values(m.fixedBits ?? {})) t.dispose();
    }
    devices.train.dispose();
    devices.test.dispose();
  }
}

/** One run of a stack, as `trainStack` does it (`iwae train`, a notebook's short run). */
export async function trainRun(
  config: RunConfig,
  data: MnistData,
  runDir: string,
  hooks: { onEpoch?(metrics: EpochMetrics): void; onStep?(step: number, total: number): void } = {},
  options: TrainOptions = {},
): Promise<RunResult> {
  const [result] = await trainStack([{ config, runDir }], data, { onEpoch: (_, m) => hooks.onEpoch?.(m), onStep: hooks.onStep }, options);
  if (result.status === 'error') throw result.error;
  return result;
}

function closedMember(run: StackRun, index: number): Member {
  return { index, config: run.config, runDir: run.runDir, epoch: 0, metrics: [], parameters: new Float32Array(0), adam: { m: new Float32Array(0), v: new Float32Array(0), step: 0 }, summaries: null, result: null };
}

/** Reads (or starts) a run's directory: its checkpoint's state, or a fresh init; a recorded outcome ends it. */
function openMember(run: StackRun, index: number, outputBias: Float32Array | undefined, perEpoch: number, restart: boolean): Member {
  const { config, runDir } = run;
  const files = runFiles(runDir);
  // A file-system error (read-only, full, a file in the way) propagates as itself: one line at the CLI.
  makeDirectory(runDir);
  removeStaleTempFiles(runDir);
  const existing = readRunConfig(runDir);
  if (existing) {
    const field = differenceExceptEpochs(existing, config);
    if (field) throw new RunDirError(`${runDir} holds a different run (config field '${field}' differs)`);
  }
  const checkpoint = openCheckpoint(runDir, config, restart);
  if (checkpoint && checkpoint.adam.step !== checkpoint.epoch * perEpoch) {
    throw new CheckpointError(files.checkpoint, `Adam is at step ${checkpoint.adam.step}, not at the ${checkpoint.epoch * perEpoch} steps of its ${checkpoint.epoch} epochs`);
  }
  writeFileAtomic(files.config, `${JSON.stringify(config, null, 2)}\n`);
  const failure = readFailure(runDir, config);
  const metrics: EpochMetrics[] = checkpoint ? checkpoint.metrics.slice(0, checkpoint.epoch) : [];
  if (checkpoint) {
    // The checkpoint is the truth: metrics.jsonl may miss the line of an epoch whose append was cut short.
    writeFileAtomic(files.metrics, metricsText(metrics));
  } else if (!failure) {
    // Starting from scratch: what an attempt whose checkpoint is gone left (metrics, events, images) would double epochs.
    writeFileAtomic(files.metrics, '');
    for (const dir of Object.values(artifactDirs(runDir))) rmSync(dir, { recursive: true, force: true });
  }
  // (A failure without a checkpoint, diverged in its first epoch: its files stay as they were recorded.)
  const member: Member = { ...closedMember(run, index), epoch: checkpoint?.epoch ?? 0, metrics };
  if (failure) member.result = { config, epochs: metrics, status: 'failed', failure };
  else if (checkpoint && checkpoint.epoch === config.epochs) member.result = { config, epochs: metrics, status: 'completed' };
  if (member.result) return member;
  const architecture: Architecture = { input: PIXELS, ...config.architecture };
  const layout = parameterLayout(architecture);
  if (checkpoint) {
    member.parameters = checkpoint.parameters;
    member.adam = checkpoint.adam;
  } else {
    member.parameters = initialParameters(layout, config.init, createStream(config.seed, 'init'), { outputBias });
    member.adam = { m: new Float32Array(layout.size), v: new Float32Array(layout.size), step: 0 };
  }
  member.summaries = openEpochSummaryWriter(runDir);
  return member;
}

/** The streams a run's epoch draws from: counter-based, so they need no state. */
export interface MemberDraws {
  binarization: BinarizationSource;
  noise: CounterStream;
  test: PassRun;
  activity: BinarizationSource;
  /** The gradient-SNR measurement's fixed batch (lib/training/gradient-snr.ts). */
  snr: BinarizationSource;
  order: Int32Array;
}

function memberDraws(m: Member, epoch: number, devices: { train: DeviceSplit; test: DeviceSplit }): MemberDraws {
  const { seed } = m.config;
  const order = Int32Array.from(permutation(devices.train.count, createStream(seed, 'data-order', epoch)));
  const noise = counterStream(seed, 'noise');
  if (m.config.binarization === 'dynamic') {
    return {
      binarization: { kind: 'dynamic', stream: counterStream(seed, 'binarization') },
      noise,
      test: { binarization: { kind: 'dynamic', stream: counterStream(seed, 'test-binarization') }, noise: counterStream(seed, 'test-noise') },
      activity: { kind: 'dynamic', stream: counterStream(seed, 'activity-binarization') },
      snr: snrBinarization(seed),
      order,
    };
  }
  // Fixed: one sample per image, the same on every (re)start; the activity pass reads the training bits.
  m.fixedBits ??= { train: devices.train.fixedBits(counterStream(seed, 'binarization')), test: devices.test.fixedBits(counterStream(seed, 'test-binarization')) };
  const { train, test } = m.fixedBits;
  return {
    binarization: { kind: 'fixed', bits: train },
    noise,
    test: { binarization: { kind: 'fixed', bits: test }, noise: counterStream(seed, 'test-noise') },
    activity: { kind: 'fixed', bits: train },
    snr: snrBinarization(seed, train),
    order,
  };
}

/** The live stack of one epoch: its parameters and optimizer, rebuilt when a run leaves it. */
export interface LiveStack {
  layout: StackLayout;
  optimizer: StackedAdam;
}

/** A live stack of runs, from each run's parameters and Adam state (all at one step). */
export function buildStack(members: ReadonlyArray<Pick<Member, 'config' | 'parameters' | 'adam'>>): LiveStack {
  const architecture: Architecture = { input: PIXELS, ...members[0].config.architecture };
  const layout = stackLayout(architecture, members.length);
  const steps = new Set(members.map((m) => m.adam.step));
  if (steps.size !== 1) throw new RunDirError(`runs of one stack epoch are at different Adam steps (${[...steps].join(', ')})`);
  const { beta1, beta2, epsilon } = members[0].config.optimizer;
  const adam = {
    m: packStack(layout, members.map((m) => m.adam.m)),
    v: packStack(layout, members.map((m) => m.adam.v)),
    step: members[0].adam.step,
  };
  const parameters = packStack(layout, members.map((m) => m.parameters));
  return { layout, optimizer: new StackedAdam(layout, { beta1, beta2, epsilon }, { parameters, adam }) };
}

/** Copies every run's parameters and Adam state out of the stack, into its member. */
function readStack(stack: LiveStack, members: readonly Member[]): void {
  const { parameters, adam } = stack.optimizer.state();
  members.forEach((m, r) => {
    m.parameters = runParameters(stack.layout, parameters, r);
    m.adam = { m: runParameters(stack.layout, adam.m, r), v: runParameters(stack.layout, adam.v, r), step: adam.step };
  });
}

export function disposeStack(stack: LiveStack): void {
  stack.optimizer.dispose();
}

async function trainEpoch(
  group: Member[],
  epoch: number,
  devices: { train: DeviceSplit; test: DeviceSplit },
  testSplit: MnistSplit,
  hooks: StackHooks,
  progress: { done: number; total: number; lastYield: number },
): Promise<void> {
  const config = group[0].config;
  const { batchSize, k } = config;
  const latent = config.architecture.latent;
  const trainCount = devices.train.count;
  const perEpoch = batchCount(trainCount, batchSize);
  const learningRate = learningRateAt(epoch, config.optimizer.learningRate, config.optimizer.schedule);
  const started = performance.now();
  let members = group;
  let draws = members.map((m) => memberDraws(m, epoch, devices));
  let means = members.map(() => ({ loss: new BatchMeans(), reconstruction: new BatchMeans(), kl: new BatchMeans() }));
  let stack: LiveStack | null = buildStack(members);
  try {
    for (let j = 0; j < perEpoch; j++) {
      const size = Math.min(batchSize, trainCount - j * batchSize);
      const step = (epoch - 1) * perEpoch + j; // the counter of this step's draws
      const { values, failed } = stackStep(stack!, config, devices.train, draws, j, step, learningRate);
      values.forEach((v, r) => {
        if (!v.finite) return;
        means[r].loss.add(v.loss, size);
        means[r].reconstruction.add(v.reconstruction, size);
        means[r].kl.add(v.kl, size);
      });
      for (const r of failed) {
        const m = members[r];
        const failure = describeFailure(epoch, j + 1, values[r]);
        writeFailure(m.runDir, m.config, failure);
        m.result = { config: m.config, epochs: m.metrics, status: 'failed', failure };
        hooks.onFailure?.(m.index, failure);
        progress.total -= (m.config.epochs - epoch + 1) * perEpoch - (j + 1);
      }
      progress.done += members.length;
      if (failed.length > 0) {
        // The failed runs leave the stack; the others' slices are computed as before (bit for bit).
        readStack(stack, members);
        disposeStack(stack);
        stack = null;
        const keep = members.flatMap((_, r) => (failed.includes(r) ? [] : [r]));
        members = keep.map((r) => members[r]);
        draws = keep.map((r) => draws[r]);
        means = keep.map((r) => means[r]);
        if (members.length === 0) return;
        stack = buildStack(members);
      }
      hooks.onStep?.(progress.done, progress.total);
      if (performance.now() - progress.lastYield >= YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        progress.lastYield = performance.now();
      }
    }
    const threshold = config.evaluation.activeUnitThreshold;
    const weights = { layout: stack.layout, params: stack.optimizer.parameters() };
    let testPasses, trainActivity;
    try {
      testPasses = objectivePass(weights, config.model, k, devices.test, draws.map((d) => d.test), {
        batchSize: config.evaluation.testBatchSize,
        epoch,
        activeUnitThreshold: threshold,
      });
      trainActivity = activityPass(weights, devices.train, draws.map((d) => d.activity), { batchSize: ACTIVITY_BATCH, epoch, activeUnitThreshold: threshold });
    } finally {
      for (const p of weights.params) p.dispose();
    }
    readStack(stack, members);
    const snr = await epochGradientSnr(members, epoch, devices.train, draws);
    const seconds = (performance.now() - started) / 1000;
    const finished: Array<[Member, EpochMetrics]> = [];
    for (const [r, m] of members.entries()) {
      const testPass = testPasses[r];
      const { loss, reconstruction, kl } = means[r];
      const epochMetrics: EpochMetrics = {
        epoch,
        learningRate,
        steps: m.adam.step,
        trainLoss: loss.mean,
        trainLossSE: loss.standardError,
        trainRecon: reconstruction.mean,
        trainKL: kl.mean,
        trainStudyLoss: reconstruction.mean + kl.mean,
        testLoss: testPass.loss,
        testLossSE: testPass.lossSE,
        testRecon: testPass.reconstruction,
        testKL: testPass.kl,
        testStudyLoss: testPass.reconstruction + testPass.kl,
        activeUnitsTrain: trainActivity[r].count,
        activeUnitsTest: testPass.activeUnits.count,
        activityTrain: trainActivity[r].activity,
        activityTest: testPass.activeUnits.activity,
        // The stack's wall time for this epoch, shared by its runs.
        seconds,
        ...(snr ? { gradientSnr: snr[r] } : {}),
      };
      finished.push([m, epochMetrics]);
    }
    // Every run's checkpoint and metrics line first, then what is looked at: a kill among the images
    // then leaves no run an epoch behind the others.
    for (const [m, epochMetrics] of finished) writeEpoch(m, epochMetrics);
    for (const [m, epochMetrics] of finished) await afterEpoch(m, epochMetrics, testSplit, hooks);
  } finally {
    if (stack) disposeStack(stack);
  }
}

/**
 * One training step of a stack: batch `j` of the epoch's shuffles (`draws[r].order`), binarized and with
 * noise at counter `step` of each run's streams, the fast gradient, the exact reference for any run whose
 * fast values are not finite, and one Adam update. Returns each run's values; `failed` lists the runs
 * not finite even by the reference (their slices were not moved by a gradient: they must leave the stack).
 */
export function stackStep(
  stack: LiveStack,
  config: RunConfig,
  train: DeviceSplit,
  draws: readonly Pick<MemberDraws, 'binarization' | 'noise' | 'order'>[],
  j: number,
  step: number,
  learningRate: number,
): { values: FastValues[]; failed: number[] } {
  const { batchSize, k } = config;
  const size = Math.min(batchSize, train.count - j * batchSize);
  const x = binarizedRows(train, draws.map((d) => d.binarization), draws.map((d) => d.order.subarray(j * batchSize, j * batchSize + size)), step);
  const noise = stackNoise(draws.map((d) => d.noise), [k * size, config.architecture.latent], step);
  try {
    // The parameter reads go before the update (a block still read would be copied, not updated in place).
    const params = stack.optimizer.parameters();
    let out;
    try {
      out = stackedLossAndGradient(stack.layout, params, config.model, x, noise, k);
    } finally {
      for (const p of params) p.dispose();
    }
    let gradient = out.gradient;
    const values: FastValues[] = out.runs.map((r) => r.values);
    let failed: number[] = [];
    try {
      const unsure = values.flatMap((v, r) => (v.finite ? [] : [r]));
      if (unsure.length > 0) {
        const decided = decideWithReference(stack, gradient, unsure, config, x, noise);
        for (const g of gradient) g.dispose();
        gradient = decided.gradient;
        for (const [r, v] of decided.values) values[r] = v;
        failed = unsure.filter((r) => !values[r].finite);
      }
      stack.optimizer.apply(gradient, learningRate);
    } finally {
      for (const g of gradient) g.dispose();
    }
    return { values, failed };
  } finally {
    x.dispose();
    noise.dispose();
  }
}

/**
 * The gradient SNR of every run of the group after `epoch`, when its config measures at this epoch
 * (null otherwise): from the parameters just read out of the stack, which are what the checkpoint holds.
 */
async function epochGradientSnr(members: readonly Member[], epoch: number, train: DeviceSplit, draws: readonly MemberDraws[]): Promise<GradientSnr[] | null> {
  const config = members[0].config;
  const settings = config.evaluation.gradientSnr;
  if (!settings?.epochs.includes(epoch)) return null;
  const x = snrBatch(train, draws.map((d) => d.snr), settings.images);
  try {
    return await measureGradientSnr(
      members.map((m) => ({ parameters: m.parameters, seed: m.config.seed })),
      x,
      { architecture: { input: PIXELS, ...config.architecture }, model: config.model, k: config.k, draws: settings.draws, epoch },
    );
  } finally {
    x.dispose();
  }
}

/** A run's epoch on disk: its checkpoint first (the truth), then its metrics line. */
function writeEpoch(m: Member, epochMetrics: EpochMetrics): void {
  const files = runFiles(m.runDir);
  m.metrics.push(epochMetrics);
  m.epoch = epochMetrics.epoch;
  const architecture = { input: PIXELS, ...m.config.architecture };
  writeCheckpoint(files.checkpoint, { config: m.config, epoch: m.epoch, architecture, parameters: m.parameters, adam: m.adam, metrics: m.metrics });
  try {
    appendFileSync(files.metrics, `${JSON.stringify(epochMetrics)}\n`);
  } catch (err) {
    throw fileWriteError(err, files.metrics); // write(2) errors (a full disk) name no file
  }
  if (m.epoch === m.config.epochs) m.result = { config: m.config, epochs: m.metrics, status: 'completed' };
}

/** After a run's epoch is written: TensorBoard events and images (never fed back into training), the hook. */
async function afterEpoch(m: Member, epochMetrics: EpochMetrics, test: MnistSplit, hooks: StackHooks): Promise<void> {
  m.summaries?.write(epochMetrics);
  if (isImageEpoch(m.epoch, m.config.evaluation.imagesEvery, m.config.epochs)) {
    const model = modelFromParameters(parameterLayout({ input: PIXELS, ...m.config.architecture }), m.parameters);
    try {
      await writeEpochImages(model, test, m.config.seed, m.epoch, m.runDir);
    } finally {
      disposeModel(model);
    }
  }
  hooks.onEpoch?.(m.index, epochMetrics);
  // Let other work (signals, progress output) run between runs' files.
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs whose fast-path values are not finite, decided by the exact reference path (the fast path's
 * log-sigmoid underflows where |logit| > 87): finite there, its gradient replaces the run's slice;
 * not finite, the run's slice is zero (it leaves the stack after this step).
 */
function decideWithReference(
  stack: LiveStack,
  gradient: readonly tf.Tensor1D[],
  runs: readonly number[],
  config: RunConfig,
  x: tf.Tensor3D,
  noise: tf.Tensor3D,
): { gradient: tf.Tensor1D[]; values: Map<number, FastValues> } {
  const { layout } = stack;
  const [, batch, pixels] = x.shape;
  const [, rows, latent] = noise.shape;
  const k = rows / batch;
  const flat = stack.optimizer.parameterVector();
  const grad = new Float32Array(layout.size);
  layout.blocks.forEach((b, i) => grad.set(gradient[i].dataSync() as Float32Array, b.offset));
  const xs = x.dataSync() as Float32Array;
  const eps = noise.dataSync() as Float32Array;
  const values = new Map<number, FastValues>();
  for (const r of runs) {
    const model = modelFromParameters(layout.run, runParameters(layout, flat, r));
    const xr = tf.tensor2d(xs.subarray(r * batch * pixels, (r + 1) * batch * pixels), [batch, pixels], 'float32');
    const nr = tf.tensor3d(batchMajorNoise(eps.subarray(r * rows * latent, (r + 1) * rows * latent), batch, k, latent), [batch, k, latent], 'float32');
    try {
      const ref = lossAndGradient(model, config.model, xr, nr);
      const [loss, reconstruction, kl] = ref.values.dataSync();
      const refGradient = ref.gradient.dataSync() as Float32Array;
      ref.values.dispose();
      ref.gradient.dispose();
      const finite = Number.isFinite(loss) && Number.isFinite(reconstruction) && Number.isFinite(kl);
      values.set(r, { loss, reconstruction, kl, finite });
      for (const { spec, offset } of layout.blocks) {
        const at = offset + r * spec.size;
        if (finite) grad.set(refGradient.subarray(spec.offset, spec.offset + spec.size), at);
        else grad.fill(0, at, at + spec.size);
      }
    } finally {
      xr.dispose();
      nr.dispose();
      disposeModel(model);
    }
  }
  const blocks = layout.blocks.map((b) => tf.tensor1d(grad.subarray(b.offset, b.offset + layout.runs * b.spec.size), 'float32'));
  return { gradient: blocks, values };
}

/**
 * The run's checkpoint, or null to start from scratch. A bad one (damaged, foreign, older version) is an
 * error unless `restart`: then its failure record is removed and it is moved aside; openMember, starting
 * from scratch, clears the rest made from it (metrics, TensorBoard events, images), so the fresh run
 * leaves the files an uninterrupted one would.
 */
function openCheckpoint(runDir: string, config: RunConfig, restart: boolean): Checkpoint | null {
  try {
    return readRunCheckpoint(runDir, config);
  } catch (err) {
    if (!(err instanceof CheckpointError) || !restart) throw err;
    const files = runFiles(runDir);
    // The checkpoint goes last: killed before that, the next start finds it bad again and redoes this.
    rmSync(files.failure, { force: true });
    renameSync(files.checkpoint, `${files.checkpoint}.bad`);
    return null;
  }
}

function describeFailure(epoch: number, step: number, values: { loss: number; reconstruction: number; kl: number }): RunFailure {
  const term: FailureTerm = !Number.isFinite(values.reconstruction) ? 'reconstruction' : !Number.isFinite(values.kl) ? 'kl' : 'bound';
  const value = term === 'reconstruction' ? values.reconstruction : term === 'kl' ? values.kl : values.loss;
  return { epoch, step, term, message: `non-finite ${term} term (${value}) at epoch ${epoch}, step ${step}` };
}
