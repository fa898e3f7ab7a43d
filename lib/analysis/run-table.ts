import type { RunRecord } from '../experiments/results';

/** One finished run as a flat row: the unit of every table, test and figure of the analysis. */
export interface RunRow {
  id: string;
  model: string;
  k: number;
  init: string;
  seed: number;
  epochs: number;
  /** Last epoch, as the study logged it (active units on the training and the test set). */
  activeUnitsTrain: number;
  activeUnitsTest: number;
  trainLoss: number;
  testLoss: number;
  testStudyLoss: number;
  testRecon: number;
  testKL: number;
  /** Final evaluation: -L_k at the training k, and the NLL estimate -L_finalK (nats) and its k, on the same images. */
  finalBound: number;
  nll: number;
  finalK: number;
  /** A_u of every unit on the training set at the last epoch. */
  activityTrain: number[];
}

/** Flattens the completed runs of a results directory into rows (incomplete and failed runs are left out). */
export function runRows(records: readonly RunRecord[]): RunRow[] {
  const rows: RunRow[] = [];
  for (const r of records) {
    if (r.status !== 'completed' || !r.config || !r.final || r.epochs.length === 0) continue;
    const last = r.epochs[r.epochs.length - 1];
    rows.push({
      id: r.id,
      model: r.config.model,
      k: r.config.k,
      init: r.config.init,
      seed: r.config.seed,
      epochs: last.epoch,
      activeUnitsTrain: last.activeUnitsTrain,
      activeUnitsTest: last.activeUnitsTest,
      trainLoss: last.trainLoss,
      testLoss: last.testLoss,
      testStudyLoss: last.testStudyLoss,
      testRecon: last.testRecon,
      testKL: last.testKL,
      finalBound: r.final.negativeBounds.find((b) => b.k === r.config!.k)?.value ?? NaN,
      nll: r.final.nll,
      finalK: r.final.finalK,
      activityTrain: last.activityTrain,
    });
  }
  return rows;
}

/** A short label for a (model, k) pair, e.g. "IWAE k=5". */
export function modelLabel(model: string, k: number): string {
  const name = model === 'vae-sampled-kl' ? 'VAE (sampled KL)' : model.toUpperCase();
  return `${name} k=${k}`;
}
