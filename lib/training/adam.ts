import * as tf from '@tensorflow/tfjs-node';
import { filledConstant, ResourceVariable, resourceApplyAdam } from '../model/raw-ops';
import type { StackLayout } from '../model/stack';

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
 * A stack's parameters and Adam, with PyTorch's formula (epsilon added to the bias-corrected sqrt(v),
 * which matters with the study's large epsilon 1e-4):
 *   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
 *   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Each parameter block of the stack (one layer's weight or bias for every run, lib/model/stack.ts) is a
 * TensorFlow resource variable with its two moments, updated in place by one fused ResourceApplyAdam:
 * one pass per block, and the gradient blocks go straight in (no concatenation into one vector, which
 * cost a copy of every gradient per step). TensorFlow adds its epsilon to sqrt(v) itself; passing
 * eps * sqrt(1 - b2^t) makes that exactly PyTorch's update: lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) +
 * eps sqrt(1-b2^t)) is the line above. Every run of a stack is at the same step (same schedule).
 */
export class StackedAdam {
  private readonly blocks: Array<{ param: ResourceVariable; m: ResourceVariable; v: ResourceVariable; size: number; offset: number }>;
  private stepCount: number;

  constructor(
    readonly layout: StackLayout,
    readonly settings: AdamSettings,
    state: { parameters: Float32Array; adam: AdamState },
  ) {
    const { parameters, adam } = state;
    for (const [name, values] of [['parameters', parameters], ['m', adam.m], ['v', adam.v]] as const) {
      if (values.length !== layout.size) throw new RangeError(`${name} has ${values.length} values, the stack needs ${layout.size}`);
    }
    const variable = (values: Float32Array, offset: number, size: number): ResourceVariable => {
      const initial = tf.tensor1d(values.subarray(offset, offset + size), 'float32');
      try {
        return new ResourceVariable([size], initial); // the variable keeps its own reference to the data
      } finally {
        initial.dispose();
      }
    };
    this.blocks = layout.blocks.map(({ spec, offset }) => {
      const size = layout.runs * spec.size;
      return { param: variable(parameters, offset, size), m: variable(adam.m, offset, size), v: variable(adam.v, offset, size), size, offset };
    });
    this.stepCount = adam.step;
  }

  /** Steps taken so far (t in the bias corrections). */
  get step(): number {
    return this.stepCount;
  }

  /**
   * The parameter blocks, in the stack's vector order ([R * size] each). Dispose them (a tidy) before
   * the next `apply`: a block still read is copied by the update instead of updated in place.
   */
  parameters(): tf.Tensor1D[] {
    return this.blocks.map((b) => b.param.read() as tf.Tensor1D);
  }

  /** One update of every block with its gradient block (same order and sizes as `parameters`). */
  apply(gradients: readonly tf.Tensor1D[], learningRate: number): void {
    if (gradients.length !== this.blocks.length) throw new RangeError(`${gradients.length} gradient blocks for ${this.blocks.length} parameter blocks`);
    this.stepCount += 1;
    const t = this.stepCount;
    const { beta1, beta2, epsilon } = this.settings;
    const beta2Power = Math.pow(beta2, t);
    tf.tidy(() => {
      // The step's powers change every step; the learning rate and betas are reused constants.
      const [beta1Power, beta2PowerScalar, epsilonScalar] = [Math.pow(beta1, t), beta2Power, epsilon * Math.sqrt(1 - beta2Power)].map((value) => tf.scalar(value, 'float32'));
      const scalars = [beta1Power, beta2PowerScalar, filledConstant(learningRate, []), filledConstant(beta1, []), filledConstant(beta2, []), epsilonScalar];
      this.blocks.forEach((b, i) => resourceApplyAdam(b.param, b.m, b.v, scalars, gradients[i]));
    });
  }

  /** Copies of the parameters and both moments as stack vectors, and the step count (for checkpoints). */
  state(): { parameters: Float32Array; adam: AdamState } {
    return { parameters: this.vector((b) => b.param), adam: { m: this.vector((b) => b.m), v: this.vector((b) => b.v), step: this.stepCount } };
  }

  /** A copy of the parameters alone, as a stack vector. */
  parameterVector(): Float32Array {
    return this.vector((b) => b.param);
  }

  private vector(pick: (b: (typeof this.blocks)[number]) => ResourceVariable): Float32Array {
    const out = new Float32Array(this.layout.size);
    for (const b of this.blocks) {
      const value = pick(b).read();
      try {
        out.set(value.dataSync() as Float32Array, b.offset);
      } finally {
        value.dispose();
      }
    }
    return out;
  }

  dispose(): void {
    for (const b of this.blocks) for (const variable of [b.param, b.m, b.v]) variable.dispose();
  }
}
