/**
 * TensorFlow thread pools for `workers` training processes on `cores` cores: the cores shared out, at
 * least one thread each. TensorFlow's default gives every process a pool as large as the machine, so
 * two workers on two cores would run four busy threads that preempt each other; one thread per worker
 * trains ~20 % more steps per hour here (`iwae bench`, grid figure). The results do not depend on it:
 * the training step's kernels give bit-identical numbers for any thread count (test/experiments/
 * test/training/cli.test.ts checks a run both ways).
 */
export function tensorflowThreadsPerWorker(workers: number, cores: number): number {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  return Math.max(1, Math.floor(Math.max(1, cores) / workers));
}

/**
 * The environment that sizes a worker's TensorFlow pools (read by TensorFlow when it starts; tfjs-node has
 * no API for them). Inter-op parallelism is unused by eager single-op execution, so it gets one thread.
 */
export function tensorflowThreadEnv(threads: number): Record<string, string> {
  return { TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1' };
}

/**
 * A grid worker's environment: the thread settings for its share of the cores under everything the
 * caller passes on, so TF_NUM_INTRAOP_THREADS set by the user (or in `extra`) wins.
 */
export function workerEnvironment(threads: number, inherited: NodeJS.ProcessEnv, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...tensorflowThreadEnv(threads), ...inherited, ...extra };
}
