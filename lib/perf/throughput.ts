import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { StepSetting } from './our-step';

export type ToThroughputWorker = { type: 'setup'; setting: StepSetting; warmupSteps: number } | { type: 'go'; steps: number };
export type FromThroughputWorker = { type: 'ready' } | { type: 'done'; steps: number; seconds: number } | { type: 'error'; message: string };

const WORKER_MODULE = join(__dirname, 'throughput-worker.ts');

export interface ThroughputResult {
  workers: number;
  /** Steps per second of all workers together (each worker's steps / its own wall time, summed). */
  stepsPerSecond: number;
  /** Each worker's milliseconds per step while all ran at once. */
  msPerStepEach: number[];
}

/**
 * Steps per second of `workers` processes training at once, each its own model (as the grid runner's
 * worker processes do, lib/experiments/grid-runner.ts): all warm up, then start together on 'go'.
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
      return messages(child, `throughput worker ${i + 1}`, () => stderr.join('').trim().split('\n').pop() ?? '');
    });
    children.forEach((child) => child.send({ type: 'setup', setting, warmupSteps: options.warmupSteps } satisfies ToThroughputWorker));
    await Promise.all(waiters.map((w) => w.next('ready')));
    children.forEach((child) => child.send({ type: 'go', steps: options.steps } satisfies ToThroughputWorker));
    const done = await Promise.all(waiters.map((w) => w.next('done')));
    const results = done as Array<Extract<FromThroughputWorker, { type: 'done' }>>;
    return {
      workers: options.workers,
      stepsPerSecond: results.reduce((sum, r) => sum + r.steps / r.seconds, 0),
      msPerStepEach: results.map((r) => (1000 * r.seconds) / r.steps),
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** The worker's messages in order; `next(type)` waits for the next one and fails on errors and exits. */
function messages(child: ChildProcess, label: string, lastError: () => string) {
  const queue: FromThroughputWorker[] = [];
  let waiting: { resolve: (m: FromThroughputWorker) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  const deliver = (m: FromThroughputWorker) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w.resolve(m);
    } else queue.push(m);
  };
  child.on('message', (m: FromThroughputWorker) => deliver(m));
  child.on('exit', (code, signal) => {
    failure = new Error(`${label} exited (${signal ?? code}) ${lastError()}`.trim());
    waiting?.reject(failure);
    waiting = null;
  });
  return {
    next(type: FromThroughputWorker['type']): Promise<FromThroughputWorker> {
      const got = queue.shift();
      const check = (m: FromThroughputWorker) => {
        if (m.type === 'error') throw new Error(`${label}: ${m.message}`);
        if (m.type !== type) throw new Error(`${label}: expected '${type}', got '${m.type}'`);
        return m;
      };
      if (got) return Promise.resolve(got).then(check);
      if (failure) return Promise.reject(failure);
      return new Promise<FromThroughputWorker>((resolve, reject) => (waiting = { resolve, reject })).then(check);
    },
  };
}
