import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config/run-config';
import type { EpochMetrics } from '../training/metrics';
import { readRunConfig } from '../training/run-dir';
import { readJsonIfExists } from '../io/atomic-file';
import type { FinalRecord } from './execute-run';
import { isLockStale, readLock } from './lock';
import { readRunOutcome, runFile, type RunFailure } from './run-dir';
import { RUN_ID_PATTERN } from './run-id';

/**
 * One run as found in a results directory: what notebooks, reports and `iwae results` read.
 * Wall-clock values are under keys containing "time" or "seconds", file locations under keys containing
 * "path" or "dir": drop those and two result directories of the same grid compare equal.
 */
export interface RunRecord {
  id: string;
  dir: string;
  /** null when the run was claimed but training never wrote its config. */
  config: RunConfig | null;
  /** completed/failed: an outcome; running: a live process holds it; incomplete: neither (resumable). */
  status: 'completed' | 'failed' | 'running' | 'incomplete';
  failure?: RunFailure;
  /** Finished epochs in order (from metrics.jsonl). */
  epochs: EpochMetrics[];
  /** The final evaluation (final.json); null until the run is completed. */
  final: FinalRecord | null;
}

/** Reads one run directory. */
export function readRunRecord(runDir: string, id: string): RunRecord {
  const outcome = readRunOutcome(runDir);
  const lock = readLock(runFile(runDir, 'lock'));
  const status = outcome ? outcome.status : lock && !isLockStale(lock) ? 'running' : 'incomplete';
  const record: RunRecord = {
    id,
    dir: runDir,
    config: readRunConfig(runDir),
    status,
    epochs: readEpochs(runFile(runDir, 'metrics')),
    final: status === 'completed' ? readJsonIfExists<FinalRecord>(runFile(runDir, 'final')) : null,
  };
  if (outcome?.status === 'failed') record.failure = outcome.failure;
  return record;
}

/** Every run under `resultsDir` (directories named like run ids), sorted by id; `ids` narrows the set. */
export function readResults(resultsDir: string, options: { ids?: readonly string[] } = {}): RunRecord[] {
  if (!existsSync(resultsDir)) return [];
  const wanted = options.ids ? new Set(options.ids) : null;
  return readdirSync(resultsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && RUN_ID_PATTERN.test(entry.name) && (!wanted || wanted.has(entry.name)))
    .map((entry) => entry.name)
    .sort()
    .map((id) => readRunRecord(join(resultsDir, id), id));
}

/**
 * Epoch lines of metrics.jsonl. A line cut short by a kill (only ever the last, only while a run is
 * incomplete: training rewrites the file from its checkpoint on resume) is left out, and an epoch
 * written twice keeps its last line.
 */
function readEpochs(path: string): EpochMetrics[] {
  if (!existsSync(path)) return [];
  const byEpoch = new Map<number, EpochMetrics>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const metrics = JSON.parse(line) as EpochMetrics;
      byEpoch.set(metrics.epoch, metrics);
    } catch {
      // torn last line of an interrupted run
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}
