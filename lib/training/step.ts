import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../config/run-config';
import { fastLossAndGradient } from '../model/fast-gradient';
import type { Model } from '../model/model';
import { unpackNetwork } from '../model/network';
import { objectiveValues } from '../model/objectives';
import type { FlatAdam } from './adam';

/** Batch means of one step's objective, read before the update. */
export interface StepValues {
  loss: number;
  reconstruction: number;
  kl: number;
  /** False when any value is NaN or +-Inf; the update was then NOT applied. */
  finite: boolean;
}

/**
 * The loss and its gradient with respect to the flat parameters (autograd through one SplitV), as
 * tensors the caller disposes. The straightforward reference implementation: gradient checks test it
 * against finite differences, and the training step's fast path (lib/model/fast-gradient.ts) against it.
 */
export function lossAndGradient(
  model: Model,
  objective: ModelName,
  x: tf.Tensor2D,
  noise: tf.Tensor3D,
): { values: tf.Tensor1D; gradient: tf.Tensor1D } {
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

/**
 * One training step: objective on batch `x` ([batch, input] of 0/1) with reparameterization `noise`
 * ([batch, k, latent]), then an Adam update at `learningRate`, unless the loss is not finite (the
 * parameters then stay as they were, so a failed run keeps its last good state).
 * The gradient comes from the hand-written backward pass (`fastLossAndGradient`: ~3x fewer TensorFlow
 * kernels than autograd, same values within float32 rounding; test/model/fast-path.test.ts).
 */
export function trainStep(
  model: Model,
  optimizer: FlatAdam,
  objective: ModelName,
  x: tf.Tensor2D,
  noise: tf.Tensor3D,
  learningRate: number,
): StepValues {
  const fast = fastLossAndGradient(model, objective, x, noise);
  if (fast.gradient) {
    try {
      optimizer.apply(model.params, fast.gradient, learningRate);
      return fast.values;
    } finally {
      fast.gradient.dispose();
    }
  }
  // Not finite on the fast path: decide with the reference path, which is exact where the fast path's
  // log-sigmoid underflows (|logit| > 87). Rare (a failing run), so its cost does not matter.
  const { values, gradient } = lossAndGradient(model, objective, x, noise);
  try {
    const [loss, reconstruction, kl] = values.dataSync();
    const finite = Number.isFinite(loss) && Number.isFinite(reconstruction) && Number.isFinite(kl);
    if (finite) optimizer.apply(model.params, gradient, learningRate);
    return { loss, reconstruction, kl, finite };
  } finally {
    values.dispose();
    gradient.dispose();
  }
}
