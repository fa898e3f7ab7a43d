import * as tf from '@tensorflow/tfjs-node';
import type { RandomStream } from '../random/streams';

/**
 * [batch, k, latent] standard normals from `stream`, row-major (image, then sample, then unit). Made in JS
 * and uploaded as one tensor: cheaper than tf.randomNormal here, and reproducible from the stream state.
 */
export function normalNoise(stream: RandomStream, batch: number, k: number, latent: number): tf.Tensor3D {
  const values = stream.fillNormal(new Float32Array(batch * k * latent));
  return tf.tensor3d(values, [batch, k, latent], 'float32');
}
