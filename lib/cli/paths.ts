import { resolve } from 'node:path';
import type { Profile } from '../experiments/profiles';

/** Where the CLI's defaults live: the repository this file belongs to, whatever the working directory. */
export const REPO_ROOT = resolve(__dirname, '..', '..');
/** Downloads of MNIST land here; git-ignored. */
export const DEFAULT_MNIST_CACHE = resolve(REPO_ROOT, 'data', 'mnist');
export const DEFAULT_RESULTS_DIR = resolve(REPO_ROOT, 'data', 'runs');
export const DEFAULT_FIGURES_DIR = resolve(REPO_ROOT, 'figures');

/** A profile's results directory when none is given: where the repository ships its runs, else data/runs. */
export function defaultResultsDir(profile: Pick<Profile, 'shippedResults'> | null): string {
  return profile?.shippedResults ? resolve(REPO_ROOT, profile.shippedResults) : DEFAULT_RESULTS_DIR;
}

/** The MNIST directory a command was pointed at: --mnist-dir, else a non-empty $MNIST_DIR; absolute. */
export function chosenMnistDir(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const chosen = flag ?? (env.MNIST_DIR ? env.MNIST_DIR : undefined);
  return chosen === undefined ? undefined : resolve(chosen);
}
