import type { InitName, ModelName, RunConfig, RunConfigInput } from '../config/run-config';

/**
 * Experiment scales, as plain data. Every profile has the study's grid shape (Experiment 1: init x model
 * x k x seed; Experiment 2: the same runs looked at per seed) and this project's Experiment 3 (gradient
 * estimator x k x seed at one init, with the gradient SNR measured during training); they differ in how
 * many of each and in the run settings (epochs, data size, final evaluation).
 */

export const PROFILE_NAMES = ['smoke', 'quick', 'paper'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** One block of a grid: every combination of these values. */
export interface GridAxes {
  models: readonly ModelName[];
  ks: readonly number[];
  inits: readonly InitName[];
  seeds: readonly number[];
  /** Measured in every run of the block (config.evaluation.gradientSnr); absent: not measured. */
  gradientSnr?: GradientSnrSettings;
}

export type GradientSnrSettings = NonNullable<RunConfig['evaluation']['gradientSnr']>;

/** The run settings a profile fixes: a RunConfig without the grid axes. */
export type RunSettings = Omit<RunConfigInput, 'model' | 'k' | 'init' | 'seed'>;

export interface Profile {
  name: ProfileName;
  /** For figure titles, e.g. "quick profile: 3 epochs, 4k images". */
  label: string;
  settings: RunSettings;
  /**
   * Experiment 2 must be a subset of Experiment 1's runs (same ids: never trained twice). Experiment 3
   * (does the gradient estimator decide how many units survive?) has runs of its own: they measure the
   * gradient SNR, which is part of their config.
   */
  experiments: { 1: readonly GridAxes[]; 2: readonly GridAxes[]; 3: readonly GridAxes[] };
  /** Runs beyond the study's tables (`--extras`): PyTorch's truncated normal init, VAE with sampled KL. */
  extras: readonly GridAxes[];
  /**
   * Where the repository ships this profile's finished runs (relative to its root), when it does: the
   * notebooks then read them there and train nothing unless asked (the paper grid takes about 20-23 h on a 2-core machine).
   */
  shippedResults?: string;
}

export const STUDY_INITS: readonly InitName[] = ['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal'];
export const STUDY_MODELS: readonly ModelName[] = ['vae', 'iwae'];
export const STUDY_KS: readonly number[] = [1, 5];
export const STUDY_SEEDS: readonly number[] = [135, 630, 924, 10, 32];

/** The ablations: truncated normal in the full model x k grid; the sampled-KL VAE where it matters (k = 1). */
function extrasFor(seeds: readonly number[], inits: readonly InitName[]): GridAxes[] {
  return [
    { models: STUDY_MODELS, ks: STUDY_KS, inits: ['truncated-normal'], seeds },
    { models: ['vae-sampled-kl'], ks: [1], inits, seeds },
  ];
}

const SMOKE_AXES: GridAxes = { models: STUDY_MODELS, ks: STUDY_KS, inits: ['he-normal'], seeds: [135, 630] };

const QUICK_SEEDS = STUDY_SEEDS.slice(0, 3);
const QUICK_AXES: GridAxes = { models: STUDY_MODELS, ks: STUDY_KS, inits: STUDY_INITS, seeds: QUICK_SEEDS };

const PAPER_AXES: GridAxes = { models: STUDY_MODELS, ks: STUDY_KS, inits: STUDY_INITS, seeds: STUDY_SEEDS };

/**
 * Experiment 3's estimators: IWAE's full reparameterized gradient against STL (Roeder et al. 2017) and
 * DReG (Tucker et al. 2019) of the same bound, and STL of the ELBO. At k = 1 the three are one
 * estimator, so the experiment runs at k >= 5. One init (He normal); the SNR batch is one training batch
 * (20 images), the gradient the optimizer sees.
 */
export const ESTIMATOR_MODELS: readonly ModelName[] = ['iwae', 'iwae-stl', 'iwae-dreg', 'vae-stl'];
const EXPERIMENT3_INIT: readonly InitName[] = ['he-normal'];
const SNR_IMAGES = 20;

/** Smoke: the pipeline only, a few runs of seconds each (the notebooks test trains them): DReG against IWAE, two k. */
const SMOKE_EXPERIMENT3: GridAxes = {
  models: ['iwae', 'iwae-dreg'],
  ks: [5, 50],
  inits: EXPERIMENT3_INIT,
  seeds: SMOKE_AXES.seeds,
  gradientSnr: { epochs: [1, 2], draws: 20, images: SNR_IMAGES },
};

/** Quick: every estimator and the sampled-KL ELBO (VAE-STL's full-gradient baseline), at k = 5 and 50. */
const QUICK_EXPERIMENT3: GridAxes = {
  models: [...ESTIMATOR_MODELS, 'vae-sampled-kl'],
  ks: [5, 50],
  inits: EXPERIMENT3_INIT,
  seeds: QUICK_SEEDS,
  gradientSnr: { epochs: [1, 2, 4], draws: 100, images: SNR_IMAGES },
};

/**
 * Paper: the four estimators at k = 5, 5 seeds, 80 epochs: 20 runs, sized to fit in <= 4 h of this
 * 2-core machine at the stacked trainer's measured speed (the arithmetic: README, Experiment 3). Left
 * out for that budget: k = 50 (about 10x k = 5's training per run) and the sampled-KL ELBO as VAE-STL's
 * full-gradient baseline. The SNR is measured at the end of each of the schedule's learning-rate phases
 * (epochs 1, 4, 13, 40, 80).
 */
const PAPER_EXPERIMENT3: GridAxes = {
  models: ESTIMATOR_MODELS,
  ks: [5],
  inits: EXPERIMENT3_INIT,
  seeds: STUDY_SEEDS,
  gradientSnr: { epochs: [1, 4, 13, 40, 80], draws: 1000, images: SNR_IMAGES },
};

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  // Checks the whole pipeline end to end in well under 2 minutes: 8 tiny runs (numbers are meaningless).
  smoke: {
    name: 'smoke',
    label: 'smoke profile: 2 epochs, 500 images (pipeline check only)',
    settings: {
      epochs: 2,
      trainSize: 500,
      testSize: 200,
      evaluation: { imagesEvery: 2, finalK: 50, finalTestSize: 100 },
    },
    experiments: { 1: [SMOKE_AXES], 2: [SMOKE_AXES], 3: [SMOKE_EXPERIMENT3] },
    extras: extrasFor(SMOKE_AXES.seeds, SMOKE_AXES.inits),
  },
  // Every figure of the study at reduced scale. Sized so `make run` (all notebooks, 72 runs with the
  // extras, 2 workers) takes ~6 minutes on a 2-core machine, well inside the 15-minute budget.
  quick: {
    name: 'quick',
    label: 'quick profile: 4 epochs, 5k images, 3 seeds',
    settings: {
      epochs: 4,
      trainSize: 5000,
      // About 1 test image per 6 training images, as in the full data (10,000 : 60,000).
      testSize: 800,
      evaluation: { imagesEvery: 2, finalK: 200, finalTestSize: 250 },
    },
    experiments: { 1: [QUICK_AXES], 2: [QUICK_AXES], 3: [QUICK_EXPERIMENT3] },
    extras: extrasFor(QUICK_SEEDS, STUDY_INITS),
  },
  // The study: 80 epochs on all 60,000 images, 5 seeds; log-likelihood by L_5000 on the full test set.
  paper: {
    name: 'paper',
    label: 'paper profile: 80 epochs, 60k images, 5 seeds',
    settings: {
      epochs: 80,
      evaluation: { imagesEvery: 10, finalK: 5000, finalTestSize: 10_000 },
    },
    experiments: { 1: [PAPER_AXES], 2: [PAPER_AXES], 3: [PAPER_EXPERIMENT3] },
    extras: extrasFor(STUDY_SEEDS, STUDY_INITS),
    shippedResults: 'data/results/paper',
  },
};

export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}
