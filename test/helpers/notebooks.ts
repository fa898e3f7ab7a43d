import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from './cli';

export interface NotebookOutput {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}
export interface ExecutedNotebook {
  cells: Array<{ cell_type: string; source: string | string[]; metadata?: { tags?: string[] }; outputs?: NotebookOutput[] }>;
  metadata: { kernelspec?: { name?: string } };
}

export function notebookPaths(): string[] {
  const dir = join(REPO_ROOT, 'notebooks');
  return readdirSync(dir)
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Executes a notebook headless as `make run` does (scripts/execute-notebook.py: nbclient, with
 * `parameters` overrides injected after the notebook's parameters cell) into `outDir`; returns it parsed.
 */
export function executeNotebook(path: string, outDir: string, env: NodeJS.ProcessEnv, parameters: Record<string, string> = {}): ExecutedNotebook {
  const params = Object.entries(parameters).flatMap(([name, value]) => ['-p', name, value]);
  const result = spawnSync(
    join(REPO_ROOT, '.venv', 'bin', 'python'),
    [join(REPO_ROOT, 'scripts', 'execute-notebook.py'), path, '--out', outDir, '--timeout', '900', ...params],
    { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_200_000 },
  );
  if (result.status !== 0) {
    throw new Error(`executing ${basename(path)} failed (exit ${result.status}):\n${result.stderr.slice(-4000)}`);
  }
  return JSON.parse(readFileSync(join(outDir, basename(path)), 'utf8')) as ExecutedNotebook;
}

export function outputsOf(nb: ExecutedNotebook): NotebookOutput[] {
  return nb.cells.flatMap((c) => c.outputs ?? []);
}
