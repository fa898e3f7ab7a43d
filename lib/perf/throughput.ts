import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { StepSetting } from './our-step';

export type ToThroughputWorker = { type: 'setup'; setting: StepSetting; warmupSteps: number } | { type: 'go'; steps: number };
export type FromThroughputWorker = { type: 'ready' } | { type: 'done'; steps: number; seconds: number } | { type: 'error'; message: string };

const WORKER_MODULE = join(__dirname, 'throughput-worker.ts');

export interface ThroughputResult {
  workers: number;
  /**
   * Run-iterations per second of all workers together (each worker's stack iterations x the stack's
   * runs / its own wall time, summed): one run's iteration is the unit, whatever the stack size.
   */
  stepsPerSecond: number;
  /** Each worker's milliseconds per run-iteration (a stack iteration / the stack's runs) while all ran at once. */
  msPerStepEach: number[];
}

/**
 * Run-iterations per second of `workers` processes training at once, each its own stack of
 * `setting.runs` runs (default 1; as the grid runner's worker processes do, lib/experiments/grid-runner.ts):
 * all warm up, then start together on 'go'.
 * `env` is the workers' whole environment (its TF_NUM_INTRAOP_THREADS sizes their TensorFlow pools).
 */
export async function measureGridThroughput(
  setting: StepSetting,
  options: { workers: number; warmupSteps: number; steps: number; env: NodeJS.ProcessEnv },
): Promise<ThroughputResult> {
  const children: ChildProcess[] = [];
  const stderr: string[] = [];
  try {
    const waiters = Array.from({ length: options.workers }, (_, i) => {
      const child = fork(WORKER_MODULE, [], {
        execArgv: ['--require', require.resolve('tsx/cjs')],
        env: { TF_CPP_MIN_LOG_LEVEL: '2', ...options.env },
        // TensorFlow's start-up banner goes to stderr; kept only to explain a failure.
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      children.push(child);
      return messages<FromThroughputWorker>(child, `throughput worker ${i + 1}`, () => stderr.join('').trim().split('\n').pop() ?? '');
    });
    children.forEach((child) => child.send({ type: 'setup', setting, warmupSteps: options.warmupSteps } satisfies ToThroughputWorker));
    await Promise.all(waiters.map((w) => w.next('ready')));
    children.forEach((child) => child.send({ type: 'go', steps: options.steps } satisfies ToThroughputWorker));
    const results = await Promise.all(waiters.map((w) => w.next('done')));
    // A worker's steps are stack iterations; each is one iteration of every run in the stack.
    const runs = setting.runs ?? 1;
    return {
      workers: options.workers,
      stepsPerSecond: results.reduce((sum, r) => sum + (r.steps * runs) / r.seconds, 0),
      msPerStepEach: results.map((r) => (1000 * r.seconds) / (r.steps * runs)),
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/**
 * A forked worker's messages in order; `next(type)` waits for the next one and fails on errors (a message
 * of type 'error' carrying `message`) and exits. Shared with the grid bench's workers (grid-bench.ts).
 */
export function messages<M extends { type: string }>(child: ChildProcess, label: string, lastError: () => string) {
  const queue: M[] = [];
  let waiting: { resolve: (m: M) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  const deliver = (m: M) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w.resolve(m);
    } else queue.push(m);
  };
  child.on('message', (m: M) => deliver(m));
  child.on('exit', (code, signal) => {
    failure = new Error(`${label} exited (${signal ?? code}) ${lastError()}`.trim());
    waiting?.reject(failure);
    waiting = null;
  });
  return {
    next<T extends M['type']>(type: T): Promise<Extract<M, { type: T }>> {
      const got = queue.shift();
      const check = (m: M) => {
        if (m.type === 'error') throw new Error(`${label}: ${(m as { message?: string }).message}`);
        if (m.type !== type) throw new Error(`${label}: expected '${type}', got '${m.type}'`);
        return m as Extract<M, { type: T }>;
      };
      if (got) return Promise.resolve(got).then(check);
      if (failure) return Promise.reject(failure);
      return new Promise<M>((resolve, reject) => (waiting = { resolve, reject })).then(check);
    },
  };
}
