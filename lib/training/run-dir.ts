import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig } from '../config/run-config';
import { canonicalJson, sha256Hex } from '../io/digest';
import { DamagedFileError, readBytesIfExists, readSealedJson, writeSealedJson } from '../io/sealed-json';
import { CheckpointError, readCheckpoint, type Checkpoint } from './checkpoint';
import { RunDirError } from './errors';
import type { EpochMetrics, RunFailure } from './metrics';

/**
 * A run directory holds:
 * - config.json: the validated RunConfig (written first, atomically);
 * - checkpoint.bin: weights, Adam state, stream states and all metrics so far, replaced atomically
 *   after every epoch (the source of truth);
 * - metrics.jsonl: one JSON line per epoch, appended (rebuilt from the checkpoint when a run resumes);
 * - failure.json: present only when a NaN/Inf stopped the run (sealed, and tied to the run).
 * The checkpoint and failure.json carry the run's training identity, so a file copied from another
 * run is refused instead of resumed.
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

/**
 * What makes two configs the same training run: every field but `epochs` (a run may be extended to more
 * epochs and resumes from its checkpoint). A hex digest, stored in the files that must belong to the run.
 */
export function trainingIdentity(config: RunConfig): string {
  return sha256Hex(canonicalJson({ ...config, epochs: 0 }));
}

/** The run's checkpoint, verified and checked to be this run's; null when there is none. */
export function readRunCheckpoint(dir: string, config: RunConfig): Checkpoint | null {
  const path = runFiles(dir).checkpoint;
  if (!existsSync(path)) return null;
  const checkpoint = readCheckpoint(path);
  const field = differenceExceptEpochs(checkpoint.config, config);
  if (field) throw new CheckpointError(path, `checkpoint of another run (config field '${field}' differs)`);
  if (checkpoint.epoch > config.epochs) throw new CheckpointError(path, `checkpoint has ${checkpoint.epoch} epochs, more than the ${config.epochs} of this run`);
  return checkpoint;
}

export function writeFailure(dir: string, config: RunConfig, failure: RunFailure): void {
  writeSealedJson(runFiles(dir).failure, { ...failure, identity: trainingIdentity(config) });
}

/** The recorded failure of a run stopped by a NaN/Inf, or null. A damaged or foreign file is a DamagedFileError. */
export function readFailure(dir: string, config: RunConfig): RunFailure | null {
  const path = runFiles(dir).failure;
  const record = readSealedJson<RunFailure & { identity?: string }>(path);
  if (record === null) return null;
  const { identity, ...failure } = record;
  if (identity !== trainingIdentity(config)) throw new DamagedFileError(path, 'failure record of another run');
  return failure;
}

/** The exact text of metrics.jsonl for these epochs (what a run writes, and what its digest covers). */
export function metricsText(epochs: readonly EpochMetrics[]): string {
  return epochs.map((m) => `${JSON.stringify(m)}\n`).join('');
}

/**
 * Epoch lines of metrics.jsonl, checked: each line parses and epochs run 1, 2, ... in order. Only the
 * last line may be torn (a kill mid-append; training rewrites the file from its checkpoint on resume):
 * it is left out and reported as `tornLastLine`. Anything else is a DamagedFileError.
 */
export function readMetricsFile(dir: string): { epochs: EpochMetrics[]; tornLastLine: boolean } {
  const path = runFiles(dir).metrics;
  const bytes = readBytesIfExists(path);
  return parseMetricsText(path, bytes === null ? '' : bytes.toString('utf8'));
}

/** The text of a metrics.jsonl (read from `path`), checked as readMetricsFile says. */
export function parseMetricsText(path: string, text: string): { epochs: EpochMetrics[]; tornLastLine: boolean } {
  const lines = text.split('\n');
  const last = lines.length - 1; // text after the final newline: '' unless the last append was cut short
  const epochs: EpochMetrics[] = [];
  let tornLastLine = false;
  for (const [index, line] of lines.entries()) {
    if (index === last && line === '') break;
    let metrics: EpochMetrics;
    try {
      metrics = JSON.parse(line) as EpochMetrics;
    } catch {
      if (index === last) {
        tornLastLine = true;
        break;
      }
      throw new DamagedFileError(path, `line ${index + 1} is not valid JSON`);
    }
    if (metrics?.epoch !== epochs.length + 1) throw new DamagedFileError(path, `line ${index + 1} is epoch ${metrics?.epoch}, expected ${epochs.length + 1}`);
    epochs.push(metrics);
  }
  return { epochs, tornLastLine };
}

/** Throws RunDirError unless `dir` is a run directory with at least one finished epoch. */
export function assertTrainedRunDir(dir: string): void {
  if (!existsSync(dir)) throw new RunDirError(`run directory ${dir} does not exist`);
  if (!existsSync(runFiles(dir).config)) throw new RunDirError(`${dir} is not a run directory (no config.json)`);
  if (!existsSync(runFiles(dir).checkpoint)) throw new RunDirError(`${dir} has no checkpoint yet (no epoch finished)`);
}
