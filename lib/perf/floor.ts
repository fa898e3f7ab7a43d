import * as tf from '@tensorflow/tfjs-node';
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
