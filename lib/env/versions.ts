import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findChromium } from '../figures/chromium';

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
    const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
    tensorflow = binding?.TF_Version ?? null;
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
