import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';

type Execute = NodeJSKernelBackend['executeMultipleOutputs'];

export interface OpTally {
  /** TensorFlow ops executed. */
  ops: number;
  byName: Map<string, number>;
  /** Milliseconds spent inside each op's call (TensorFlow's kernel plus tfjs-node's binding around it). */
  msByName: Map<string, number>;
  /** Their sum; the rest of `fn`'s time is JS (tfjs bookkeeping, our own code). */
  msInOps: number;
}

/**
 * How many TensorFlow ops `fn` executes, and how long each kind takes: every tfjs-node kernel and every
 * raw op (lib/model/raw-ops.ts) goes through the backend's executeSingleOutput/executeMultipleOutputs,
 * so watching calls there sees what the step costs (tf.profile would miss the raw ops). Both methods are
 * restored afterwards.
 */
export function countTensorFlowOps(fn: () => void): OpTally {
  const backend = tf.backend() as unknown as NodeJSKernelBackend;
  const single = backend.executeSingleOutput;
  const multiple = backend.executeMultipleOutputs;
  if (tf.getBackend() !== 'tensorflow' || typeof single !== 'function') throw new Error("op counting needs tfjs-node's 'tensorflow' backend");
  const tally: OpTally = { ops: 0, byName: new Map(), msByName: new Map(), msInOps: 0 };
  const timed = <T>(name: string, call: () => T): T => {
    const start = performance.now();
    try {
      return call();
    } finally {
      const ms = performance.now() - start;
      tally.ops += 1;
      tally.msInOps += ms;
      tally.byName.set(name, (tally.byName.get(name) ?? 0) + 1);
      tally.msByName.set(name, (tally.msByName.get(name) ?? 0) + ms);
    }
  };
  backend.executeSingleOutput = function (this: NodeJSKernelBackend, name, attrs, inputs) {
    return timed(name, () => single.call(this, name, attrs, inputs));
  };
  backend.executeMultipleOutputs = function (this: NodeJSKernelBackend, name, attrs, inputs, outputs) {
    return timed(name, () => (multiple as Execute).call(this, name, attrs, inputs, outputs));
  };
  try {
    fn();
  } finally {
    backend.executeSingleOutput = single;
    backend.executeMultipleOutputs = multiple;
  }
  return tally;
}
