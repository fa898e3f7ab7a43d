import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../config/run-config';
import type { EpochMetrics, RunFailure } from '../training/metrics';
import { RunDirError } from '../training/errors';
import { parseMetricsText, readMetricsFile, readRunConfig, runFiles } from '../training/run-dir';
import { sha256Hex } from '../io/digest';
import { DamagedFileError, parseSealedJson, readBytesIfExists, readSealedJson, writeSealedJson } from '../io/sealed-json';
import type { FinalEvaluation } from './final-evaluation';
import { runId } from './run-id';
import type { TrainingMachine } from '../env/versions';

export type { RunFailure } from '../training/metrics';

/**
 * The files of one run's directory `<results>/<run id>/`. training (lib/training/train.ts) owns config.json, metrics.jsonl and
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
  /** A completed run's final weights in float16, for display (lib/experiments/run-weights.ts); not part of its outcome. */
  weights: 'weights-f16.bin',
} as const;

export function runDirPath(resultsDir: string, id: string): string {
  return join(resultsDir, id);
}

export function runFile(runDir: string, file: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[file]);
}

/**
 * A run's outcome (status.json, sealed, written last). 'failed' is a numerical failure of training
 * (NaN/Inf), with the trainer's diagnostic. It names its run and holds the SHA-256 of the files the
 * analysis reads, so a line lost from metrics.jsonl, a missing or replaced final.json, or a status.json
 * copied from another run is detected instead of read as numbers.
 */
export type RunOutcome = ({ status: 'completed'; finalSha256: string } | { status: 'failed'; failure: RunFailure }) & {
  runId: string;
  finishedTime: string;
  /** Epochs in metrics.jsonl, and the digest of its bytes. */
  epochs: number;
  metricsSha256: string;
};

/**
 * final.json: the evaluation plus how long it took (wall clock, so named "seconds"), sealed, named by its
 * run and tied to the exact checkpoint it evaluated (so one made from other weights is never reused).
 */
export type FinalRecord = FinalEvaluation & { runId: string; checkpointSha256: string; evaluationSeconds: number };

/** The run's recorded outcome, or null. A damaged, unsealed or foreign status.json is a DamagedFileError. */
export function readRunOutcome(runDir: string, id: string): RunOutcome | null {
  const path = runFile(runDir, 'status');
  const outcome = readSealedJson<RunOutcome>(path);
  if (outcome === null) return null;
  if (outcome.runId !== id) throw new DamagedFileError(path, `status of run ${String(outcome.runId)}, not of ${id}`);
  const shapeProblem = outcomeShapeProblem(outcome);
  if (shapeProblem) throw new DamagedFileError(path, shapeProblem);
  return outcome;
}

/** Why a sealed status.json is still not an outcome this code wrote (e.g. 'failed' without its diagnostic), or null. */
function outcomeShapeProblem(outcome: { status?: unknown; failure?: unknown }): string | null {
  if (outcome.status === 'completed') return null;
  if (outcome.status !== 'failed') return `unknown status ${JSON.stringify(outcome.status)}`;
  const failure = outcome.failure as Partial<RunFailure> | undefined;
  const valid =
    failure !== null && typeof failure === 'object' && Number.isInteger(failure.epoch) && Number.isInteger(failure.step) && typeof failure.term === 'string' && typeof failure.message === 'string';
  return valid ? null : "status 'failed' without a valid failure diagnostic {epoch, step, term, message}";
}

/** Records the outcome with the digests of the run's files as they are now (the caller has just made them). */
export function writeRunOutcome(runDir: string, id: string, outcome: { status: 'completed' } | { status: 'failed'; failure: RunFailure }): RunOutcome {
  const { epochs } = readMetricsFile(runDir);
  const common = { runId: id, finishedTime: new Date().toISOString(), epochs: epochs.length, metricsSha256: fileSha256(runFiles(runDir).metrics) };
  const record: RunOutcome =
    outcome.status === 'completed' ? { status: 'completed', finalSha256: fileSha256(runFile(runDir, 'final')), ...common } : { status: 'failed', failure: outcome.failure, ...common };
  writeSealedJson(runFile(runDir, 'status'), record);
  return record;
}

export function writeFinalRecord(runDir: string, record: FinalRecord): void {
  writeSealedJson(runFile(runDir, 'final'), record);
}

/** The run's final.json, or null. A damaged or foreign one is a DamagedFileError. */
export function readFinalRecord(runDir: string, id: string): FinalRecord | null {
  const path = runFile(runDir, 'final');
  const bytes = readBytesIfExists(path);
  return bytes === null ? null : parseFinalRecord(path, bytes.toString('utf8'), id);
}

function parseFinalRecord(path: string, text: string, id: string): FinalRecord {
  const record = parseSealedJson<FinalRecord>(path, text);
  if (record.runId !== id) throw new DamagedFileError(path, `final evaluation of run ${String(record.runId)}, not of ${id}`);
  return record;
}

