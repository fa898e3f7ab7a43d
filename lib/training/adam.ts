import * as tf from '@tensorflow/tfjs-node';
import { ResourceVariable, resourceApplyAdam } from '../model/raw-ops';

export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Everything needed to continue Adam exactly: both moment vectors and the step count. */
export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

/**
 * Adam over ONE flat parameter vector, with PyTorch's formula (epsilon added to the bias-corrected
 * sqrt(v), which matters with the study's large epsilon 1e-4):
 *   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * The update is TensorFlow's fused ResourceApplyAdam on resource variables (lib/model/raw-ops.ts): one
 * pass over the 425k parameters instead of 13 elementwise kernels (~0.5 ms instead of ~1.5-2.4 ms per
 * step here). TensorFlow adds its epsilon to sqrt(v) itself; passing eps * sqrt(1 - b2^t) makes that
 * exactly PyTorch's update: lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps sqrt(1-b2^t)) is the line above.
 */
export class FlatAdam {
  private readonly m: ResourceVariable;
  private readonly v: ResourceVariable;
  /** The parameters the update runs on: set to the caller's vector before, read back after. */
  private readonly work: ResourceVariable;
  /** Held by the caller's variable during the update, so `work` owns its buffer alone (see `apply`). */
  private readonly standIn: tf.Tensor1D;
  /** The data the caller's variable got from the last update (while it still holds it, so does `work`). */
  private lastDataId: object | null = null;
  private stepCount: number;

  constructor(readonly size: number, readonly settings: AdamSettings, state?: AdamState) {
    if (state && (state.m.length !== size || state.v.length !== size)) {
      throw new RangeError(`Adam state has ${state.m.length}/${state.v.length} values, expected ${size}`);
    }
    const variable = (initial: Float32Array | undefined): ResourceVariable => {
      const value = initial ? tf.tensor1d(initial, 'float32') : tf.zeros([size], 'float32');
      try {
        return new ResourceVariable([size], value); // the variable keeps its own reference to the data
      } finally {
        value.dispose();
      }
    };
    this.m = variable(state?.m);
    this.v = variable(state?.v);
    this.work = new ResourceVariable([size]);
    this.standIn = tf.keep(tf.zeros([size], 'float32'));
    this.stepCount = state ? state.step : 0;
  }

  /** Steps taken so far (t in the bias corrections). */
  get step(): number {
    return this.stepCount;
  }

  /** One update of `params` in place with gradient `grad` at learning rate `learningRate`. */
  apply(params: tf.Variable<tf.Rank.R1>, grad: tf.Tensor1D, learningRate: number): void {
    if (grad.size !== this.size || params.size !== this.size) throw new RangeError(`expected ${this.size} parameters and gradients`);
    this.stepCount += 1;
    const t = this.stepCount;
    const { beta1, beta2, epsilon } = this.settings;
    const beta2Power = Math.pow(beta2, t);
    // TensorFlow updates a variable in place only when nothing else references its buffer; otherwise it
    // copies the 425k parameters first (~0.2 ms). `work` shares the caller's buffer (after the first step
    // it already holds it: `params` still has the tensor the last update gave it), so the caller's
    // variable briefly holds a stand-in and lets go of the buffer. A tensor someone else still holds on
    // the old parameters keeps them (TensorFlow then copies, as before).
    if (params.dataId !== this.lastDataId) this.work.assign(params);
    params.assign(this.standIn);
    try {
      resourceApplyAdam(
        this.work,
        this.m,
        this.v,
        { beta1Power: Math.pow(beta1, t), beta2Power, learningRate, beta1, beta2, epsilon: epsilon * Math.sqrt(1 - beta2Power) },
        grad,
      );
    } finally {
      // Even if the update failed, `params` must not keep the stand-in: it gets `work`'s values back.
      const result = this.work.read() as tf.Tensor1D;
      params.assign(result);
      result.dispose(); // `params` keeps the data
      this.lastDataId = params.dataId;
    }
  }

  /** Copies of both moments and the step count (for checkpoints). */
  state(): AdamState {
    const copy = (variable: ResourceVariable): Float32Array => {
      const value = variable.read();
      try {
        return value.dataSync().slice() as Float32Array;
      } finally {
        value.dispose();
      }
    };
    return { m: copy(this.m), v: copy(this.v), step: this.stepCount };
  }

  dispose(): void {
    for (const variable of [this.m, this.v, this.work]) variable.dispose();
    this.standIn.dispose();
  }
}
