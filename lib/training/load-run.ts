import type { RunConfig } from '../config/run-config';
import { parameterLayout } from '../model/architecture';
import { modelFromParameters, type Model } from '../model/model';
import type { Checkpoint } from './checkpoint';
import { assertTrainedRunDir, readRunCheckpoint, readRunConfig } from './run-dir';

/**
 * A trained run, ready for evaluation: its config, its model (caller disposes) and its checkpoint,
 * verified and checked to belong to that config (CheckpointError otherwise).
 */
export function loadRun(dir: string): { config: RunConfig; model: Model; checkpoint: Checkpoint } {
  assertTrainedRunDir(dir);
  const config = readRunConfig(dir) as RunConfig;
  const checkpoint = readRunCheckpoint(dir, config) as Checkpoint;
  const model = modelFromParameters(parameterLayout(checkpoint.architecture), checkpoint.parameters);
  return { config, model, checkpoint };
}
