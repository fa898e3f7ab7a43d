import type { RunConfig } from '../config/run-config';
import { DeviceSplit } from '../data/device-split';
import { takeFirst, type MnistData } from '../data/mnist';
import { boundLadder, type StackWeights } from '../training/evaluate';
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

/**
 * Evaluates the trained runs of a stack together (one run is a stack of one; the numbers of a run do not
 * depend on the others): L_k for k = 1, the training k and finalK on the first finalTestSize test
 * images, and the active units on the same bits. The images get one binarization from each run's seed
 * ('final-binarization', the same for every k and for VAE and IWAE of a seed: they are compared on
 * identical bits); each k its own noise stream (lib/training/evaluate.ts). `iwae eval` computes the same
 * numbers. `onProgress` is called between chunks (heartbeats, progress).
 */
export function evaluateFinal(
  weights: StackWeights,
  configs: readonly RunConfig[],
  data: MnistData,
  lastEpochs: readonly EpochMetrics[],
  onProgress?: (done: number, total: number) => void,
): FinalEvaluation[] {
  const config = configs[0];
  const split = new DeviceSplit(takeFirst(data.test, config.evaluation.finalTestSize));
  try {
    const results = boundLadder(weights, split, [1, config.k, config.evaluation.finalK], configs.map((c) => c.seed), {
      activeUnitThreshold: config.evaluation.activeUnitThreshold,
      onProgress,
    });
    return results.map(({ bounds, activeUnits }, r) => {
      const final = bounds[bounds.length - 1];
      const lastEpoch = lastEpochs[r];
      return {
        testImages: split.count,
        finalK: config.evaluation.finalK,
        nll: -final.mean,
        nllSE: final.standardError,
        negativeBounds: bounds.map((e) => ({ k: e.k, value: -e.mean, standardError: e.standardError })),
        activeUnits: activeUnits.count,
        activity: activeUnits.activity,
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
    });
  } finally {
    split.dispose();
  }
}
