import type { RunConfig } from '../config/run-config';
import { makeBinarizer } from '../data/binarize';
import { takeFirst, type MnistData } from '../data/mnist';
import type { Model } from '../model/model';
import { createStream } from '../random/streams';
import { boundLadder } from '../training/bounds';
import { datasetActiveUnits } from '../training/evaluate';
import type { EpochMetrics } from '../training/metrics';

/**
 * What a finished run is judged by (final.json): Burda's log-likelihood estimate, the bound ladder it
 * sits on, active units, and the last epoch's losses in the study's own terms.
 */
export interface FinalEvaluation {
  /** Test images evaluated: the first `evaluation.finalTestSize`, binarized once from the seed (see below). */
  testImages: number;
  /** k of the log-likelihood estimate (`evaluation.finalK`; Burda: 5000). */
  finalK: number;
  /** NLL = -mean L_finalK over the images, in nats (an upper bound on the true NLL), and its standard error. */
  nll: number;
  nllSE: number;
  /** -mean L_k on the same images for k = 1 (the sampled ELBO), the training k, and finalK: the gap shows how tight each bound is. */
  negativeBounds: Array<{ k: number; value: number; standardError: number }>;
  /** Active units (A_u > threshold) on the evaluated images, and A_u of every unit. */
  activeUnits: number;
  activity: number[];
  /** The last epoch as the study reported it (study loss = reconstruction + KL parts; see EpochMetrics). */
  lastEpoch: Pick<
    EpochMetrics,
    'epoch' | 'trainLoss' | 'trainStudyLoss' | 'testLoss' | 'testStudyLoss' | 'activeUnitsTrain' | 'activeUnitsTest'
  >;
}

/** Images per batch of the active-unit pass (encoder only; does not change the result). */
const ACTIVITY_BATCH = 100;

/**
 * Evaluates a trained model. The evaluation images get one binarization from the run's seed (stream
 * 'final-binarization'), the same for every k and for every run with that seed (VAE and IWAE of a seed
 * are compared on identical bits); each k draws its noise from its own stream, so adding a k to the
 * ladder never changes another k's number. `onProgress` is called between batches (heartbeats, progress).
 */
export function evaluateFinal(
  model: Model,
  config: RunConfig,
  data: MnistData,
  lastEpoch: EpochMetrics,
  onProgress?: (done: number, total: number) => void,
): FinalEvaluation {
  const split = takeFirst(data.test, config.evaluation.finalTestSize);
  const binarizer = makeBinarizer('fixed', split, createStream(config.seed, 'final-binarization'));
  const estimates = boundLadder(
    model,
    split,
    [1, config.k, config.evaluation.finalK],
    binarizer,
    (k) => createStream(config.seed, `final-noise-k${k}`),
    onProgress,
  );
  const active = datasetActiveUnits(model, split, {
    batchSize: ACTIVITY_BATCH,
    binarizer,
    activeUnitThreshold: config.evaluation.activeUnitThreshold,
  });
  const final = estimates[estimates.length - 1];
  return {
    testImages: split.count,
    finalK: config.evaluation.finalK,
    nll: -final.mean,
    nllSE: final.standardError,
    negativeBounds: estimates.map((e) => ({ k: e.k, value: -e.mean, standardError: e.standardError })),
    activeUnits: active.count,
    activity: active.activity,
    lastEpoch: {
      epoch: lastEpoch.epoch,
      trainLoss: lastEpoch.trainLoss,
      trainStudyLoss: lastEpoch.trainStudyLoss,
      testLoss: lastEpoch.testLoss,
      testStudyLoss: lastEpoch.testStudyLoss,
      activeUnitsTrain: lastEpoch.activeUnitsTrain,
      activeUnitsTest: lastEpoch.activeUnitsTest,
    },
  };
}
