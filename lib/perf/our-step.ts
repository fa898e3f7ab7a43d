import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { batches } from '../data/batches';
import type { MnistSplit } from '../data/mnist';
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

/** Grey images the bench draws batches from: as many as the PyTorch reference's (bench/reference.py). */
const BENCH_IMAGES = 6000;

/**
 * Our training iteration exactly as the training loop runs it (lib/training/run.ts): the next batch of
 * the epoch from the data pipeline (shuffled, dynamically binarized in JS), noise drawn in JS from the
 * run's noise stream, `trainStep` (fast gradient + fused Adam), loss values read back. The images have
 * MNIST's mix of pixel values (`greyImages`), as the PyTorch references' do.
 */
export class OurStep {
  private readonly model: Model;
  private readonly adam: FlatAdam;
  private readonly noise: RandomStream;
  private readonly order: RandomStream;
  private readonly binarization: RandomStream;
  private readonly split: MnistSplit;
  private epoch: Generator<tf.Tensor2D>;

  constructor(readonly setting: StepSetting) {
    const { seed } = setting;
    this.model = initModel(STUDY_ARCHITECTURE, 'xavier-uniform', createStream(seed, 'init'));
    this.adam = new FlatAdam(this.model.layout.size, { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 });
    this.noise = createStream(seed, 'noise');
    this.order = createStream(seed, 'data-order');
    this.binarization = createStream(seed, 'binarization');
    // Whole batches only (as the reference's DataLoader with drop_last): every timed step has `batch` images.
    this.split = greyImages(Math.floor(BENCH_IMAGES / setting.batch) * setting.batch, createStream(seed, 'data'));
    this.epoch = this.nextEpoch();
  }

  /** One iteration; returns the loss (so a caller can check it trains). */
  step(): number {
    const { objective, k, batch } = this.setting;
    let next = this.epoch.next();
    if (next.done) {
      this.epoch = this.nextEpoch();
      next = this.epoch.next();
    }
    const x = next.value as tf.Tensor2D;
    const noise = normalNoise(this.noise, batch, k, STUDY_ARCHITECTURE.latent);
    try {
      return trainStep(this.model, this.adam, objective, x, noise, 1e-3).loss;
    } finally {
      x.dispose();
      noise.dispose();
    }
  }

  private nextEpoch(): Generator<tf.Tensor2D> {
    return batches(this.split, { batchSize: this.setting.batch, order: this.order, binarizer: { kind: 'dynamic', stream: this.binarization } });
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
    this.epoch.return(undefined);
    disposeModel(this.model);
    this.adam.dispose();
  }
}

/**
 * `count` images with MNIST's mix of pixel values (training set: 80.9 % are 0, 0.7 % are 255, 18.5 %
 * grey), which is what binarization's cost depends on: only grey pixels draw a random number.
 */
function greyImages(count: number, stream: RandomStream): MnistSplit {
  const u = stream.fillUniform(new Float32Array(2 * count * STUDY_ARCHITECTURE.input));
  const images = new Uint8Array(count * STUDY_ARCHITECTURE.input);
  for (let i = 0; i < images.length; i++) {
    const v = u[2 * i];
    images[i] = v < 0.809 ? 0 : v < 0.816 ? 255 : 1 + Math.floor(u[2 * i + 1] * 254);
  }
  return { images, labels: new Uint8Array(count), count };
}
