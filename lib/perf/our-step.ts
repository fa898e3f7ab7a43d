import type { ModelName } from '../config/run-config';
import { parseRunConfig } from '../config/run-config';
import { DeviceSplit } from '../data/device-split';
import type { MnistSplit } from '../data/mnist';
import { STUDY_ARCHITECTURE, parameterLayout } from '../model/architecture';
import { initialParameters } from '../model/init';
import { counterStream } from '../random/counter-stream';
import { createStream, permutation, type RandomStream } from '../random/streams';
import { buildStack, disposeStack, stackStep, type LiveStack, type MemberDraws } from '../training/train';
import { countTensorFlowOps } from './op-count';

export interface StepSetting {
  objective: ModelName;
  k: number;
  batch: number;
  seed: number;
  /** Runs trained together as one stack (1: a run alone). */
  runs?: number;
}

/** Grey images the bench draws batches from: as many as the PyTorch reference's (bench/reference.py). */
const BENCH_IMAGES = 6000;

/**
 * Our training iteration exactly as the trainer runs it (lib/training/train.ts `stackStep`): for each run
 * of the stack its next shuffled batch, binarized and with noise from its counter-based streams, the
 * stacked fast gradient, one Adam update, loss values read back. The images have MNIST's mix of pixel
 * values (`greyImages`), as the PyTorch references' do.
 */
export class OurStep {
  private readonly stack: LiveStack;
  private readonly train: DeviceSplit;
  private readonly draws: Array<Pick<MemberDraws, 'binarization' | 'noise' | 'order'>>;
  private readonly config;
  private readonly perEpoch: number;
  private count = 0;

  constructor(readonly setting: StepSetting) {
    const { seed } = setting;
    const runs = setting.runs ?? 1;
    // Whole batches only (as the reference's DataLoader with drop_last): every timed step has `batch` images.
    const images = Math.floor(BENCH_IMAGES / setting.batch) * setting.batch;
    this.perEpoch = images / setting.batch;
    this.config = parseRunConfig({ model: setting.objective, k: setting.k, init: 'xavier-uniform', seed, epochs: 1, batchSize: setting.batch, trainSize: images });
    const layout = parameterLayout(STUDY_ARCHITECTURE);
    const members = Array.from({ length: runs }, (_, r) => ({
      config: this.config,
      parameters: initialParameters(layout, 'xavier-uniform', createStream(seed + r, 'init')),
      adam: { m: new Float32Array(layout.size), v: new Float32Array(layout.size), step: 0 },
    }));
    this.stack = buildStack(members);
    this.train = new DeviceSplit(greyImages(images, createStream(seed, 'bench-data')));
    this.draws = members.map((_, r) => ({
      binarization: { kind: 'dynamic', stream: counterStream(seed + r, 'binarization') },
      noise: counterStream(seed + r, 'noise'),
      order: Int32Array.from(permutation(images, createStream(seed + r, 'data-order', 1))),
    }));
  }

  /** One iteration of the stack; returns the first run's loss (so a caller can check it trains). */
  step(): number {
    const j = this.count % this.perEpoch;
    const { values } = stackStep(this.stack, this.config, this.train, this.draws, j, this.count, 1e-3);
    this.count += 1;
    return values[0].loss;
  }

  /** Milliseconds of each of `n` stack iterations. */
  time(n: number): number[] {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      this.step();
      ms.push(performance.now() - start);
    }
    return ms;
  }

  /** TensorFlow ops one stack iteration executes. */
  opsPerStep(): number {
    return countTensorFlowOps(() => this.step()).ops;
  }

  dispose(): void {
    disposeStack(this.stack);
    this.train.dispose();
  }
}

/**
 * `count` images with MNIST's mix of pixel values (training set: 80.9 % are 0, 0.7 % are 255, 18.5 %
 * grey).
 */
export function greyImages(count: number, stream: RandomStream): MnistSplit {
  const u = stream.fillUniform(new Float32Array(2 * count * STUDY_ARCHITECTURE.input));
  const images = new Uint8Array(count * STUDY_ARCHITECTURE.input);
  for (let i = 0; i < images.length; i++) {
    const v = u[2 * i];
    images[i] = v < 0.809 ? 0 : v < 0.816 ? 255 : 1 + Math.floor(u[2 * i + 1] * 254);
  }
  return { images, labels: new Uint8Array(count), count };
}
