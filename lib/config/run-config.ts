import { z } from 'zod';
import { PIXELS } from '../data/shape';
import { canonicalJson } from '../io/digest';

/**
 * Objectives: the study's VAE (closed-form KL), IWAE, and the VAE with a one-sample KL estimate (k=1
 * ablation); then gradient estimators of those objectives (lib/model/objectives.ts MODEL_ESTIMATORS): each
 * reports its base objective's value and trains with another encoder gradient: 'iwae-stl' and 'vae-stl'
 * (IWAE's L_k and the sampled-KL ELBO, "sticking the landing", Roeder et al. 2017) and 'iwae-dreg' (L_k,
 * doubly reparameterized, Tucker et al. 2019). Every k >= 1 is valid: at k = 1 all three are the same
 * estimator (one weight, w~ = w~^2 = 1).
 */
export const MODEL_NAMES = ['vae', 'iwae', 'vae-sampled-kl', 'iwae-stl', 'iwae-dreg', 'vae-stl'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Weight initializations (biases are zero). The study's four plus PyTorch's truncated normal. */
export const INIT_NAMES = ['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal', 'truncated-normal'] as const;
export type InitName = (typeof INIT_NAMES)[number];

export const MNIST_TRAIN_SIZE = 60_000;
export const MNIST_TEST_SIZE = 10_000;

/**
 * What one training step, or one batch of the per-epoch test pass, may allocate for its decoder-sized
 * tensors ([images x k, 784] float32): a run that needs more is refused when its config is validated,
 * instead of dying in an allocation mid-run. 4 GiB fits the machines the study runs on with room to spare.
 */
export const STEP_MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;
/**
 * [rows, 784] float32 tensors alive at once at the peak, measured (peak RSS over rows * 784 * 4 bytes):
 * a training step (fast path, lib/model/fast-gradient.ts) ~13.5, the forward-only test pass ~8.1.
 */
const LIVE_DECODER_TENSORS = { trainingStep: 14, testPass: 9 } as const;
/** Most decoded rows (images x samples) a training step / test-pass batch may have within the budget. */
export const MAX_DECODED_ROWS = {
  trainingStep: Math.floor(STEP_MEMORY_BUDGET_BYTES / (LIVE_DECODER_TENSORS.trainingStep * PIXELS * 4)),
  testPass: Math.floor(STEP_MEMORY_BUDGET_BYTES / (LIVE_DECODER_TENSORS.testPass * PIXELS * 4)),
} as const;

const GIB = 1024 ** 3;

/**
 * Most noise draws of one gradient-SNR measurement: draw d after epoch e is counter e * this + d of the
 * run's 'snr-noise' stream (lib/training/gradient-snr.ts), so the draws of different epochs never meet.
 */
export const GRADIENT_SNR_MAX_DRAWS = 65_536;

/** The one-line reason `images` x `k` decoded rows do not fit, or null when they do. */
function memoryProblem(what: string, batchField: string, images: number, k: number, maxRows: number, tensors: number): string | null {
  if (images * k <= maxRows) return null;
  const needGiB = (images * k * PIXELS * 4 * tensors) / GIB;
  return (
    `${what} decodes ${batchField} ${images} x k ${k} = ${images * k} rows of ${PIXELS} pixels, ~${needGiB.toPrecision(3)} GiB at its peak, ` +
    `over the ${STEP_MEMORY_BUDGET_BYTES / GIB} GiB budget: ` +
    (images <= maxRows ? `at ${batchField} ${images}, k must be <= ${Math.floor(maxRows / images)}` : `${batchField} must be <= ${Math.floor(maxRows / k)} at k ${k}`)
  );
}

/**
 * One training run, as plain data. Everything that changes a run's numbers is in here (so it can name
 * the run); nothing about where it is stored or how many workers run it.
 */
export const RunConfigSchema = z
  .object({
    model: z.enum(MODEL_NAMES),
    k: z.number().int().min(1),
    init: z.enum(INIT_NAMES),
    seed: z.number().int().min(0),
    epochs: z.number().int().min(1),
    /** First `trainSize` training images (all 60,000 by default). */
    trainSize: z.number().int().min(1).max(MNIST_TRAIN_SIZE).default(MNIST_TRAIN_SIZE),
    /** First `testSize` test images, used for the per-epoch test loss and active units. */
    testSize: z.number().int().min(1).max(MNIST_TEST_SIZE).default(MNIST_TEST_SIZE),
    batchSize: z.number().int().min(1).default(20),
    binarization: z.enum(['dynamic', 'fixed']).default('dynamic'),
    architecture: z
      .object({
        hidden: z.array(z.number().int().min(1)).min(1).default([200, 200]),
        latent: z.number().int().min(1).default(50),
      })
      .default({ hidden: [200, 200], latent: 50 }),
    /** Burda et al. set the decoder's output bias to the logit of the mean training pixel; the study used zero. */
    outputBiasInit: z.enum(['zero', 'data-mean']).default('zero'),
    optimizer: z
      .object({
        learningRate: z.number().positive().default(1e-3),
        beta1: z.number().min(0).max(1).default(0.9),
        beta2: z.number().min(0).max(1).default(0.999),
        epsilon: z.number().positive().default(1e-4),
        /** 'burda': 3^i epochs at lr * 10^(-i/7); 'constant': lr throughout. */
        schedule: z.enum(['burda', 'constant']).default('burda'),
      })
      .default({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-4, schedule: 'burda' }),
    evaluation: z
      .object({
        /** Active unit threshold on A_u = Var_x(E_q[u]) (Burda: 1e-2). */
        activeUnitThreshold: z.number().positive().default(1e-2),
        /** Reconstructions and prior samples every this many epochs (and at the last). */
        imagesEvery: z.number().int().min(1).default(10),
        /** Final log-likelihood estimate: L_k with this k on the first `finalTestSize` test images. */
        finalK: z.number().int().min(1).default(5000),
        finalTestSize: z.number().int().min(1).max(MNIST_TEST_SIZE).default(MNIST_TEST_SIZE),
        /**
         * Images per batch of the per-epoch test pass. Forward only, so larger than the training batch:
         * tfjs-node's cost is mostly per op, so a few large batches cost far less than many of 20. The mean does not depend on it
         * and its standard error (of the mean, from batch means) only through noise. 200 keeps every
         * tensor of a batch a whole number of 8-float SIMD packets per run (200 x k x 50 latent units),
         * which is what makes a run's numbers the same in any stack (lib/model/stack.ts).
         */
        testBatchSize: z.number().int().min(1).default(200),
        /**
         * Gradient signal-to-noise ratio (Rainforth et al. 2018; lib/training/gradient-snr.ts): after each
         * of `epochs` (increasing), |E g| / sd(g) of every parameter's gradient estimate over `draws` noise
         * draws on one fixed batch, the first `images` training images. Optional and without a default: the
         * run id hashes the whole config, so a default would rename every run trained before it existed.
         */
        gradientSnr: z
          .object({
            epochs: z.array(z.number().int().min(1)).min(1),
            draws: z.number().int().min(2).max(GRADIENT_SNR_MAX_DRAWS),
            images: z.number().int().min(1),
          })
          .strict()
          .optional(),
      })
      .default({ activeUnitThreshold: 1e-2, imagesEvery: 10, finalK: 5000, finalTestSize: MNIST_TEST_SIZE, testBatchSize: 200 }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const step = memoryProblem('a training step', 'batchSize', config.batchSize, config.k, MAX_DECODED_ROWS.trainingStep, LIVE_DECODER_TENSORS.trainingStep);
    if (step) ctx.addIssue({ code: 'custom', path: [config.batchSize <= MAX_DECODED_ROWS.trainingStep ? 'k' : 'batchSize'], message: step });
    const test = memoryProblem(
      'a test-pass batch',
      'evaluation.testBatchSize',
      config.evaluation.testBatchSize,
      config.k,
      MAX_DECODED_ROWS.testPass,
      LIVE_DECODER_TENSORS.testPass,
    );
    const testBatchTooLarge = config.evaluation.testBatchSize > MAX_DECODED_ROWS.testPass;
    if (test && !step) ctx.addIssue({ code: 'custom', path: testBatchTooLarge ? ['evaluation', 'testBatchSize'] : ['k'], message: test });
    const snr = config.evaluation.gradientSnr;
    if (snr) {
      const path = ['evaluation', 'gradientSnr'];
      const misplaced = snr.epochs.find((e, i) => e > config.epochs || (i > 0 && e <= snr.epochs[i - 1]));
      if (misplaced !== undefined) {
        ctx.addIssue({ code: 'custom', path: [...path, 'epochs'], message: `epochs must increase within 1..${config.epochs} (the run's epochs), got [${snr.epochs.join(', ')}]` });
      }
      if (snr.images > config.trainSize) {
        ctx.addIssue({ code: 'custom', path: [...path, 'images'], message: `the batch of ${snr.images} images is more than the ${config.trainSize} training images` });
      }
      // Each noise draw is one gradient of `images` x k decoded rows, as a training step of that batch.
      const draw = memoryProblem('a gradient-SNR draw', 'evaluation.gradientSnr.images', snr.images, config.k, MAX_DECODED_ROWS.trainingStep, LIVE_DECODER_TENSORS.trainingStep);
      if (draw && !step) ctx.addIssue({ code: 'custom', path: [...path, 'images'], message: draw });
    }
  });

/** A validated run config with every default filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** What a user may write: defaults may be left out. */
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/** Validates at the edge; the error message names each offending field on one line. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid run config: ${detail}`);
  }
  return result.data;
}

/**
 * What must be equal for runs to train together as one stack (lib/training/train.ts): the config without
 * its seed and init (same model, objective, k, batch, epochs, data sizes and evaluation settings).
 */
export function computationShape(config: RunConfig): string {
  const { seed: _seed, init: _init, ...shape } = config;
  return canonicalJson(shape);
}
