import * as tf from '@tensorflow/tfjs-node';
import { execFileSync } from 'node:child_process';
import { defaultPoolEnvironment } from '../env/tensorflow-threads';
import type { Architecture } from '../model/architecture';

/**
 * Multiply-add FLOPs (2 per multiply-add) of one training step's matrix products: the forward pass
 * (encoder on `batch` rows, decoder on batch * k rows), the weight gradients (same shapes again) and the
 * input gradients of every layer but the encoder's first (x needs none). Elementwise work is left out:
 * it is <1% of this. The study's setting (batch 20, k = 5) is ~144 MFLOP.
 */
export function stepFlops(architecture: Architecture, batch: number, k: number): number {
  const { input, hidden, latent } = architecture;
  const products = (sizes: number[]) => sizes.slice(1).reduce((sum, fanOut, i) => sum + sizes[i] * fanOut, 0);
  const encoder = products([input, ...hidden, 2 * latent]);
  const decoder = products([latent, ...[...hidden].reverse(), input]);
  const forward = 2 * batch * encoder + 2 * batch * k * decoder;
  const firstLayerInputGradient = 2 * batch * input * hidden[0];
  return 3 * forward - firstLayerInputGradient;
}

/**
 * This machine's float32 matmul rate in GFLOP/s through the same TensorFlow: median of `repeats` products
 * of two [size, size] matrices (large enough that per-op overhead is negligible), after one warm-up.
 */
export function measureMatMulGflops(size = 1024, repeats = 9): number {
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2) as tf.Tensor2D;
  try {
    const once = () => {
      const start = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync(); // eager ops are synchronous already; reading makes sure the product is done
      c.dispose();
      return performance.now() - start;
    };
    once();
    const times = Array.from({ length: repeats }, once).sort((x, y) => x - y);
    const ms = times[Math.floor(repeats / 2)];
    return (2 * size ** 3) / (ms * 1e6);
  } finally {
    a.dispose();
    b.dispose();
  }
}

/**
 * The machine's matmul rate, every core working: `measureMatMulGflops` in a child process with
 * TensorFlow's default pools. The calling process cannot measure it itself when it trains with one
 * TensorFlow thread (lib/env/tensorflow-threads.ts): its rate would be one core's, and the floor would
 * not be the machine's.
 */
export function measureMachineMatMulGflops(env: NodeJS.ProcessEnv): number {
  const script = `process.stdout.write(String(require(${JSON.stringify(__filename)}).measureMatMulGflops()))`;
  const out = execFileSync(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], {
    env: { ...defaultPoolEnvironment(env), TF_CPP_MIN_LOG_LEVEL: '2' },
    encoding: 'utf8',
    // TensorFlow's start-up banner goes to stderr.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const gflops = Number(out.trim());
  if (!(gflops > 0)) throw new Error(`the matmul-rate process printed '${out.trim()}', not a rate`);
  return gflops;
}

/** Multiply-add FLOPs of the encoder's forward pass on one image (784-200-200-(2 x 50): ~0.43 M). */
export function encoderForwardFlops(architecture: Architecture): number {
  const { input, hidden, latent } = architecture;
  return 2 * productsOf([input, ...hidden, 2 * latent]);
}

/** Multiply-add FLOPs of the decoder's forward pass on one sample (50-200-200-784: ~0.41 M). */
export function decoderForwardFlops(architecture: Architecture): number {
  const { input, hidden, latent } = architecture;
  return 2 * productsOf([latent, ...[...hidden].reverse(), input]);
}

/**
 * Matrix-product FLOPs of L_k on `images` images (the final evaluation: one encoder pass per image,
 * k decoder passes): 10,000 images at k = 5000 are ~20.7 TFLOP.
 */
export function boundFlops(architecture: Architecture, images: number, k: number): number {
  return images * (encoderForwardFlops(architecture) + k * decoderForwardFlops(architecture));
}

/**
 * Matrix-product FLOPs of one run-epoch's passes: the test objective at k on `testImages` (encoder and
 * k decoder passes per image) and the active-unit pass on `trainImages` (encoder only): ~0.05 TFLOP at
 * k = 5 on MNIST's 10,000 and 60,000.
 */
export function epochPassFlops(architecture: Architecture, k: number, testImages: number, trainImages: number): number {
  return boundFlops(architecture, testImages, k) + trainImages * encoderForwardFlops(architecture);
}

function productsOf(sizes: readonly number[]): number {
  return sizes.slice(1).reduce((sum, fanOut, i) => sum + sizes[i] * fanOut, 0);
}
