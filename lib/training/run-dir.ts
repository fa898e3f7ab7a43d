import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig } from '../config/run-config';
import { RunDirError } from './errors';
import type { EpochMetrics, RunFailure } from './metrics';

/**
 * A run directory holds:
 * - config.json: the validated RunConfig (written first, atomically);
 * - checkpoint.bin: weights, Adam state, stream states and all metrics so far, replaced atomically
 *   after every epoch (the source of truth);
 * - metrics.jsonl: one JSON line per epoch, appended (rebuilt from the checkpoint when a run resumes);
 * - failure.json: present only when a NaN/Inf stopped the run.
 */
export function runFiles(dir: string) {
  return {
    config: join(dir, 'config.json'),
    checkpoint: join(dir, 'checkpoint.bin'),
    metrics: join(dir, 'metrics.jsonl'),
    failure: join(dir, 'failure.json'),
  };
}

export { RunDirError };

/** The run's config.json, validated; null when there is none. */
export function readRunConfig(dir: string): RunConfig | null {
  const path = runFiles(dir).config;
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new RunDirError(`${path}: not valid JSON`);
  }
  try {
    return parseRunConfig(raw);
  } catch (err) {
    throw new RunDirError(`${path}: ${(err as Error).message}`);
  }
}

/** The first config field (dotted path) in which two runs differ, ignoring `epochs`; null if none. */
export function differenceExceptEpochs(a: RunConfig, b: RunConfig): string | null {
  return firstDifference({ ...a, epochs: 0 }, { ...b, epochs: 0 }, '');
}

function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? null : path || '(root)';
  }
  if (Array.isArray(a) !== Array.isArray(b)) return path || '(root)';
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of [...keys].sort()) {
    const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    if (d) return d;
  }
  return null;
}

/** The recorded failure of a run stopped by a NaN/Inf, or null. */
export function readFailure(dir: string): RunFailure | null {
  const path = runFiles(dir).failure;
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as RunFailure;
}

/** Epoch metrics as written to metrics.jsonl (blank lines ignored). */
export function readMetricsFile(dir: string): EpochMetrics[] {
  const path = runFiles(dir).metrics;
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochMetrics);
}

/** Throws RunDirError unless `dir` is a run directory with at least one finished epoch. */
export function assertTrainedRunDir(dir: string): void {
  if (!existsSync(dir)) throw new RunDirError(`run directory ${dir} does not exist`);
  if (!existsSync(runFiles(dir).config)) throw new RunDirError(`${dir} is not a run directory (no config.json)`);
  if (!existsSync(runFiles(dir).checkpoint)) throw new RunDirError(`${dir} has no checkpoint yet (no epoch finished)`);
}
