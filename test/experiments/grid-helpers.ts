import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli';

/**
 * Drops wall-clock ("time", "seconds") and location ("path", "dir") fields, at every level, and the
 * integrity digests ("sha256"), which cover the wall-clock values.
 */
export function withoutVolatileFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatileFields);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => !/time|seconds|path|dir|sha256/i.test(key))
        .map(([key, v]) => [key, withoutVolatileFields(v)]),
    );
  }
  return value;
}

/** `iwae results --json` for `dir`, parsed. */
export function resultsJson(dir: string): Array<Record<string, unknown>> {
  const r = runCli(['results', '--results', dir, '--json']);
  if (r.code !== 0) throw new Error(`iwae results failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Throws if any .json file or .jsonl line under `dir` does not parse (a torn write). */
export function assertNoTornJson(dir: string): void {
  for (const path of filesUnder(dir)) {
    if (path.endsWith('.json')) JSON.parse(readFileSync(path, 'utf8'));
    if (path.endsWith('.jsonl')) {
      for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim() !== '') JSON.parse(line);
    }
  }
}

export interface SpawnedGrid {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `iwae grid ...` in its own process group (so a test can kill it and its workers at once). */
export function spawnGrid(args: string[]): SpawnedGrid {
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'iwae.js'), 'grid', ...args], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolvePromise) =>
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr })),
  );
  return { child, exited };
}

/** Kills a spawned grid's whole process group (grid and workers) with SIGKILL. */
export function killGroup(grid: SpawnedGrid): void {
  try {
    process.kill(-grid.child.pid!, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Waits until no live (non-zombie) process of group `pgid` is left: killed workers are reaped by init, not by us. */
export async function groupGone(pgid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (liveMembers(pgid) > 0) {
    if (Date.now() > deadline) throw new Error(`process group ${pgid} still alive`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function liveMembers(pgid: number): number {
  let count = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] = state, fields[2] = process group
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') count++;
    } catch {
      // exited while we looked
    }
  }
  return count;
}
