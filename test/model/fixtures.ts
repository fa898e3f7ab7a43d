import * as tf from '@tensorflow/tfjs-node';
import { createStream } from '../../lib/random/streams';

/** `rows` random 0/1 images of `pixels` pixels (each pixel on with probability 0.3), as nested arrays. */
export function randomImages(rows: number, pixels: number, seed: number): number[][] {
  const stream = createStream(seed, 'test-images');
  return Array.from({ length: rows }, () => Array.from({ length: pixels }, () => (stream.uniform() < 0.3 ? 1 : 0)));
}

/** [batch][k][latent] standard normals (float32-representable, so tfjs and the reference see the same). */
export function randomNoise(batch: number, k: number, latent: number, seed: number): number[][][] {
  const values = createStream(seed, 'test-noise').fillNormal(new Float32Array(batch * k * latent));
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: k }, (_, i) => Array.from(values.subarray((b * k + i) * latent, (b * k + i + 1) * latent))),
  );
}

export const asTensor2d = (x: number[][]) => tf.tensor2d(x, undefined, 'float32');
export const asTensor3d = (n: number[][][]) => tf.tensor3d(n, undefined, 'float32');
