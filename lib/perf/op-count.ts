import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';

type Execute = NodeJSKernelBackend['executeMultipleOutputs'];

/**
 * How many TensorFlow ops `fn` executes: every tfjs-node kernel and every raw op (lib/model/raw-ops.ts)
 * goes through the backend's executeSingleOutput/executeMultipleOutputs, so counting calls there counts
 * what the step costs (tf.profile would miss the raw ops). Both methods are restored afterwards.
 */
export function countTensorFlowOps(fn: () => void): { ops: number; byName: Map<string, number> } {
  const backend = tf.backend() as unknown as NodeJSKernelBackend;
  const single = backend.executeSingleOutput;
  const multiple = backend.executeMultipleOutputs;
  if (tf.getBackend() !== 'tensorflow' || typeof single !== 'function') throw new Error("op counting needs tfjs-node's 'tensorflow' backend");
  const byName = new Map<string, number>();
  let ops = 0;
  const note = (name: string) => {
    ops += 1;
    byName.set(name, (byName.get(name) ?? 0) + 1);
  };
  backend.executeSingleOutput = function (this: NodeJSKernelBackend, name, attrs, inputs) {
    note(name);
    return single.call(this, name, attrs, inputs);
  };
  backend.executeMultipleOutputs = function (this: NodeJSKernelBackend, name, attrs, inputs, outputs) {
    note(name);
    return (multiple as Execute).call(this, name, attrs, inputs, outputs);
  };
  try {
    fn();
  } finally {
    backend.executeSingleOutput = single;
    backend.executeMultipleOutputs = multiple;
  }
  return { ops, byName };
}
