import * as tf from '@tensorflow/tfjs-node';
import type { NodeJSKernelBackend } from '@tensorflow/tfjs-node/dist/nodejs_kernel_backend';
import type { TFEOpAttr } from '@tensorflow/tfjs-node/dist/tfjs_binding';

/**
 * TensorFlow ops called directly through tfjs-node's backend (`executeSingleOutput`, the public method
 * its own kernels and TensorBoard writer use), for the hand-written training step and evaluation:
 * tfjs's engine and op wrappers add a fixed cost per op (argument conversion, kernel lookup, tape
 * bookkeeping) that matters at the study's small batches, and some kernels it does not expose at all:
 * - BatchMatMulV2 over the stack's run axis, TanhGrad (tanh's derivative as one kernel);
 * - counter-based draws (StatelessRandomUniform/Normal), GatherV2, Less + Cast;
 * - resource variables and ResourceApplyAdam (Adam as one fused pass per parameter block).
 * Tensors these return are ordinary tfjs tensors (tracked by tf.tidy, disposed as usual); they are not
 * recorded for autograd, so they are only for hand-written gradients. Only the 'tensorflow' backend has
 * them: other backends get a clear error. What each saves is measured by `npx tsx bench/step.ts --ops`.
 */

function tensorflowBackend(): NodeJSKernelBackend {
  const backend = tf.backend() as unknown as Partial<NodeJSKernelBackend>;
  if (tf.getBackend() !== 'tensorflow' || typeof backend.executeSingleOutput !== 'function' || !backend.binding) {
    throw new Error(`raw TensorFlow ops need tfjs-node's 'tensorflow' backend, not '${tf.getBackend()}'`);
  }
  return backend as NodeJSKernelBackend;
}

function floatType(backend: NodeJSKernelBackend, name: string): TFEOpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
}

function assertFloat(...tensors: tf.Tensor[]): void {
  for (const t of tensors) if (t.dtype !== 'float32') throw new TypeError(`expected float32, got ${t.dtype}`);
}

function int32Type(backend: NodeJSKernelBackend, name: string): TFEOpAttr {
  return { name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_INT32 };
}

/**
 * Elementwise and shape ops called straight on the backend, for the hand-written training step (without
 * tfjs's per-op engine cost). Binary ops broadcast as TensorFlow does (numpy rules). Float32 tensors only; int32 arguments (axes, shapes) are
 * made here, once each (`withInt32`). Not recorded for autograd.
 */
export const rawOps = {
  add: <T extends tf.Tensor>(a: T, b: tf.Tensor): T => floatOp('AddV2', a, b) as T,
  sub: <T extends tf.Tensor>(a: T, b: tf.Tensor): T => floatOp('Sub', a, b) as T,
  mul: <T extends tf.Tensor>(a: T, b: tf.Tensor): T => floatOp('Mul', a, b) as T,
  div: <T extends tf.Tensor>(a: T, b: tf.Tensor): T => floatOp('RealDiv', a, b) as T,
  exp: <T extends tf.Tensor>(a: T): T => floatOp('Exp', a) as T,
  log: <T extends tf.Tensor>(a: T): T => floatOp('Log', a) as T,
  sigmoid: <T extends tf.Tensor>(a: T): T => floatOp('Sigmoid', a) as T,
  tanh: <T extends tf.Tensor>(a: T): T => floatOp('Tanh', a) as T,
  square: <T extends tf.Tensor>(a: T): T => floatOp('Square', a) as T,

  /** Sum over one axis, which is dropped. */
  sum(x: tf.Tensor, axis: number): tf.Tensor {
    const backend = tensorflowBackend();
    return withInt32([axis], (axes) =>
      backend.executeSingleOutput(
        'Sum',
        [{ name: 'keep_dims', type: backend.binding.TF_ATTR_BOOL, value: false }, floatType(backend, 'T'), int32Type(backend, 'Tidx')],
        [x, axes],
      ),
    );
  },

  tile<T extends tf.Tensor>(x: T, multiples: number[]): T {
    const backend = tensorflowBackend();
    return withInt32(multiples, (m) => backend.executeSingleOutput('Tile', [floatType(backend, 'T'), int32Type(backend, 'Tmultiples')], [x, m])) as T;
  },

  reshape<R extends tf.Rank>(x: tf.Tensor, shape: number[]): tf.Tensor<R> {
    const backend = tensorflowBackend();
    return withInt32(shape, (s) => backend.executeSingleOutput('Reshape', [floatType(backend, 'T'), int32Type(backend, 'Tshape')], [x, s])) as tf.Tensor<R>;
  },

  /** Pieces of `sizes` along `axis` (TensorFlow's SplitV). */
  split(x: tf.Tensor, sizes: number[], axis: number): tf.Tensor[] {
    const backend = tensorflowBackend();
    return withInt32(sizes, (s) =>
      withInt32(axis, (a) =>
        backend.executeMultipleOutputs(
          'SplitV',
          [{ name: 'num_split', type: backend.binding.TF_ATTR_INT, value: sizes.length }, floatType(backend, 'T'), int32Type(backend, 'Tlen')],
          [x, s, a],
          sizes.length,
        ),
      ),
    );
  },

  /** The tensors joined along `axis` (TensorFlow's ConcatV2). */
  concat<T extends tf.Tensor>(tensors: T[], axis: number): T {
    const backend = tensorflowBackend();
    return withInt32(axis, (a) =>
      backend.executeSingleOutput(
        'ConcatV2',
        [{ name: 'N', type: backend.binding.TF_ATTR_INT, value: tensors.length }, floatType(backend, 'T'), int32Type(backend, 'Tidx')],
        [...tensors, a],
      ),
    ) as T;
  },
};

