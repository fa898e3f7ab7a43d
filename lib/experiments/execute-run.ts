import { rmSync } from 'node:fs';
import type { RunConfig } from '../config/run-config';
import type { MnistData } from '../data/mnist';
import { DamagedFileError } from '../io/sealed-json';
import { PIXELS } from '../data/shape';
import { trainStack, type StackHooks } from '../training/train';
import { stackWeights } from '../training/load-run';
import { readRunCheckpoint, runFiles as trainingFiles } from '../training/run-dir';
import { CheckpointError } from '../training/checkpoint';
import type { EpochMetrics } from '../training/metrics';
import { evaluateFinal } from './final-evaluation';
import { fileSha256, inspectRun, readFinalRecord, runFile, writeFinalRecord, writeRunOutcome, type FinalRecord, type RunOutcome } from './run-dir';
import { runId } from './run-id';
import { ensureRunWeights } from './run-weights';

export type { FinalRecord } from './run-dir';

export interface ExecuteHooks extends StackHooks {
  /** During the final evaluation: units of work done (images x samples, all runs) out of `total`. */
  onEvaluation?(done: number, total: number): void;
}

export interface ExecuteOptions {
  /** Train a run whose checkpoint is damaged, foreign or of an older version again from scratch (see trainStack). */
  restartBadCheckpoint?: boolean;
}

/** What became of one run of a stack: its outcome, or an error that left it without one. */
export type ExecuteResult = { id: string; outcome: RunOutcome } | { id: string; error: Error };

/**
 * Brings the runs of a stack to their outcomes, resuming wherever an earlier attempt stopped:
 * trainStack (each run resumes from its last epoch checkpoint; a run whose training is done returns at
 * once, its metrics.jsonl rewritten from its checkpoint), then the final evaluation of every completed
 * run without a valid final.json (all of them as one stack; final.json is written atomically and tied
 * to the checkpoint's digest, so a kill during the evaluation redoes only the evaluation), then each
 * status.json (a run that diverges gets its own at once, while the others train on). A recorded outcome whose files no longer match it (inspectRun) is repaired the same way,
 * from the checkpoint. Last, every completed run gets its float16 weights (run-weights.ts). One run's
 * error (a damaged file) leaves the others going. The caller holds every run's lock.
 */
export async function executeStack(configs: readonly RunConfig[], runDirs: readonly string[], data: MnistData, hooks: ExecuteHooks = {}, options: ExecuteOptions = {}): Promise<ExecuteResult[]> {
  const results: ExecuteResult[] = new Array(configs.length);
  const toTrain: number[] = [];
  configs.forEach((config, i) => {
    const id = runId(config);
    const runDir = runDirs[i];
    const inspection = inspectRun(runDir, id);
    if (inspection.outcome && !inspection.problem) {
      results[i] = { id, outcome: inspection.outcome };
      return;
    }
    if (inspection.problem && !inspection.repairable) {
      results[i] = { id, error: new DamagedFileError(runDir, `${inspection.problem}; no checkpoint to rebuild it from`) };
      return;
    }
    if (options.restartBadCheckpoint && hasBadCheckpoint(runDir, config)) {
      // Training starts over: the outcome goes first, so a kill from here on leaves a run without one.
      for (const file of ['status', 'final'] as const) rmSync(runFile(runDir, file), { force: true });
    }
    toTrain.push(i);
  });
  const trained = await trainStack(toTrain.map((i) => ({ config: configs[i], runDir: runDirs[i] })), data, {
    onStep: hooks.onStep,
    onEpoch: (r, m) => hooks.onEpoch?.(toTrain[r], m),
    // A diverged run's outcome is written at once, not when its stack ends: it can be shipped while the others train.
    onFailure: (r, failure) => {
      const i = toTrain[r];
      const id = runId(configs[i]);
      results[i] = { id, outcome: writeRunOutcome(runDirs[i], id, { status: 'failed', failure }) };
      hooks.onFailure?.(i, failure);
    },
  }, { restartBadCheckpoint: options.restartBadCheckpoint });
  const toEvaluate: Array<{ i: number; checkpointSha256: string; lastEpoch: EpochMetrics }> = [];
  trained.forEach((result, t) => {
    const i = toTrain[t];
    const id = runId(configs[i]);
    if (result.status === 'error') {
      results[i] = { id, error: result.error };
    } else if (result.status === 'failed') {
      if (results[i]) return; // written when it failed (onFailure)
      const failure = result.failure ?? { epoch: 0, step: 0, term: 'bound' as const, message: 'training failed without a diagnostic' };
      results[i] = { id, outcome: writeRunOutcome(runDirs[i], id, { status: 'failed', failure }) };
    } else {
      const checkpointSha256 = fileSha256(trainingFiles(runDirs[i]).checkpoint);
      if (validFinalRecord(runDirs[i], id)?.checkpointSha256 === checkpointSha256) results[i] = { id, outcome: writeRunOutcome(runDirs[i], id, { status: 'completed' }) };
      else toEvaluate.push({ i, checkpointSha256, lastEpoch: result.epochs[result.epochs.length - 1] });
    }
  });
  if (toEvaluate.length > 0) {
    const started = performance.now();
    const checkpoints = toEvaluate.map(({ i }) => readRunCheckpoint(runDirs[i], configs[i])!);
    const weights = stackWeights({ input: PIXELS, ...configs[toEvaluate[0].i].architecture }, checkpoints.map((c) => c.parameters));
    try {
      const evaluations = evaluateFinal(weights, toEvaluate.map(({ i }) => configs[i]), data, toEvaluate.map((e) => e.lastEpoch), hooks.onEvaluation);
      // The stack's evaluation time, shared by its runs.
      const evaluationSeconds = (performance.now() - started) / 1000;
      toEvaluate.forEach(({ i, checkpointSha256 }, e) => {
        const id = runId(configs[i]);
        writeFinalRecord(runDirs[i], { ...evaluations[e], runId: id, checkpointSha256, evaluationSeconds });
        results[i] = { id, outcome: writeRunOutcome(runDirs[i], id, { status: 'completed' }) };
      });
    } finally {
      for (const p of weights.params) p.dispose();
    }
  }
  // Last, and for runs completed earlier too: the float16 copy of the final weights that ships with results.
  results.forEach((result, i) => {
    if (!('outcome' in result) || result.outcome.status !== 'completed') return;
    try {
      ensureRunWeights(runDirs[i], configs[i], result.id);
    } catch (err) {
      if (!(err instanceof DamagedFileError)) throw err;
      results[i] = { id: result.id, error: err };
    }
  });
  return results;
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
 * Forgets a recorded failure (`--retry-failed`), so the next executeStack trains again from the last
 * good checkpoint (training keeps the one before the NaN). Caller holds the lock.
 */
export function clearFailure(runDir: string): void {
  rmSync(runFile(runDir, 'status'), { force: true });
  rmSync(trainingFiles(runDir).failure, { force: true });
}
