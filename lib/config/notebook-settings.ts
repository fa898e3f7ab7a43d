import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * What a notebook takes from its environment, read once at the top of each notebook (the edge), so
 * `make run`, CI and a user in JupyterLab can point the same notebooks at other profiles and folders.
 */
const SettingsSchema = z.object({
  IWAE_PROFILE: z.enum(['smoke', 'quick', 'paper']).default('quick'),
  IWAE_FIGURES_DIR: z.string().min(1).default('figures'),
  IWAE_RESULTS_DIR: z.string().min(1).default('data/runs'),
  IWAE_MNIST_CACHE: z.string().min(1).default('data/mnist'),
  MNIST_DIR: z.string().min(1).optional(),
});

export interface NotebookSettings {
  profile: 'smoke' | 'quick' | 'paper';
  figuresDir: string;
  resultsDir: string;
  mnistCacheDir: string;
  mnistDir?: string;
}

export function notebookSettings(env: NodeJS.ProcessEnv, repoRoot: string = process.cwd()): NotebookSettings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`bad notebook settings: ${detail}`);
  }
  const s = parsed.data;
  return {
    profile: s.IWAE_PROFILE,
    figuresDir: resolve(repoRoot, s.IWAE_FIGURES_DIR),
    resultsDir: resolve(repoRoot, s.IWAE_RESULTS_DIR),
    mnistCacheDir: resolve(repoRoot, s.IWAE_MNIST_CACHE),
    mnistDir: s.MNIST_DIR ? resolve(repoRoot, s.MNIST_DIR) : undefined,
  };
}