function floatOp(name: string, ...inputs: tf.Tensor[]): tf.Tensor {
  const backend = tensorflowBackend();
  return backend.executeSingleOutput(name, [floatType(backend, 'T')], inputs);
}

/**
 * The int32 arguments of shape ops (axes, shapes, split sizes, tile multiples) are the same few dozen
 * vectors step after step. Each is written to the backend once and reused instead of made, uploaded and
 * freed per call. They are backend data, not tfjs tensors, so they never
 * show in tf.memory().numTensors (which tests keep flat across steps); per backend, at most
 * MAX_INT32_ARGUMENTS distinct vectors (a few hundred bytes each), after which new ones are made per call.
 */
const MAX_INT32_ARGUMENTS = 1024;
const int32Arguments = new WeakMap<object, Map<string, tf.TensorInfo>>();

/** `fn` given an int32 tensor of `values` (a vector; a scalar for a single number). */
function withInt32<T>(values: number | number[], fn: (t: tf.TensorInfo) => T): T {
  const backend = tensorflowBackend();
  let cache = int32Arguments.get(backend);
  if (!cache) int32Arguments.set(backend, (cache = new Map()));
  const key = typeof values === 'number' ? `${values}` : `[${values.join(',')}]`;
  const cached = cache.get(key);
  if (cached) return fn(cached);
  const shape = typeof values === 'number' ? [] : [values.length];
  const argument: tf.TensorInfo = { dataId: backend.write(Int32Array.from(typeof values === 'number' ? [values] : values), shape, 'int32'), shape, dtype: 'int32' };
  if (cache.size < MAX_INT32_ARGUMENTS) {
    cache.set(key, argument);
    return fn(argument);
  }
  try {
    return fn(argument);
  } finally {
    backend.disposeData(argument.dataId);
  }
}

/**
 * A float32 tensor filled with `value`, of `shape`: the constants of the training step (0.5, 1, 2, the
 * rows of ones that sum over rows) are the same few tensors step after step, so each is written to the
 * backend once and reused, as the int32 arguments are. Backend data, not a tfjs tensor: it never shows
 * in tf.memory().numTensors and must never be disposed by the caller. At most MAX_CONSTANTS per backend
 * (a few kB each); past that, a fresh tensor per call, tracked as usual.
 */
