import { resolve } from 'node:path';
import { z } from 'zod';
import { PROFILES, type ProfileName } from '../experiments/profiles';

/**
 * What a notebook runs on. Its `parameters` cell (tagged `parameters`, the papermill convention) sets
 * `profile`, `resultsDir`, `trainMissing` and `seed`, defaulting to the environment; a headless run
 * (`make notebook NB=03 PROFILE=smoke`, `make run`) injects overrides right after that cell.
 * Everything is validated here, once, at the top of each notebook.
 */
const ParametersSchema = z.object({
  profile: z.enum(['smoke', 'quick', 'paper']),
  resultsDir: z.string().min(1).nullish(),
  trainMissing: z.boolean().nullish(),
  seed: z.number().int().min(0),
});

/** Where figures and the MNIST files are: the environment only (they rarely change per run). */
const EnvSchema = z.object({
  IWAE_FIGURES_DIR: z.string().min(1).default('figures'),
  IWAE_MNIST_CACHE: z.string().min(1).default('data/mnist'),
  MNIST_DIR: z.string().min(1).optional(),
});

/** Where runs go that nobody ships: a profile's grid without shipped results, and notebooks' own runs. */
export const LOCAL_RESULTS_DIR = 'data/runs';

export interface NotebookParameters {
  profile: string;
  /** null: the profile's shipped results (paper: data/results/paper), else data/runs. */
  resultsDir?: string | null;
  /** null: train missing runs unless the profile's results are shipped (then only show what is there). */
  trainMissing?: boolean | null;
  seed: number;
}

export interface NotebookSettings {
  profile: ProfileName;
  /** Figures and tables of this profile: `<IWAE_FIGURES_DIR or figures>/<profile>`, so profiles never mix. */
  figuresDir: string;
  /** Where the profile's grid runs are read (and trained, with trainMissing). */
  resultsDir: string;
  /** Whether notebooks 03-06 train the grid's missing runs (with a progress bar) or show what has finished. */
  trainMissing: boolean;
  /** Where a notebook trains runs of its own (notebook 02's brief run): never into shipped results. */
  ownRunsDir: string;
  /** Seed of the notebook's own random draws (sample images, permutation nulls); runs carry their own. */
  seed: number;
  mnistCacheDir: string;
  mnistDir?: string;
}

function problems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
}

export function notebookSettings(parameters: NotebookParameters, env: NodeJS.ProcessEnv, repoRoot: string = process.cwd()): NotebookSettings {
  const p = ParametersSchema.safeParse(parameters);
  if (!p.success) throw new Error(`bad notebook parameters: ${problems(p.error)}`);
  const e = EnvSchema.safeParse(env);
  if (!e.success) throw new Error(`bad notebook settings: ${problems(e.error)}`);
  const shipped = PROFILES[p.data.profile].shippedResults;
  const resultsDir = resolve(repoRoot, p.data.resultsDir ?? shipped ?? LOCAL_RESULTS_DIR);
  const local = resolve(repoRoot, LOCAL_RESULTS_DIR);
  return {
    profile: p.data.profile,
    figuresDir: resolve(repoRoot, e.data.IWAE_FIGURES_DIR, p.data.profile),
    resultsDir,
    trainMissing: p.data.trainMissing ?? shipped === undefined,
    ownRunsDir: shipped !== undefined && resultsDir === resolve(repoRoot, shipped) ? local : resultsDir,
    seed: p.data.seed,
    mnistCacheDir: resolve(repoRoot, e.data.IWAE_MNIST_CACHE),
    mnistDir: e.data.MNIST_DIR ? resolve(repoRoot, e.data.MNIST_DIR) : undefined,
  };
}
