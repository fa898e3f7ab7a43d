import * as tf from '@tensorflow/tfjs-node';
import type { InitName } from '../config/run-config';
import type { RandomStream } from '../random/streams';
import { parameterLayout, type Architecture, type ParameterLayout } from './architecture';
import { initialParameters } from './init';
import { unpackNetwork, type Network } from './network';

/** A model's state: one flat float32 variable and the layout that names its slices. */
export interface Model {
  layout: ParameterLayout;
  params: tf.Variable<tf.Rank.R1>;
}

/** A model holding a copy of `values` (e.g. from a checkpoint). */
export function modelFromParameters(layout: ParameterLayout, values: Float32Array): Model {
  if (values.length !== layout.size) throw new RangeError(`got ${values.length} parameters, the layout needs ${layout.size}`);
  // Inside tidy so the initial-value tensor is freed (the variable keeps its own reference to the data).
  return { layout, params: tf.tidy(() => tf.variable(tf.tensor1d(values, 'float32'), true)) };
}

/** A freshly initialized model; weights from `initStream` (the run's 'init' stream). */
export function initModel(
  architecture: Architecture,
  init: InitName,
  initStream: RandomStream,
  options: { outputBias?: Float32Array } = {},
): Model {
  const layout = parameterLayout(architecture);
  return modelFromParameters(layout, initialParameters(layout, init, initStream, options));
}

/** Runs `fn` on views of the model's layers inside tf.tidy: only what `fn` returns survives. */
export function withNetwork<T extends tf.TensorContainer>(model: Model, fn: (network: Network) => T): T {
  return tf.tidy(() => fn(unpackNetwork(model.params, model.layout)));
}

/** A copy of the flat parameters. */
export function readParameters(model: Model): Float32Array {
  return model.params.dataSync().slice() as Float32Array;
}

/** Overwrites the parameters in place (same layout). */
export function writeParameters(model: Model, values: Float32Array): void {
  if (values.length !== model.layout.size) throw new RangeError(`got ${values.length} parameters, the layout needs ${model.layout.size}`);
  tf.tidy(() => model.params.assign(tf.tensor1d(values, 'float32')));
}

/** The values of one named parameter (e.g. 'encoder.0.weight'), row-major in its shape. */
export function parameterValues(model: Model, name: string): Float32Array {
  const spec = model.layout.specs.find((s) => s.name === name);
  if (!spec) throw new RangeError(`no parameter '${name}'`);
  return model.params.dataSync().slice(spec.offset, spec.offset + spec.size) as Float32Array;
}

export function disposeModel(model: Model): void {
  model.params.dispose();
}
