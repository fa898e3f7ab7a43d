import type { ModelName } from '../config/run-config';
import type { MnistSplit } from '../data/mnist';
import { STUDY_ARCHITECTURE } from '../model/architecture';
import { disposeModel, initModel, type Model } from '../model/model';
import { createStream, type RandomStream } from '../random/streams';
import { FlatAdam } from '../training/adam';
import { openTrainingFeed, type FeedKind, type StepInput, type TrainingFeed } from '../training/feed';
import { trainStep } from '../training/step';
import { countTensorFlowOps } from './op-count';

export interface StepSetting {
  objective: ModelName;
  k: number;
  batch: number;
  seed: number;
  /** Where batches and noise come from (default 'thread', as training runs). */
  feed?: FeedKind;
}

/** Grey images the bench draws batches from: as many as the PyTorch reference's (bench/reference.py). */
const BENCH_IMAGES = 6000;

/**
 * Our training iteration exactly as the training loop runs it (lib/training/run.ts): the next step's
 * inputs from the training feed (shuffled, dynamically binarized batch and noise from the run's streams,
 * made ahead in the feed's worker thread), `trainStep` (fast gradient + fused Adam), loss values read
 * back. The images have MNIST's mix of pixel values (`greyImages`), as the PyTorch references' do.
 */
export class OurStep {
  private readonly model: Model;
  private readonly adam: FlatAdam;
  private readonly feed: TrainingFeed;
  private epoch: Generator<StepInput>;

  constructor(readonly setting: StepSetting) {
    const { seed } = setting;
    this.model = initModel(STUDY_ARCHITECTURE, 'xavier-uniform', createStream(seed, 'init'));
    this.adam = new FlatAdam(this.model.layout.size, { beta1: 0.9, beta2: 0.999, epsilon: 1e-4 });
    // Whole batches only (as the reference's DataLoader with drop_last): every timed step has `batch` images.
    const split = greyImages(Math.floor(BENCH_IMAGES / setting.batch) * setting.batch, createStream(seed, 'data'));
    this.feed = openTrainingFeed(setting.feed ?? 'thread', split, { batchSize: setting.batch, k: setting.k, latent: STUDY_ARCHITECTURE.latent }, {
      order: createStream(seed, 'data-order'),
      binarizer: { kind: 'dynamic', stream: createStream(seed, 'binarization') },
      noise: createStream(seed, 'noise'),
    });
    this.epoch = this.feed.epoch();
  }

  /** One iteration; returns the loss (so a caller can check it trains). */
  step(): number {
    let next = this.epoch.next();
    if (next.done) {
      this.epoch = this.feed.epoch();
      next = this.epoch.next();
    }
    const { x, noise } = next.value as StepInput;
    try {
      return trainStep(this.model, this.adam, this.setting.objective, x, noise, 1e-3).loss;
    } finally {
      x.dispose();
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
    this.epoch.return(undefined);
    this.feed.close();
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
