import { appendFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunFailure } from '../training/metrics';
import { readJsonIfExists, writeJsonAtomic } from '../io/atomic-file';

export type { RunFailure } from '../training/metrics';

/**
 * The files of one run's directory `<results>/<run id>/`. trainRun owns config.json, metrics.jsonl and
 * its checkpoint; the grid layer adds the lock, the attempt log, final.json and status.json.
 * status.json is written last: its presence means the run reached an outcome.
 */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  lock: 'run.lock',
  attempts: 'attempts.jsonl',
  final: 'final.json',
  status: 'status.json',
} as const;

export function runDirPath(resultsDir: string, id: string): string {
  return join(resultsDir, id);
}

export function runFile(runDir: string, file: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[file]);
}

/** A run's outcome. 'failed' is a numerical failure of training (NaN/Inf), with trainRun's diagnostic. */
export type RunOutcome = { status: 'completed'; finishedTime: string } | { status: 'failed'; failure: RunFailure; finishedTime: string };

export function readRunOutcome(runDir: string): RunOutcome | null {
  return readJsonIfExists<RunOutcome>(runFile(runDir, 'status'));
}

export function writeRunOutcome(runDir: string, outcome: RunOutcome): void {
  writeJsonAtomic(runFile(runDir, 'status'), outcome);
}

/** One line per time a worker starts executing the run (fresh or resuming): the audit trail of a run. */
export interface AttemptRecord {
  event: 'started';
  pid: number;
  hostname: string;
  startedTime: string;
}

export function recordAttempt(runDir: string): void {
  mkdirSync(runDir, { recursive: true });
  const record: AttemptRecord = { event: 'started', pid: process.pid, hostname: hostname(), startedTime: new Date().toISOString() };
  // One short append is one write(2): a kill leaves the line whole or absent.
  appendFileSync(runFile(runDir, 'attempts'), `${JSON.stringify(record)}\n`);
}
