import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { findChromium } from '../figures/chromium';
import { intraOpThreads } from './tensorflow-threads';

export interface EnvironmentReport {
  node: string;
  tfjsNode: string | null;
  tfjsBackend: string | null;
  tensorflow: string | null;
  pythonVenv: string | null;
  python: string | null;
  jupyter: string | null;
  chromium: string | null;
  problems: string[];
}

function firstLine(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })
      .trim()
      .split('\n')[0];
  } catch {
    return null;
  }
}

/** Versions of everything the project runs on, gathered without failing: what is missing is listed. */
export function environmentReport(repoRoot: string, env: NodeJS.ProcessEnv): EnvironmentReport {
  const problems: string[] = [];
  let tfjsNode: string | null = null;
  let tfjsBackend: string | null = null;
  let tensorflow: string | null = null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tf = require('@tensorflow/tfjs-node') as typeof import('@tensorflow/tfjs-node');
    tfjsNode = tf.version['tfjs-node'] ?? null;
    tfjsBackend = tf.getBackend();
    tensorflow = tensorflowVersion(tf);
  } catch (err) {
    problems.push(`@tensorflow/tfjs-node does not load (${(err as Error).message.split('\n')[0]}); run make setup`);
  }

  const venv = join(repoRoot, '.venv');
  const venvPython = join(venv, 'bin', 'python');
  const hasVenv = existsSync(venvPython);
  if (!hasVenv) problems.push('no Python venv at .venv; run make setup');
  const python = hasVenv ? firstLine(venvPython, ['--version']) : null;
  const jupyter = hasVenv ? firstLine(join(venv, 'bin', 'jupyter'), ['lab', '--version']) : null;
  if (hasVenv && !jupyter) problems.push('JupyterLab is missing from .venv; run make setup');

  let chromium: string | null = null;
  try {
    chromium = findChromium(env) ?? null;
    if (!chromium) problems.push('no Chromium found for PDF export; set CHROME_PATH or run make setup');
  } catch (err) {
    problems.push((err as Error).message);
  }

  return {
    node: process.version,
    tfjsNode,
    tfjsBackend,
    tensorflow,
    pythonVenv: hasVenv ? venv : null,
    python,
    jupyter: jupyter ? `jupyterlab ${jupyter}` : null,
    chromium,
    problems,
  };
}

/**
 * What trained an attempt: the CPU and the TensorFlow build decide a run's last bits (iwae verify is
 * bit-identical on the same build, other builds may round the elementwise kernels differently).
 */
export interface TrainingMachine {
  cpu: string;
  cores: number;
  tensorflow: string | null;
  tfjsNode: string | null;
  /** TensorFlow's intra-op threads for this process (null: TensorFlow's own default). */
  threads: number | null;
}

/** The CPU and TensorFlow build of this process, as a training attempt records them (loads tfjs-node). */
export function trainingMachine(env: NodeJS.ProcessEnv): TrainingMachine {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require('@tensorflow/tfjs-node') as typeof import('@tensorflow/tfjs-node');
  return {
    cpu: cpus()[0]?.model.trim() || 'unknown',
    // What this process may use (CPU affinity, e.g. a Slurm allocation), not the whole host.
    cores: availableParallelism(),
    tensorflow: tensorflowVersion(tf),
    tfjsNode: tf.version['tfjs-node'] ?? null,
    threads: intraOpThreads(env),
  };
}

/** One line: "AMD EPYC 7B13 (2 cores), TensorFlow 2.21.0". */
export function describeMachine(m: TrainingMachine): string {
  return `${m.cpu} (${m.cores} core${m.cores === 1 ? '' : 's'}), TensorFlow ${m.tensorflow ?? 'unknown'}`;
}

/** The version of the TensorFlow C library tfjs-node's addon was built against (its binding says). */
function tensorflowVersion(tf: typeof import('@tensorflow/tfjs-node')): string | null {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  return binding?.TF_Version ?? null;
}
