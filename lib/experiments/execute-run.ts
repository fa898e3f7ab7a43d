import { rmSync } from 'node:fs';
import type { RunConfig } from '../config/run-config';
import type { MnistData } from '../data/mnist';
import { disposeModel } from '../model/model';
import { trainRun, type TrainHooks } from '../training/run';
import { loadRun } from '../training/load-run';
import { runFiles as trainingFiles } from '../training/run-dir';
import { readJsonIfExists, writeJsonAtomic } from '../io/atomic-file';
import { evaluateFinal, type FinalEvaluation } from './final-evaluation';
import { readRunOutcome, runFile, writeRunOutcome, type RunOutcome } from './run-dir';

/** final.json: the evaluation plus how long it took (wall clock, so named "seconds"). */
export type FinalRecord = FinalEvaluation & { evaluationSeconds: number };

export interface ExecuteRunHooks extends TrainHooks {
  /** During the final evaluation: units of work done (images x samples) out of `total`. */
  onEvaluation?(done: number, total: number): void;
}

/**
 * Brings one run to its outcome, resuming wherever an earlier attempt stopped: trainRun (resumes from its
 * last epoch checkpoint; returns at once when training is done), then the final evaluation unless
 * final.json exists (written atomically: a kill during the evaluation redoes only the evaluation), then
 * status.json. The caller must hold the run's lock.
 */
export async function executeRun(config: RunConfig, data: MnistData, runDir: string, hooks: ExecuteRunHooks = {}): Promise<RunOutcome> {
  const recorded = readRunOutcome(runDir);
  if (recorded) return recorded;
  const result = await trainRun(config, data, runDir, hooks);
  if (result.status === 'failed') {
    const failure = result.failure ?? { epoch: 0, step: 0, term: 'bound' as const, message: 'training failed without a diagnostic' };
    const outcome: RunOutcome = { status: 'failed', failure, finishedTime: new Date().toISOString() };
    writeRunOutcome(runDir, outcome);
    return outcome;
  }
  const finalPath = runFile(runDir, 'final');
  if (readJsonIfExists<FinalRecord>(finalPath) === null) {
    const started = performance.now();
    const { model } = loadRun(runDir);
    try {
      const evaluation = evaluateFinal(model, config, data, result.epochs[result.epochs.length - 1], hooks.onEvaluation);
      const record: FinalRecord = { ...evaluation, evaluationSeconds: (performance.now() - started) / 1000 };
      writeJsonAtomic(finalPath, record);
    } finally {
      disposeModel(model);
    }
  }
  const outcome: RunOutcome = { status: 'completed', finishedTime: new Date().toISOString() };
  writeRunOutcome(runDir, outcome);
  return outcome;
}

/**
 * Forgets a recorded failure (`--retry-failed`), so the next executeRun trains again from the last good
 * checkpoint (trainRun keeps the one before the NaN). Caller holds the lock.
 */
export function clearFailure(runDir: string): void {
  rmSync(runFile(runDir, 'status'), { force: true });
  rmSync(trainingFiles(runDir).failure, { force: true });
}
