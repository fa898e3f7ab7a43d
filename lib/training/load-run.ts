import type { RunConfig } from '../config/run-config';
import { parameterLayout } from '../model/architecture';
import { modelFromParameters, type Model } from '../model/model';
import { readCheckpoint, type Checkpoint } from './checkpoint';
import { assertTrainedRunDir, readRunConfig, runFiles } from './run-dir';

/** A trained run, ready for evaluation: its config, its model (caller disposes) and its checkpoint. */
export function loadRun(dir: string): { config: RunConfig; model: Model; checkpoint: Checkpoint } {
  assertTrainedRunDir(dir);
  const config = readRunConfig(dir) as RunConfig;
  const files = runFiles(dir);
  const checkpoint = readCheckpoint(files.checkpoint);
  const layout = parameterLayout(checkpoint.architecture);
  const model = modelFromParameters(layout, checkpoint.parameters);
  return { config, model, checkpoint };
}
