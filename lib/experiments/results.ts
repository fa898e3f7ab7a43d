import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../config/run-config';
import type { EpochMetrics } from '../training/metrics';
import { isLockStale, readLock } from './lock';
import { inspectRun, runFile, type FinalRecord, type RunFailure } from './run-dir';
import { RUN_ID_PATTERN } from './run-id';
import { gridRuns } from './grids';
import { PROFILE_NAMES, PROFILES, type ProfileName } from './profiles';
import { canonicalJson } from '../io/digest';

/**
 * One run as found in a results directory: what notebooks, reports and `iwae results` read.
 * Wall-clock values are under keys containing "time" or "seconds", file locations under keys containing
 * "path" or "dir": drop those and two result directories of the same grid compare equal.
 */
export interface RunRecord {
  id: string;
  dir: string;
  /** null when the run was claimed but training never wrote its config (or its config.json is damaged). */
  config: RunConfig | null;
  /**
   * completed/failed: an outcome; running: a live process holds it; incomplete: neither (resumable);
   * corrupt: a file that does not match the run's record (`problem` says which): left out of every
   * analysis, its numbers never read.
   */
  status: 'completed' | 'failed' | 'running' | 'incomplete' | 'corrupt';
  failure?: RunFailure;
  /** Why a corrupt run is left out, and whether `iwae grid` can rebuild it from its checkpoint. */
  problem?: string;
  repairable?: boolean;
  /** Finished epochs in order (from metrics.jsonl; verified against status.json once the run has an outcome). */
  epochs: EpochMetrics[];
  /** The final evaluation (final.json); null until the run is completed. */
  final: FinalRecord | null;
}

/** Reads one run directory, checking its files against each other (inspectRun). */
export function readRunRecord(runDir: string, id: string): RunRecord {
  const inspection = inspectRun(runDir, id);
  const base = { id, dir: runDir, config: inspection.config, epochs: inspection.epochs, final: inspection.final };
  if (inspection.problem) return { ...base, status: 'corrupt', problem: inspection.problem, repairable: inspection.repairable };
  const { outcome } = inspection;
  if (outcome?.status === 'failed') return { ...base, status: 'failed', failure: outcome.failure };
  if (outcome) return { ...base, status: 'completed' };
  const lock = readLock(runFile(runDir, 'lock'));
  return { ...base, status: lock && !isLockStale(lock) ? 'running' : 'incomplete' };
}

/** The warning for a run left out of the analysis, or null: one line, the same wherever it is shown. */
export function leftOutWarning(record: RunRecord): string | null {
  if (record.status !== 'corrupt') return null;
  return `${record.id} left out: ${record.problem}${record.repairable ? ' (`iwae grid` rebuilds it from the checkpoint)' : ''}`;
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
 * The scale of a run: its config without the grid axes (model, k, init, seed). Only runs of one scale
 * may be averaged or compared in one analysis (a smoke and a quick run of a setting are not two seeds).
 */
export function runScale(config: RunConfig): string {
  const { model: _model, k: _k, init: _init, seed: _seed, ...settings } = config;
  return canonicalJson(settings);
}

/** Runs grouped by scale, each group named by the profile whose settings it has ('other settings' if none). */
export function scaleGroups(records: readonly RunRecord[]): Array<{ name: string; profile: ProfileName | null; records: RunRecord[] }> {
  const profileOf = new Map(PROFILE_NAMES.map((name) => [runScale(gridRuns(PROFILES[name])[0].config), name] as const));
  const groups = new Map<string, RunRecord[]>();
  for (const record of records) {
    if (!record.config) continue;
    const scale = runScale(record.config);
    groups.set(scale, [...(groups.get(scale) ?? []), record]);
  }
  return [...groups.entries()].map(([scale, members]) => {
    const profile = profileOf.get(scale) ?? null;
    return { name: profile ? `${profile} profile` : `other settings (e.g. ${members[0].id})`, profile, records: members };
  });
}
