import * as tf from '@tensorflow/tfjs-node';
import { ALIGN_FLOATS, parameterLayout, specsInVectorOrder, type Architecture, type ParameterLayout, type ParameterSpec } from './architecture';

/**
 * R runs of one architecture trained as one model (a "stack"): every parameter gets a leading run axis,
 * so each layer is one batched product over all runs ([R, rows, in] x [R, in, out]) instead of R small
 * ones, and one fused Adam update covers every run. Runs never mix: each run's slice of every product,
 * reduction and update is computed as if it were alone, bit for bit (test/model/stack.test.ts): batched
 * products compute each run's GEMM on its own, sums over rows are products with a row of ones, and odd
 * batches are padded so each run's share of every tensor is whole SIMD packets (fast-gradient.ts).
 *
 * The flat vector is block-major: for each parameter in the run layout's vector order (every weight
 * matrix, then every bias), one block [R, ...shape] holding it for every run, then zeros up to
 * ALIGN_FLOATS. The weight blocks are multiples of 16 floats (as in the run layout), so one SplitV cuts
 * them out as views (see architecture.ts). A run's own vector (checkpoints, figures) is in the run layout.
 */
export interface StackLayout {
  runs: number;
  /** One run's layout: what `runParameters` returns and `packStack` takes. */
  run: ParameterLayout;
  blocks: StackBlock[];
  /** Floats of all weight blocks (the vector's first part) and of all bias blocks (right after). */
  weightsSize: number;
  biasesSize: number;
  padding: number;
  size: number;
}

export interface StackBlock {
  spec: ParameterSpec;
  /** Where the block starts; run r's copy of the parameter starts at offset + r * spec.size. */
  offset: number;
}

export function stackLayout(architecture: Architecture, runs: number): StackLayout {
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`a stack needs at least one run, got ${runs}`);
  const run = parameterLayout(architecture);
  let offset = 0;
  const blocks = specsInVectorOrder(run).map((spec) => {
    const block = { spec, offset };
    offset += runs * spec.size;
    return block;
  });
  const size = Math.ceil(offset / ALIGN_FLOATS) * ALIGN_FLOATS;
  return { runs, run, blocks, weightsSize: runs * run.weightsSize, biasesSize: runs * run.biasesSize, padding: size - offset, size };
}

/** One stack vector from each run's own vector (run layout), in stack order. */
export function packStack(layout: StackLayout, perRun: readonly Float32Array[]): Float32Array {
  if (perRun.length !== layout.runs) throw new RangeError(`${perRun.length} runs for a stack of ${layout.runs}`);
  const flat = new Float32Array(layout.size);
  perRun.forEach((values, r) => {
    if (values.length !== layout.run.size) throw new RangeError(`run ${r} has ${values.length} parameters, the layout needs ${layout.run.size}`);
    for (const { spec, offset } of layout.blocks) flat.set(values.subarray(spec.offset, spec.offset + spec.size), offset + r * spec.size);
  });
  return flat;
}

/** Run `r`'s own vector (run layout) out of a stack vector. */
export function runParameters(layout: StackLayout, flat: Float32Array, r: number): Float32Array {
  if (flat.length !== layout.size) throw new RangeError(`stack vector has ${flat.length} values, the layout needs ${layout.size}`);
  if (!Number.isInteger(r) || r < 0 || r >= layout.runs) throw new RangeError(`run ${r} is not in a stack of ${layout.runs}`);
  const out = new Float32Array(layout.run.size);
  for (const { spec, offset } of layout.blocks) out.set(flat.subarray(offset + r * spec.size, offset + (r + 1) * spec.size), spec.offset);
  return out;
}

/** One affine layer of every run: weight [R, fanIn, fanOut], bias [R, 1, fanOut] (broadcasts over rows). */
export interface StackedLayer {
  weight: tf.Tensor3D;
  bias: tf.Tensor3D;
}
