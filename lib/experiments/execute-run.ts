import { rmSync } from 'node:fs';
import type { RunConfig } from '../config/run-config';
import type { MnistData } from '../data/mnist';
import { DamagedFileError } from '../io/sealed-json';
import { disposeModel } from '../model/model';
import { trainRun, type TrainHooks } from '../training/run';
import { loadRun } from '../training/load-run';
import { readRunCheckpoint, runFiles as trainingFiles } from '../training/run-dir';
import { CheckpointError } from '../training/checkpoint';
import { evaluateFinal } from './final-evaluation';
import { fileSha256, inspectRun, readFinalRecord, runFile, writeFinalRecord, writeRunOutcome, type FinalRecord, type RunOutcome } from './run-dir';
import { runId } from './run-id';

export type { FinalRecord } from './run-dir';

export interface ExecuteRunHooks extends TrainHooks {
  /** During the final evaluation: units of work done (images x samples) out of `total`. */
  onEvaluation?(done: number, total: number): void;
}

export interface ExecuteRunOptions {
  /** Train a run whose checkpoint is damaged, foreign or of an older version again from scratch (see trainRun). */
  restartBadCheckpoint?: boolean;
}

/**
 * Brings one run to its outcome, resuming wherever an earlier attempt stopped: trainRun (resumes from its
 * last epoch checkpoint; returns at once when training is done, rewriting metrics.jsonl from the
 * checkpoint), then the final evaluation unless a valid final.json of this run exists (written
 * atomically: a kill during the evaluation redoes only the evaluation), then status.json. A recorded
 * outcome whose files no longer match it (inspectRun) is repaired the same way, from the checkpoint.
 * The caller must hold the run's lock.
 */
export async function executeRun(config: RunConfig, data: MnistData, runDir: string, hooks: ExecuteRunHooks = {}, options: ExecuteRunOptions = {}): Promise<RunOutcome> {
  const id = runId(config);
  const inspection = inspectRun(runDir, id);
  if (inspection.outcome && !inspection.problem) return inspection.outcome;
  if (inspection.problem && !inspection.repairable) throw new DamagedFileError(runDir, `${inspection.problem}; no checkpoint to rebuild it from`);
  if (options.restartBadCheckpoint && hasBadCheckpoint(runDir, config)) {
    // Training starts over: the outcome goes first, so a kill from here on leaves a run without one.
    for (const file of ['status', 'final'] as const) rmSync(runFile(runDir, file), { force: true });
  }
  const result = await trainRun(config, data, runDir, hooks, { restartBadCheckpoint: options.restartBadCheckpoint });
  if (result.status === 'failed') {
    const failure = result.failure ?? { epoch: 0, step: 0, term: 'bound' as const, message: 'training failed without a diagnostic' };
    return writeRunOutcome(runDir, id, { status: 'failed', failure });
  }
  const checkpointSha256 = fileSha256(trainingFiles(runDir).checkpoint);
  if (validFinalRecord(runDir, id)?.checkpointSha256 !== checkpointSha256) {
    const started = performance.now();
    const { model } = loadRun(runDir);
    try {
      const evaluation = evaluateFinal(model, config, data, result.epochs[result.epochs.length - 1], hooks.onEvaluation);
      writeFinalRecord(runDir, { ...evaluation, runId: id, checkpointSha256, evaluationSeconds: (performance.now() - started) / 1000 });
    } finally {
      disposeModel(model);
    }
  }
  return writeRunOutcome(runDir, id, { status: 'completed' });
}

/** Whether the run's checkpoint is there but cannot be resumed (damaged, foreign, older version). */
function hasBadCheckpoint(runDir: string, config: RunConfig): boolean {
  try {
    readRunCheckpoint(runDir, config);
    return false;
  } catch (err) {
    if (err instanceof CheckpointError) return true;
    throw err;
  }
}

/** This run's final.json if present and intact; a damaged or foreign one is replaced by recomputing it. */
function validFinalRecord(runDir: string, id: string): FinalRecord | null {
  try {
    return readFinalRecord(runDir, id);
  } catch (err) {
    if (err instanceof DamagedFileError) return null;
    throw err;
  }
}

/**
 * Forgets a recorded failure (`--retry-failed`), so the next executeRun trains again from the last good
 * checkpoint (trainRun keeps the one before the NaN). Caller holds the lock.
 */
export function clearFailure(runDir: string): void {
  rmSync(runFile(runDir, 'status'), { force: true });
  rmSync(trainingFiles(runDir).failure, { force: true });
}