/** SHA-256 of a file's bytes, '' when there is no file. */
export function fileSha256(path: string): string {
  const bytes = readBytesIfExists(path);
  return bytes === null ? '' : sha256Hex(bytes);
}

/**
 * What a run directory holds, checked against itself: the config names the directory's run, the
 * outcome is sealed and names it too, and the files the outcome covers still have their recorded
 * digests. `problem` (one line) says what is wrong, and then nothing else is filled in: a damaged run
 * carries no numbers. `repairable` when a checkpoint (or the bad one a restart set aside) is there:
 * `iwae grid` then rebuilds the run's files from it. `epochs` and `final` are parsed from exactly the
 * bytes that were checked.
 */
export interface RunInspection {
  config: RunConfig | null;
  outcome: RunOutcome | null;
  epochs: EpochMetrics[];
  final: FinalRecord | null;
  problem: string | null;
  repairable: boolean;
}

export function inspectRun(runDir: string, id: string): RunInspection {
  const files = runFiles(runDir);
  const repairable = existsSync(files.checkpoint) || existsSync(`${files.checkpoint}.bad`);
  const problem = (text: string, canRepair = repairable): RunInspection => ({ config: null, outcome: null, epochs: [], final: null, problem: text, repairable: canRepair });
  try {
    let config: RunConfig | null;
    try {
      config = readRunConfig(runDir);
    } catch (err) {
      if (err instanceof RunDirError) return problem(err.message, false);
      const code = (err as NodeJS.ErrnoException).code;
      if (code) return problem(`${files.config}: cannot read (${code})`, false);
      throw err;
    }
    if (config && runId(config) !== id) return problem(`${files.config}: config of run ${runId(config)}, not of ${id}`, false);
    const outcome = readRunOutcome(runDir, id);
    if (outcome && !config) return problem(`${files.config}: missing (a run with a recorded outcome)`);
    const metricsBytes = readBytesIfExists(files.metrics);
    const metricsText = metricsBytes === null ? '' : metricsBytes.toString('utf8');
    if (outcome === null) {
      // A garbage line is a problem; a torn last line is what a kill leaves, and resuming mends it.
      return { config, outcome, epochs: parseMetricsText(files.metrics, metricsText).epochs, final: null, problem: null, repairable };
    }
    if ((metricsBytes === null ? '' : sha256Hex(metricsBytes)) !== outcome.metricsSha256) {
      return problem(`${files.metrics}: differs from the ${outcome.epochs} epochs the run recorded (lines lost or changed)`);
    }
    const epochs = parseMetricsText(files.metrics, metricsText).epochs;
    if (outcome.status === 'failed') return { config, outcome, epochs, final: null, problem: null, repairable };
    const finalPath = runFile(runDir, 'final');
    const finalBytes = readBytesIfExists(finalPath);
    if (finalBytes === null) return problem(`${finalPath}: missing (the final evaluation of a completed run)`);
    const final = parseFinalRecord(finalPath, finalBytes.toString('utf8'), id);
    if (sha256Hex(finalBytes) !== outcome.finalSha256) return problem(`${finalPath}: not the final evaluation the run recorded`);
    return { config, outcome, epochs, final, problem: null, repairable };
  } catch (err) {
    if (err instanceof DamagedFileError) return problem(err.message);
    throw err;
  }
}

/** One line per time a worker starts executing the run (fresh or resuming): the audit trail of a run, shipped with it. */
export interface AttemptRecord {
  event: 'started';
  pid: number;
  hostname: string;
  startedTime: string;
  /** Absent in the lines of attempts made before it was recorded. */
  machine?: TrainingMachine;
}

export function recordAttempt(runDir: string, machine: TrainingMachine): void {
  mkdirSync(runDir, { recursive: true });
  const record: AttemptRecord = { event: 'started', pid: process.pid, hostname: hostname(), startedTime: new Date().toISOString(), machine };
  // One short append is one write(2): a kill leaves the line whole or absent.
  appendFileSync(runFile(runDir, 'attempts'), `${JSON.stringify(record)}\n`);
}

/** The run's attempts, oldest first; none when it has no log. A line that is not a record (torn by a kill) is skipped. */
export function readAttempts(runDir: string): AttemptRecord[] {
  const bytes = readBytesIfExists(runFile(runDir, 'attempts'));
  if (bytes === null) return [];
  const out: AttemptRecord[] = [];
  for (const line of bytes.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as AttemptRecord;
      if (!record || record.event !== 'started' || typeof record.startedTime !== 'string') continue;
      const m = record.machine;
      // A machine entry of another shape says nothing reliable: the attempt is kept without it.
      if (m !== undefined && !(typeof m?.cpu === 'string' && Number.isInteger(m?.cores))) delete record.machine;
      out.push(record);
    } catch {
      // A torn last line: the attempt's other facts are in its files.
    }
  }
  return out;
}
