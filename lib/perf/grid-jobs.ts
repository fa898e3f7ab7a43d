/**
 * The jobs of `iwae bench --grid`'s worker processes (grid-bench-worker.ts): each prepared (built and
 * warmed up) before the parent starts every worker's timing at once.
 */
import { DeviceSplit } from '../data/device-split';
import { parseRunConfig } from '../config/run-config';
import { STUDY_ARCHITECTURE, parameterLayout } from '../model/architecture';
import { initialParameters } from '../model/init';
import { counterStream } from '../random/counter-stream';
import { createStream } from '../random/streams';
import { activityPass, boundLadder, objectivePass, BOUND_BATCH, BOUND_SAMPLE_BLOCK, type StackWeights } from '../training/evaluate';
import { stackWeights } from '../training/load-run';
import { ACTIVITY_BATCH } from '../training/train';
import { greyImages, OurStep } from './our-step';
import type { GridJob } from './grid-bench';

/** Active-unit threshold of the passes (the run config's default; it changes no work). */
const THRESHOLD = 1e-2;

export interface Prepared {
  /** One timed execution; its seconds (the passes: objective pass, activity pass). */
  go(count: number): number[];
  dispose(): void;
}

function seconds(f: () => void): number {
  const start = performance.now();
  f();
  return (performance.now() - start) / 1000;
}

/** Random-init weights of `runs` runs (seeds seed..seed+runs-1), as a stack (the cost does not depend on training). */
function randomStack(runs: number, seed: number): StackWeights {
  const layout = parameterLayout(STUDY_ARCHITECTURE);
  const parameters = Array.from({ length: runs }, (_, r) => initialParameters(layout, 'xavier-uniform', createStream(seed + r, 'init')));
  return stackWeights(STUDY_ARCHITECTURE, parameters);
}

function disposeWeights(weights: StackWeights): void {
  for (const p of weights.params) p.dispose();
}

export function prepare(job: GridJob): Prepared {
  if (job.kind === 'train') {
    const step = new OurStep(job.setting);
    step.time(job.warmupSteps);
    return { go: (count) => [seconds(() => step.time(count))], dispose: () => step.dispose() };
  }
  const weights = randomStack(job.runs, job.seed);
  const seeds = Array.from({ length: job.runs }, (_, r) => job.seed + r);
  if (job.kind === 'final') {
    const split = new DeviceSplit(greyImages(job.images, createStream(job.seed, 'bench-data', 'final')));
    // Warm-up: one chunk of samples on the first image batch (the timed shapes), ~1/100 of the work at k = 5000.
    const warm = new DeviceSplit(greyImages(Math.min(job.images, BOUND_BATCH), createStream(job.seed, 'bench-data', 'final')));
    boundLadder(weights, warm, [Math.min(job.k, BOUND_SAMPLE_BLOCK)], seeds, { activeUnitThreshold: THRESHOLD });
    warm.dispose();
    return {
      go: () => [seconds(() => boundLadder(weights, split, [job.k], seeds, { activeUnitThreshold: THRESHOLD }))],
      dispose: () => {
        disposeWeights(weights);
        split.dispose();
      },
    };
  }
  // The per-epoch passes as trainEpoch runs them: the test objective at k (the run config's test batch)
  // and the active-unit pass over the training images, each run with its own counter streams.
  const testBatch = parseRunConfig({ model: job.objective, k: job.k, init: 'xavier-uniform', seed: job.seed, epochs: 1 }).evaluation.testBatchSize;
  const test = new DeviceSplit(greyImages(job.testImages, createStream(job.seed, 'bench-data', 'test')));
  const train = new DeviceSplit(greyImages(job.trainImages, createStream(job.seed, 'bench-data', 'train')));
  const passRuns = seeds.map((s) => ({
    binarization: { kind: 'dynamic' as const, stream: counterStream(s, 'test-binarization') },
    noise: counterStream(s, 'test-noise'),
  }));
  const sources = seeds.map((s) => ({ kind: 'dynamic' as const, stream: counterStream(s, 'activity-binarization') }));
  const objective = (split: DeviceSplit, epoch: number) =>
    objectivePass(weights, job.objective, job.k, split, passRuns, { batchSize: testBatch, epoch, activeUnitThreshold: THRESHOLD });
  const activity = (split: DeviceSplit, epoch: number) => activityPass(weights, split, sources, { batchSize: ACTIVITY_BATCH, epoch, activeUnitThreshold: THRESHOLD });
  // Warm-up: one batch of each pass.
  const warmTest = new DeviceSplit(greyImages(Math.min(job.testImages, testBatch), createStream(job.seed, 'bench-data', 'test')));
  const warmTrain = new DeviceSplit(greyImages(Math.min(job.trainImages, ACTIVITY_BATCH), createStream(job.seed, 'bench-data', 'train')));
  objective(warmTest, 1);
  activity(warmTrain, 1);
  warmTest.dispose();
  warmTrain.dispose();
  return {
    go: () => [seconds(() => objective(test, 2)), seconds(() => activity(train, 2))],
    dispose: () => {
      disposeWeights(weights);
      test.dispose();
      train.dispose();
    },
  };
}
