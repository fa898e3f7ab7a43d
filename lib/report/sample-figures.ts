import type { MnistData } from '../data/mnist';
import { runSamples } from '../analysis/samples';
import type { RunRecord } from '../experiments/results';
import { modelLabel } from '../analysis/run-table';
import { imageGridFigure } from '../figures/study-figures';
import type { PlotlyFigure } from '../figures/types';
import { parameterLayout } from '../model/architecture';
import { disposeModel, modelFromParameters } from '../model/model';
import { hasDisplayWeights, readDisplayParameters, SHIPPED_WEIGHTS_SEED } from '../experiments/run-weights';

/**
 * The run whose samples the report shows: IWAE k=5 if there is one (the study's better model), else the
 * first completed run; only runs whose weights are here (checkpoint, or the float16 copy shipped with
 * results), seed 135 first; ties broken by id, so the choice is the same on every machine.
 */
export function representativeRun(records: readonly RunRecord[]): RunRecord | null {
  const completed = records.filter((r) => r.status === 'completed' && r.config && r.epochs.length > 0 && hasDisplayWeights(r.dir));
  // Seed 135 first: the seed whose weights ship with results, so a clone shows the same model as here.
  const ordered = [...completed.filter((r) => r.config!.seed === SHIPPED_WEIGHTS_SEED), ...completed.filter((r) => r.config!.seed !== SHIPPED_WEIGHTS_SEED)];
  return ordered.find((r) => r.config!.model === 'iwae' && r.config!.k === 5) ?? ordered[0] ?? null;
}

/** Reconstructions, prior samples and latent traversals of the most active units of one run. */
export function sampleFigures(record: RunRecord, data: MnistData, profileLabel: string): Record<string, PlotlyFigure> {
  const config = record.config!;
  const last = record.epochs[record.epochs.length - 1];
  const weights = readDisplayParameters(record.dir, config, record.id);
  if (!weights) throw new Error(`${record.id}: no weights to draw samples from (neither its checkpoint nor weights-f16.bin)`);
  const model = modelFromParameters(parameterLayout(weights.architecture), weights.parameters);
  let s: ReturnType<typeof runSamples>;
  try {
    s = runSamples(model, data, last.activityTrain, { count: 10, units: 5, seed: config.seed });
  } finally {
    disposeModel(model);
  }
  const precision = weights.precision === 'float16' ? ' (float16 weights)' : '';
  const who = `${modelLabel(config.model, config.k)}, ${config.init}, seed ${config.seed}, epoch ${last.epoch}${precision} · ${profileLabel}`;
  const pairs = new Float32Array(s.originals.length * 2);
  pairs.set(s.originals, 0);
  pairs.set(s.reconstructions, s.originals.length);
  return {
    'samples-reconstructions': imageGridFigure(pairs, 2 * s.count, s.count, 'Test digits (top) and their reconstructions p(x | z = posterior mean)', who),
    'samples-prior': imageGridFigure(s.priorSamples, s.count, s.count, 'Samples from the prior: Bernoulli means of p(x | z), z ~ N(0, I)', who),
    'samples-latent-traversals': imageGridFigure(
      s.traversalImages,
      s.traversals.length * s.traversalValues.length,
      s.traversalValues.length,
      `Latent traversals of the ${s.traversals.length} most active units (one unit z_u swept per row)`,
      who,
      // Which unit each row sweeps (and its activity), and the value of z_u in each column.
      { rows: s.traversals.map((t) => `unit ${t.unit} · A_u ${t.activity.toFixed(2)}`), columns: s.traversalValues.map((v) => `z_u = ${v}`) },
    ),
  };
}
