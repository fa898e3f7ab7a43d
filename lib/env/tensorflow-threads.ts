/**
 * How many threads TensorFlow gets in a process that trains. TensorFlow reads these variables once, when
 * tfjs-node starts, so they are set at the command-line edge (bin/iwae.js) and in the environment of
 * every process the grid runner or the bench starts; tfjs-node has no API for them.
 *
 * One intra-op thread, whatever the core count: two single-threaded grid workers, each training a stack,
 * keep both cores busier than one worker whose stack gets two threads (its products get faster, but the
 * hand-offs of the elementwise and Adam kernels cost more than that; `iwae bench --grid`, README
 * Performance). Inter-op parallelism is unused by eager single-op execution. The numbers do not depend
 * on it: the training kernels give bit-identical results for any thread count (test/training/cli.test.ts
 * trains a run both ways).
 */
export const TRAINING_TENSORFLOW_THREADS = 1;

const THREAD_VARIABLES = ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS'] as const;

/** The variables that size TensorFlow's pools to `threads` intra-op threads. */
export function tensorflowThreadEnv(threads: number): Record<string, string> {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  return { TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1' };
}

/**
 * A training process's environment: the training thread setting under everything the caller passes
 * on, so a TF_NUM_INTRAOP_THREADS the user set (or one in `extra`) wins.
 */
export function trainingEnvironment(inherited: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...tensorflowThreadEnv(TRAINING_TENSORFLOW_THREADS), ...inherited, ...extra };
}

/** `env` without the thread variables: TensorFlow's default pools (as many threads as cores). */
export function defaultPoolEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of THREAD_VARIABLES) delete out[name];
  return out;
}

/** `iwae` commands that train in their own process or in processes they start. */
export const TRAINING_COMMANDS: readonly string[] = ['train', 'grid', 'bench', 'verify'];

/**
 * For bin/iwae.js, before TensorFlow loads: a training command's process gets the training thread
 * setting in `env` (in place), unless the user set the variables. Other commands keep TensorFlow's
 * default pools (`iwae eval`'s large batches use every core).
 */
export function applyTrainingThreads(args: readonly string[], env: NodeJS.ProcessEnv): void {
  const command = args.find((a) => !a.startsWith('-'));
  if (!command || !TRAINING_COMMANDS.includes(command)) return;
  for (const [name, value] of Object.entries(trainingEnvironment({}))) if (env[name] === undefined) env[name] = value;
}

/** TensorFlow's intra-op threads as `env` sets them; null when TensorFlow picks (one per core). */
export function intraOpThreads(env: NodeJS.ProcessEnv): number | null {
  const value = Number(env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(value) && value > 0 ? value : null;
}
