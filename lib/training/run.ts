import { appendFileSync, renameSync, rmSync } from 'node:fs';
import type { RunConfig } from '../config/run-config';
import { batchCount } from '../data/batch-arrays';
import { makeBinarizer, type Binarizer } from '../data/binarize';
import { takeFirst, type MnistData, type MnistSplit } from '../data/mnist';
import { PIXELS } from '../data/shape';
import { parameterLayout, type Architecture } from '../model/architecture';
import { dataMeanOutputBias } from '../model/init';
import { disposeModel, initModel, modelFromParameters, readParameters, type Model } from '../model/model';
import { createStream, restoreStream, type RandomStream } from '../random/streams';
import { FlatAdam } from './adam';
import { openTrainingFeed, type FeedKind, type TrainingFeed } from './feed';
import { removeStaleTempFiles, writeFileAtomic } from '../io/atomic-file';
import { fileWriteError, makeDirectory } from '../io/fs-errors';
import { CheckpointError, writeCheckpoint, type Checkpoint } from './checkpoint';
import { artifactDirs, isImageEpoch, openEpochSummaryWriter, writeEpochImages, type EpochSummaryWriter } from './run-artifacts';
import { datasetActiveUnits, objectivePass, BatchMeans } from './evaluate';
import type { EpochMetrics, FailureTerm, RunFailure, RunResult } from './metrics';
import { differenceExceptEpochs, metricsText, readFailure, readRunCheckpoint, readRunConfig, runFiles, RunDirError, writeFailure } from './run-dir';
import { learningRateAt } from './schedule';
import { trainStep } from './step';

export type { EpochMetrics, RunFailure, RunResult } from './metrics';

/**
 * The named streams of a run, all derived from config.seed. Besides the four of the training loop
 * ('init', 'noise', 'data-order', 'binarization') the test pass has its own order, binarization and
 * noise, and the training-set activity pass its own binarization, so evaluating never shifts the
 * training numbers (and a run's training is the same whatever its test size).
 */
export const RUN_STREAMS = [
  'init',
  'noise',
  'data-order',
  'binarization',
  'test-order',
  'test-binarization',
  'test-noise',
  'activity-binarization',
] as const;
type RunStreamName = (typeof RUN_STREAMS)[number];
type RunStreams = Record<RunStreamName, RandomStream>;

/** Images per batch of the activity pass (encoder only; does not change the result). */
const ACTIVITY_BATCH = 500;
/** Return to the event loop at least this often during an epoch, so signal handlers (Ctrl-C) run promptly. */
const YIELD_MS = 100;

export interface TrainHooks {
  /** After each epoch's checkpoint and metrics line are written. */
  onEpoch?(metrics: EpochMetrics): void;
  /** After each optimizer step: `step` counts from the start of the run (1-based) up to `total`. */
  onStep?(step: number, total: number): void;
}

export interface TrainOptions {
  /** Where the training loop's batches and noise are made (default 'thread'; same numbers either way). */
  feed?: FeedKind;
  /**
   * A checkpoint that is damaged, of another run or of an older version: by default a CheckpointError
   * (the run stops, nothing is changed); with this, the bad file is kept as checkpoint.bin.bad and the
   * run trains again from scratch. Never resumed.
   */
  restartBadCheckpoint?: boolean;
}

/**
 * Trains one run into `runDir` (created if needed). If `runDir` holds a checkpoint of the same run (any
 * field but `epochs` differing is an error), training resumes from it and produces exactly the numbers
 * of an uninterrupted run; a finished run returns at once. After every epoch, checkpoint.bin is
 * replaced atomically and one line is appended to metrics.jsonl; TensorBoard events go to tensorboard/
 * and, every `evaluation.imagesEvery` epochs and at the end, reconstruction and prior-sample PNGs to images/. A NaN/Inf loss stops the run with
 * status 'failed' and a diagnostic (also written to failure.json), keeping the last good checkpoint.
 */
