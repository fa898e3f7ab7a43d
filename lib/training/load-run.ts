import * as tf from '@tensorflow/tfjs-node';
import type { RunConfig } from '../config/run-config';
import { parameterLayout, type Architecture } from '../model/architecture';
import { DeviceSplit } from '../data/device-split';
import type { MnistSplit } from '../data/mnist';
import type { ActiveUnits } from '../model/activity';
import { modelFromParameters, type Model } from '../model/model';
import { packStack, stackLayout } from '../model/stack';
import type { Checkpoint } from './checkpoint';
import { boundLadder, type BoundEstimate, type StackWeights } from './evaluate';
import { assertTrainedRunDir, readRunCheckpoint, readRunConfig } from './run-dir';

/**
 * A trained run, ready for evaluation: its config, its model (caller disposes) and its checkpoint,
 * verified and checked to belong to that config (CheckpointError otherwise).
 */
export function loadRun(dir: string): { config: RunConfig; model: Model; checkpoint: Checkpoint } {
  const { config, checkpoint } = readTrainedRun(dir);
  const model = modelFromParameters(parameterLayout(checkpoint.architecture), checkpoint.parameters);
  return { config, model, checkpoint };
}

/** A trained run's config and verified checkpoint, without building a model (the stacked passes take the parameters). */
export function readTrainedRun(dir: string): { config: RunConfig; checkpoint: Checkpoint } {
  assertTrainedRunDir(dir);
  const config = readRunConfig(dir) as RunConfig;
  return { config, checkpoint: readRunCheckpoint(dir, config) as Checkpoint };
}

/** The weights of runs of one architecture as a stack, for the evaluation passes (caller disposes `params`). */
export function stackWeights(architecture: Architecture, parameters: readonly Float32Array[]): StackWeights {
  const layout = stackLayout(architecture, parameters.length);
  const flat = packStack(layout, parameters);
  return { layout, params: layout.blocks.map((b) => tf.tensor1d(flat.subarray(b.offset, b.offset + layout.runs * b.spec.size), 'float32')) };
}

/**
 * L_k of a trained run for each k of `ks` on `split`, and the active units on the same bits: the final
 * evaluation's function and streams (boundLadder), so k = 5000 on the run's finalTestSize images is
 * final.json's NLL.
 */
export function runBounds(dir: string, split: MnistSplit, ks: readonly number[], onProgress?: (done: number, total: number) => void): { bounds: BoundEstimate[]; activeUnits: ActiveUnits } {
  const { config, checkpoint } = readTrainedRun(dir);
  const device = new DeviceSplit(split);
  const weights = stackWeights(checkpoint.architecture, [checkpoint.parameters]);
  try {
    return boundLadder(weights, device, ks, [config.seed], { activeUnitThreshold: config.evaluation.activeUnitThreshold, onProgress })[0];
  } finally {
    for (const p of weights.params) p.dispose();
    device.dispose();
  }
}