export function filledConstant(value: number, shape: number[]): tf.Tensor {
  const backend = tensorflowBackend();
  let cache = floatConstants.get(backend);
  if (!cache) floatConstants.set(backend, (cache = new Map()));
  const key = `${value}:${shape.join(',')}`;
  const cached = cache.get(key);
  if (cached) return cached as unknown as tf.Tensor;
  if (cache.size >= MAX_CONSTANTS) return tf.fill(shape, value, 'float32');
  const size = shape.reduce((a, b) => a * b, 1);
  const info: tf.TensorInfo = { dataId: backend.write(new Float32Array(size).fill(value), shape, 'float32'), shape, dtype: 'float32' };
  cache.set(key, info);
  return info as unknown as tf.Tensor;
}

const MAX_CONSTANTS = 256;
const floatConstants = new WeakMap<object, Map<string, tf.TensorInfo>>();

/**
 * a @ b over a leading batch axis (TensorFlow's BatchMatMulV2; the stacked model's run axis), optionally
 * transposing each matrix. Each run's product is its own GEMM: its result does not depend on how many
 * runs share the call nor on the thread count (test/model/stack.test.ts checks the bits).
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, adjointA = false, adjointB = false): tf.Tensor3D {
  assertFloat(a, b);
  const inner = [adjointA ? a.shape[1] : a.shape[2], adjointB ? b.shape[2] : b.shape[1]];
  if (inner[0] !== inner[1] || a.shape[0] !== b.shape[0]) throw new RangeError(`batchMatMul: [${a.shape}]${adjointA ? 'ᵀ' : ''} x [${b.shape}]${adjointB ? 'ᵀ' : ''}`);
  const backend = tensorflowBackend();
  const attrs: TFEOpAttr[] = [
    floatType(backend, 'T'),
    { name: 'adj_x', type: backend.binding.TF_ATTR_BOOL, value: adjointA },
    { name: 'adj_y', type: backend.binding.TF_ATTR_BOOL, value: adjointB },
  ];
  return backend.executeSingleOutput('BatchMatMulV2', attrs, [a, b]) as tf.Tensor3D;
}

/**
 * Counter-based draws (TensorFlow's StatelessRandomUniform / StatelessRandomNormal, Philox-4x32): the
 * values are a pure function of the shape and the int32 pair `seed`, whatever the thread count, so a
 * stream is a key plus a counter and its "state" is just where the counter is (lib/random/counter-stream.ts).
 */
export function statelessDraw(kind: 'uniform' | 'normal', shape: number[], seed: readonly [number, number]): tf.Tensor {
  const backend = tensorflowBackend();
  for (const v of seed) if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RangeError(`seed values must be int32, got ${seed}`);
  const attrs: TFEOpAttr[] = [floatType(backend, 'dtype'), int32Type(backend, 'T'), int32Type(backend, 'Tseed')];
  // The seed changes call after call: a fresh int32 tensor each time, not the cached shape arguments.
  const seedTensor: tf.TensorInfo = { dataId: backend.write(Int32Array.from(seed), [2], 'int32'), shape: [2], dtype: 'int32' };
  try {
    return withInt32(shape, (s) => backend.executeSingleOutput(kind === 'uniform' ? 'StatelessRandomUniform' : 'StatelessRandomNormal', attrs, [s, seedTensor]));
  } finally {
    backend.disposeData(seedTensor.dataId);
  }
}

/** Rows `indices` (int32 values) of `x` along its first axis (TensorFlow's GatherV2). */
export function gatherRows<T extends tf.Tensor>(x: T, indices: Int32Array): T {
  assertFloat(x);
  const backend = tensorflowBackend();
  const index: tf.TensorInfo = { dataId: backend.write(indices, [indices.length], 'int32'), shape: [indices.length], dtype: 'int32' };
  try {
    return withInt32(0, (axis) =>
      backend.executeSingleOutput(
        'GatherV2',
        [floatType(backend, 'Tparams'), int32Type(backend, 'Tindices'), int32Type(backend, 'Taxis'), { name: 'batch_dims', type: backend.binding.TF_ATTR_INT, value: 0 }],
        [x, index, axis],
      ),
    ) as T;
  } finally {
    backend.disposeData(index.dataId);
  }
}

