import type { RunConfig } from '../config/run-config';
import type { GradientSnr } from './gradient-snr';

/**
 * One epoch of a run. Losses are per-image means in nats. `…Loss` is the objective that was minimized
 * (VAE: -ELBO; IWAE: -L_k, the true bound); `…StudyLoss` = `…Recon + …KL` is what the study reported
 * (identical for the VAEs; for IWAE the self-normalized -sum_i w~_i log w_i, which is <= -L_k).
 * `…SE` is the standard error of the batch losses, as the study logged it.
 */
export interface EpochMetrics {
  epoch: number;
  learningRate: number;
  /** Optimizer steps taken since the start of the run, this epoch included. */
  steps: number;
  /** Mean of the epoch's batch losses (nats per image) and its standard error over batches, as the study logged. */
  trainLoss: number;
  trainLossSE: number;
  trainRecon: number;
  trainKL: number;
  trainStudyLoss: number;
  /** Mean loss over the test images with the run's objective and k, and its standard error over images. */
  testLoss: number;
  testLossSE: number;
  testRecon: number;
  testKL: number;
  testStudyLoss: number;
  /** Units with A_u > threshold, A_u = unbiased variance over images of the posterior mean. */
  activeUnitsTrain: number;
  activeUnitsTest: number;
  /** A_u of every latent unit. */
  activityTrain: number[];
  activityTest: number[];
  /** Wall-clock seconds of this epoch (training, test pass, activity pass and, when measured, the gradient SNR). */
  seconds: number;
  /**
   * The gradient's signal-to-noise ratio per parameter block (lib/training/gradient-snr.ts), only on the
   * epochs config.evaluation.gradientSnr names: a run without that setting never has the key, so its
   * metrics lines are what they were before it existed.
   */
  gradientSnr?: GradientSnr;
}

/** Which part of the objective went non-finite. */
export type FailureTerm = 'reconstruction' | 'kl' | 'bound';

export interface RunFailure {
  epoch: number;
  /** Step within the epoch, 1-based. */
  step: number;
  term: FailureTerm;
  message: string;
}

export interface RunResult {
  config: RunConfig;
  epochs: EpochMetrics[];
  status: 'completed' | 'failed';
  failure?: RunFailure;
}
