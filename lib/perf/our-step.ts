import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { STUDY_ARCHITECTURE } from '../model/architecture';
import { disposeModel, initModel, type Model } from '../model/model';
import { normalNoise } from '../model/noise';
import { createStream, type RandomStream } from '../random/streams';
import { FlatAdam } from '../training/adam';
import { trainStep } from '../training/step';
import { countTensorFlowOps } from './op-count';

export interface StepSetting {
  objective: ModelName;
  k: number;
  batch: number;
  seed: number;
}

/**
 * Our training step exactly as the training loop runs it (lib/training/run.ts): noise drawn in JS from
 * the run's noise stream, `trainStep` (fast gradient + fused Adam), loss values read back. The batches
 * are a few fixed binarized-looking images made once, like the PyTorch reference's: the data pipeline is
 * not part of the comparison (bench/batches.ts times it: well under 1 ms per batch).
 */
export class OurStep {
  private readonly model: Model;
  private readonly adam: FlatAdam;
  private readonly noise: RandomStream;
  private readonly batches: tf.Tensor2D[];
  private count = 0;

  constructor(readonly setting: StepSetting) {
    const { batch, seed } = setting;
    this.model = initModel(STUDY_ARCHITECTURE, 'xavier-uniform', createStream(seed, 'init'));
    this.adam = new FlatAdam(this.model.layout.size, { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 });
    this.noise = createStream(seed, 'noise');
    const data = createStream(seed, 'data');
    this.batches = Array.from({ length: 8 }, () => {
      const u = data.fillUniform(new Float32Array(batch * STUDY_ARCHITECTURE.input));
      return tf.tensor2d(u.map((v) => (v < 0.13 ? 1 : 0)), [batch, STUDY_ARCHITECTURE.input]);
    });
  }

  /** One step; returns the loss (so a caller can check it trains). */
  step(): number {
    const { objective, k, batch } = this.setting;
    const noise = normalNoise(this.noise, batch, k, STUDY_ARCHITECTURE.latent);
    try {
      return trainStep(this.model, this.adam, objective, this.batches[this.count++ % this.batches.length], noise, 1e-3).loss;
    } finally {
      noise.dispose();
    }
  }

  /** Milliseconds of each of `n` steps. */
  time(n: number): number[] {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      this.step();
      ms.push(performance.now() - start);
    }
    return ms;
  }

  /** TensorFlow ops one step executes. */
  opsPerStep(): number {
    return countTensorFlowOps(() => this.step()).ops;
  }

  dispose(): void {
    this.batches.forEach((x) => x.dispose());
    disposeModel(this.model);
    this.adam.dispose();
  }
}