/** 1 where a < b, else 0, as float32 (Less then Cast): a Bernoulli draw from uniforms `a` and probabilities `b`. */
export function lessAsFloat<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  assertFloat(a, b);
  const backend = tensorflowBackend();
  const less = backend.executeSingleOutput('Less', [floatType(backend, 'T')], [a, b]);
  try {
    return backend.executeSingleOutput(
      'Cast',
      [
        { name: 'SrcT', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_BOOL },
        { name: 'DstT', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT },
        { name: 'Truncate', type: backend.binding.TF_ATTR_BOOL, value: false },
      ],
      [less],
    ) as T;
  } finally {
    less.dispose();
  }
}

/** dy * (1 - y^2) where y = tanh(x): the gradient through tanh given its output (TensorFlow's TanhGrad). */
export function tanhGrad<T extends tf.Tensor>(y: T, dy: T): T {
  assertFloat(y, dy);
  if (!tf.util.arraysEqual(y.shape, dy.shape)) throw new RangeError(`tanhGrad: [${y.shape}] vs [${dy.shape}]`);
  const backend = tensorflowBackend();
  return backend.executeSingleOutput('TanhGrad', [floatType(backend, 'T')], [y, dy]) as T;
}

/**
 * A float32 TensorFlow resource variable (what TF2's tf.Variable is). Held by its handle tensor; the
 * variable is anonymous, so TensorFlow frees it when the handle is disposed.
 */
export class ResourceVariable {
  readonly handle: tf.Tensor;

  constructor(readonly shape: number[], initial?: tf.Tensor) {
    const backend = tensorflowBackend();
    // ResourceHandle::ANONYMOUS_NAME: no name in the resource manager; freed with its last handle.
    const anonymous = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';
    this.handle = tf.keep(
      backend.executeSingleOutput(
        'VarHandleOp',
        [
          { name: 'container', type: backend.binding.TF_ATTR_STRING, value: '' },
          { name: 'shared_name', type: backend.binding.TF_ATTR_STRING, value: anonymous },
          floatType(backend, 'dtype'),
          { name: 'shape', type: backend.binding.TF_ATTR_SHAPE, value: shape },
        ],
        [],
      ),
    );
    if (initial) this.assign(initial);
  }

  /** Makes the variable hold `value`'s buffer (no copy: updates copy on write while `value` lives). */
  assign(value: tf.Tensor): void {
    assertFloat(value);
    if (!tf.util.arraysEqual(value.shape, this.shape)) throw new RangeError(`assign: [${value.shape}] to a [${this.shape}] variable`);
    const backend = tensorflowBackend();
    backend.executeMultipleOutputs('AssignVariableOp', [floatType(backend, 'dtype')], [this.handle, value], 0);
  }

  /** The current value (shares the buffer until the next update, which then copies). */
  read(): tf.Tensor {
    const backend = tensorflowBackend();
    return backend.executeSingleOutput('ReadVariableOp', [floatType(backend, 'dtype')], [this.handle]);
  }

  dispose(): void {
    this.handle.dispose();
  }
}

/**
 * In place, one fused pass (TensorFlow's ResourceApplyAdam), with `scalars` the float32 scalar tensors
 * [beta1Power, beta2Power, learningRate, beta1, beta2, epsilon]:
 *   m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2)
 *   var -= learningRate sqrt(1 - beta2Power) / (1 - beta1Power) * m / (sqrt(v) + epsilon)
 */
export function resourceApplyAdam(variable: ResourceVariable, m: ResourceVariable, v: ResourceVariable, scalars: readonly tf.Tensor[], gradient: tf.Tensor): void {
  assertFloat(gradient);
  if (!tf.util.arraysEqual(gradient.shape, variable.shape)) throw new RangeError(`gradient [${gradient.shape}] for a [${variable.shape}] variable`);
  if (scalars.length !== 6) throw new RangeError(`ResourceApplyAdam takes 6 scalars, got ${scalars.length}`);
  const backend = tensorflowBackend();
  backend.executeMultipleOutputs('ResourceApplyAdam', [floatType(backend, 'T')], [variable.handle, m.handle, v.handle, ...scalars, gradient], 0);
}