export async function trainRun(config: RunConfig, data: MnistData, runDir: string, hooks: TrainHooks = {}, options: TrainOptions = {}): Promise<RunResult> {
  const files = runFiles(runDir);
  // A file-system error (read-only, full, a file in the way) propagates as itself: one line at the CLI.
  makeDirectory(runDir);
  removeStaleTempFiles(runDir);
  const existing = readRunConfig(runDir);
  if (existing) {
    const field = differenceExceptEpochs(existing, config);
    if (field) throw new RunDirError(`${runDir} holds a different run (config field '${field}' differs)`);
  }
  const checkpoint = openCheckpoint(runDir, config, options.restartBadCheckpoint ?? false);
  writeFileAtomic(files.config, `${JSON.stringify(config, null, 2)}\n`);

  const metrics: EpochMetrics[] = checkpoint ? checkpoint.metrics.slice(0, checkpoint.epoch) : [];
  // The checkpoint is the truth: metrics.jsonl may miss the line of an epoch whose append was cut short.
  writeFileAtomic(files.metrics, metricsText(metrics));
  const failure = readFailure(runDir, config);
  if (failure) return { config, epochs: metrics, status: 'failed', failure };
  if (checkpoint && checkpoint.epoch === config.epochs) return { config, epochs: metrics, status: 'completed' };

  const train = takeFirst(data.train, config.trainSize);
  const test = takeFirst(data.test, config.testSize);
  const architecture: Architecture = { input: PIXELS, ...config.architecture };
  const streams = checkpoint ? restoreStreams(checkpoint.streams) : createStreams(config.seed);
  const model: Model = checkpoint
    ? modelFromParameters(parameterLayout(checkpoint.architecture), checkpoint.parameters)
    : initModel(architecture, config.init, streams.init, {
        outputBias: config.outputBiasInit === 'data-mean' ? dataMeanOutputBias(train.images, train.count, PIXELS) : undefined,
      });
  const { beta1, beta2, epsilon } = config.optimizer;
  const optimizer = new FlatAdam(model.layout.size, { beta1, beta2, epsilon }, checkpoint?.adam);
  let feed: TrainingFeed | null = null;
  let summaries: EpochSummaryWriter | null = null;
  try {
    const binarizers = makeBinarizers(config, train, test, streams);
    // The feed owns the loop's streams ('data-order', 'noise', and 'binarization' when dynamic).
    const trainFeed = openTrainingFeed(options.feed ?? 'thread', train, { batchSize: config.batchSize, k: config.k, latent: architecture.latent }, {
      order: streams['data-order'],
      binarizer: binarizers.train,
      noise: streams.noise,
    });
    feed = trainFeed;
    const summaryWriter = openEpochSummaryWriter(runDir);
    summaries = summaryWriter;
    const perEpoch = batchCount(train.count, config.batchSize);
    const totalSteps = perEpoch * config.epochs;
    let lastYield = performance.now();
    for (let epoch = (checkpoint?.epoch ?? 0) + 1; epoch <= config.epochs; epoch++) {
      const started = performance.now();
      const learningRate = learningRateAt(epoch, config.optimizer.learningRate, config.optimizer.schedule);
      const loss = new BatchMeans();
      const reconstruction = new BatchMeans();
      const kl = new BatchMeans();
      let step = 0;
      for (const { size, x, noise } of trainFeed.epoch()) {
        step += 1;
        const values = trainStep(model, optimizer, config.model, x, noise, learningRate);
        x.dispose();
        noise.dispose();
        if (!values.finite) {
          const failure = describeFailure(epoch, step, values);
          writeFailure(runDir, config, failure);
          return { config, epochs: metrics, status: 'failed', failure };
        }
        loss.add(values.loss, size);
        reconstruction.add(values.reconstruction, size);
        kl.add(values.kl, size);
        hooks.onStep?.((epoch - 1) * perEpoch + step, totalSteps);
        if (performance.now() - lastYield >= YIELD_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
      const threshold = config.evaluation.activeUnitThreshold;
      const testPass = objectivePass(model, config.model, config.k, test, streams['test-noise'], {
        batchSize: config.evaluation.testBatchSize,
        binarizer: binarizers.test,
        order: streams['test-order'],
        activeUnitThreshold: threshold,
      });
      const trainActivity = datasetActiveUnits(model, train, {
        batchSize: ACTIVITY_BATCH,
        binarizer: binarizers.activity,
        activeUnitThreshold: threshold,
      });
      const epochMetrics: EpochMetrics = {
        epoch,
        learningRate,
        steps: optimizer.step,
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
        activeUnitsTrain: trainActivity.count,
        activeUnitsTest: testPass.activeUnits.count,
        activityTrain: trainActivity.activity,
        activityTest: testPass.activeUnits.activity,
        seconds: (performance.now() - started) / 1000,
      };
      metrics.push(epochMetrics);
      writeCheckpoint(files.checkpoint, {
        config,
        epoch,
        architecture: model.layout.architecture,
        parameters: readParameters(model),
        adam: optimizer.state(),
        streams: { ...Object.fromEntries(RUN_STREAMS.map((name) => [name, streams[name].state()])), ...trainFeed.states() },
        metrics,
      });
      try {
        appendFileSync(files.metrics, `${JSON.stringify(epochMetrics)}\n`);
      } catch (err) {
        throw fileWriteError(err, files.metrics); // write(2) errors (a full disk) name no file
      }
      // Looked-at outputs after the checkpoint: they never feed back into training.
      summaryWriter.write(epochMetrics);
      if (isImageEpoch(epoch, config.evaluation.imagesEvery, config.epochs)) {
        await writeEpochImages(model, test, config.seed, epoch, runDir);
      }
      hooks.onEpoch?.(epochMetrics);
      // Let other work (signals, progress output) run between epochs.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { config, epochs: metrics, status: 'completed' };
  } finally {
    summaries?.close();
    feed?.close();
    optimizer.dispose();
    disposeModel(model);
  }
}

/**
 * The run's checkpoint, or null to start from scratch. A bad one (damaged, foreign, older version) is an
 * error unless `restart`: then it is moved aside and everything made from it (metrics, failure,
 * TensorBoard events, images) is removed, so the fresh run leaves the files an uninterrupted one would.
 */
function openCheckpoint(runDir: string, config: RunConfig, restart: boolean): Checkpoint | null {
  try {
    return readRunCheckpoint(runDir, config);
  } catch (err) {
    if (!(err instanceof CheckpointError) || !restart) throw err;
    const files = runFiles(runDir);
    // The checkpoint goes last: killed before that, the next start finds it bad again and redoes this.
    for (const path of [files.metrics, files.failure, ...Object.values(artifactDirs(runDir))]) rmSync(path, { recursive: true, force: true });
    renameSync(files.checkpoint, `${files.checkpoint}.bad`);
    return null;
  }
}

function createStreams(seed: number): RunStreams {
  return Object.fromEntries(RUN_STREAMS.map((name) => [name, createStream(seed, name)])) as RunStreams;
}

function restoreStreams(states: Record<string, ReturnType<RandomStream['state']>>): RunStreams {
  return Object.fromEntries(
    RUN_STREAMS.map((name) => {
      const state = states[name];
      if (!state) throw new RunDirError(`checkpoint has no state for stream '${name}'`);
      return [name, restoreStream(name, state)];
    }),
  ) as RunStreams;
}

/**
 * Dynamic: each binarizer draws from its (checkpointed) stream. Fixed: the one sample per image is made
 * from a fresh stream of the seed, so it is the same on every (re)start and needs no checkpointing.
 */
function makeBinarizers(config: RunConfig, train: MnistSplit, test: MnistSplit, streams: RunStreams) {
  if (config.binarization === 'dynamic') {
    return {
      train: { kind: 'dynamic', stream: streams.binarization } as Binarizer,
      test: { kind: 'dynamic', stream: streams['test-binarization'] } as Binarizer,
      activity: { kind: 'dynamic', stream: streams['activity-binarization'] } as Binarizer,
    };
  }
  const trainBits = makeBinarizer('fixed', train, createStream(config.seed, 'binarization'));
  return {
    train: trainBits,
    test: makeBinarizer('fixed', test, createStream(config.seed, 'test-binarization')),
    activity: trainBits,
  };
}

function describeFailure(epoch: number, step: number, values: { loss: number; reconstruction: number; kl: number }): RunFailure {
  const term: FailureTerm = !Number.isFinite(values.reconstruction) ? 'reconstruction' : !Number.isFinite(values.kl) ? 'kl' : 'bound';
  const value = term === 'reconstruction' ? values.reconstruction : term === 'kl' ? values.kl : values.loss;
  return { epoch, step, term, message: `non-finite ${term} term (${value}) at epoch ${epoch}, step ${step}` };
}
