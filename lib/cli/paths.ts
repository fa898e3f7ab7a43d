import { resolve } from 'node:path';

/** Where the CLI's defaults live: the repository this file belongs to, whatever the working directory. */
export const REPO_ROOT = resolve(__dirname, '..', '..');
/** Downloads of MNIST land here; git-ignored. */
export const DEFAULT_MNIST_CACHE = resolve(REPO_ROOT, 'data', 'mnist');
export const DEFAULT_RESULTS_DIR = resolve(REPO_ROOT, 'data', 'runs');
export const DEFAULT_FIGURES_DIR = resolve(REPO_ROOT, 'figures');

/** The MNIST directory a command was pointed at: --mnist-dir, else a non-empty $MNIST_DIR; absolute. */
export function chosenMnistDir(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const chosen = flag ?? (env.MNIST_DIR ? env.MNIST_DIR : undefined);
  return chosen === undefined ? undefined : resolve(chosen);
}
