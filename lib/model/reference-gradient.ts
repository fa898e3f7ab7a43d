import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import type { Model } from './model';
import { unpackNetwork } from './network';
import { estimatorSurrogate, MODEL_ESTIMATORS, objectiveValues } from './objectives';

/**
 * The loss and its gradient with respect to one run's flat parameters, by autograd through
 * `objectiveValues` (objectives.ts): the straightforward reference. Gradient checks test it against
 * finite differences (test/model/gradients.test.ts, test/model/estimators-gradient.test.ts), and the
 * fast stacked path (fast-gradient.ts) against it; training asks it when the fast path's values are not
 * finite (it is exact where the fast path's log-sigmoid underflows). A gradient-estimator model
 * ('iwae-stl', 'iwae-dreg', 'vae-stl') reports its loss and gets the gradient of `estimatorSurrogate`.
 * `noise` is batch-major [batch, k, latent]; `values` is [loss, reconstruction, kl]. The caller disposes
 * both tensors.
 */
export function lossAndGradient(model: Model, objective: ModelName, x: tf.Tensor2D, noise: tf.Tensor3D): { values: tf.Tensor1D; gradient: tf.Tensor1D } {
  if (MODEL_ESTIMATORS[objective].gradient !== 'full') return estimatorLossAndGradient(model, objective, x, noise);
  return tf.tidy(() => {
    let reported: tf.Tensor1D | null = null;
    const { value, grad } = tf.valueAndGrad((flat: tf.Tensor1D) => {
      const o = objectiveValues(objective, unpackNetwork(flat, model.layout), x, noise);
      // Kept past the gradient's internal tidy; not on the loss's path, so it costs no backward ops.
      reported = tf.keep(tf.stack([o.reconstruction, o.kl]) as tf.Tensor1D);
      return o.loss;
    })(model.params);
    const aux = reported as unknown as tf.Tensor1D;
    const values = tf.concat([tf.reshape(value, [1]), aux]) as tf.Tensor1D;
    aux.dispose(); // kept tensors are never freed by a tidy
    return { values, gradient: grad as tf.Tensor1D };
  });
}

/** `lossAndGradient` of a gradient-estimator model: the base objective's values, the surrogate's gradient. */
function estimatorLossAndGradient(model: Model, objective: ModelName, x: tf.Tensor2D, noise: tf.Tensor3D): { values: tf.Tensor1D; gradient: tf.Tensor1D } {
  return tf.tidy(() => {
    let reported: tf.Tensor1D | null = null;
    const grad = tf.grad((flat: tf.Tensor) => {
      const network = unpackNetwork(flat as tf.Tensor1D, model.layout);
      const o = objectiveValues(objective, network, x, noise);
      // Kept past the gradient's internal tidy; off the surrogate's path, so it costs no backward ops.
      reported = tf.keep(tf.stack([o.loss, o.reconstruction, o.kl]) as tf.Tensor1D);
      return estimatorSurrogate(objective, network, x, noise);
    })(model.params);
    const kept = reported as unknown as tf.Tensor1D;
    const values = tf.clone(kept);
    kept.dispose(); // kept tensors are never freed by a tidy
    return { values, gradient: grad as tf.Tensor1D };
  });
}

/** Sample-major noise ([k * batch, latent], row i * batch + b) as the batch-major [batch, k, latent] objectives.ts takes. */
export function batchMajorNoise(sampleMajor: Float32Array, batch: number, k: number, latent: number): Float32Array {
  if (sampleMajor.length !== batch * k * latent) throw new RangeError(`noise has ${sampleMajor.length} values, expected ${batch} x ${k} x ${latent}`);
  const out = new Float32Array(sampleMajor.length);
  for (let i = 0; i < k; i++) {
    for (let b = 0; b < batch; b++) out.set(sampleMajor.subarray((i * batch + b) * latent, (i * batch + b + 1) * latent), (b * k + i) * latent);
  }
  return out;
}
