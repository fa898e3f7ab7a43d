import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * What a notebook runs on. Its `parameters` cell (tagged `parameters`, the papermill convention) sets
 * `profile`, `resultsDir` and `seed`, defaulting to the environment; a headless run
 * (`scripts/run-notebook.sh NB -p profile smoke`, `make run`) injects overrides right after that cell.
 * Everything is validated here, once, at the top of each notebook.
 */
const ParametersSchema = z.object({
  profile: z.enum(['smoke', 'quick', 'paper']),
  resultsDir: z.string().min(1),
  seed: z.number().int().min(0),
});

/** Where figures and the MNIST files are: the environment only (they rarely change per run). */
const EnvSchema = z.object({
  IWAE_FIGURES_DIR: z.string().min(1).default('figures'),
  IWAE_MNIST_CACHE: z.string().min(1).default('data/mnist'),
  MNIST_DIR: z.string().min(1).optional(),
});

export interface NotebookParameters {
  profile: string;
  resultsDir: string;
  seed: number;
}

export interface NotebookSettings {
  profile: 'smoke' | 'quick' | 'paper';
  /** Figures and tables of this profile: `<IWAE_FIGURES_DIR or figures>/<profile>`, so profiles never mix. */
  figuresDir: string;
  resultsDir: string;
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
  return {
    profile: p.data.profile,
    figuresDir: resolve(repoRoot, e.data.IWAE_FIGURES_DIR, p.data.profile),
    resultsDir: resolve(repoRoot, p.data.resultsDir),
    seed: p.data.seed,
    mnistCacheDir: resolve(repoRoot, e.data.IWAE_MNIST_CACHE),
    mnistDir: e.data.MNIST_DIR ? resolve(repoRoot, e.data.MNIST_DIR) : undefined,
  };
}
