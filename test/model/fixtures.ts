import * as tf from '@tensorflow/tfjs-node';
import type { InitName } from '../../lib/config/run-config';
import type { Architecture, ParameterLayout } from '../../lib/model/architecture';
import { initialParameters } from '../../lib/model/init';
import type { StackLayout } from '../../lib/model/stack';
import { createStream, type RandomStream } from '../../lib/random/streams';

/**
 * A sequential stream for a test's own draws (images, noise, biases), one per `purpose`. The registry
 * (lib/random/streams.ts) has no test-only names: these are parts of 'synthetic-mnist', the tests'
 * stream, so each purpose is still its own independent stream.
 */
export function testStream(seed: number, purpose: string): RandomStream {
  return createStream(seed, 'synthetic-mnist', purpose);
}

/** `rows` random 0/1 images of `pixels` pixels (each pixel on with probability 0.3), as nested arrays. */
export function randomImages(rows: number, pixels: number, seed: number): number[][] {
  const stream = testStream(seed, 'test-images');
  return Array.from({ length: rows }, () => Array.from({ length: pixels }, () => (stream.uniform() < 0.3 ? 1 : 0)));
}

/** [batch][k][latent] standard normals (float32-representable, so tfjs and the reference see the same). */
export function randomNoise(batch: number, k: number, latent: number, seed: number): number[][][] {
  const values = testStream(seed, 'test-noise').fillNormal(new Float32Array(batch * k * latent));
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: k }, (_, i) => Array.from(values.subarray((b * k + i) * latent, (b * k + i + 1) * latent))),
  );
}

export const asTensor2d = (x: number[][]) => tf.tensor2d(x, undefined, 'float32');
export const asTensor3d = (n: number[][][]) => tf.tensor3d(n, undefined, 'float32');

/** The parameter blocks of stack vector `flat` as tensors, in the stack's vector order (caller disposes). */
export function stackBlocks(layout: StackLayout, flat: Float32Array): tf.Tensor1D[] {
  return layout.blocks.map((b) => tf.tensor1d(flat.subarray(b.offset, b.offset + layout.runs * b.spec.size), 'float32'));
}

/** Run `r`'s gradient (run layout, zero padding) out of a stack's gradient blocks. */
export function runGradient(layout: StackLayout, blocks: readonly tf.Tensor1D[], r: number): Float32Array {
  const out = new Float32Array(layout.run.size);
  layout.blocks.forEach(({ spec }, i) => out.set((blocks[i].dataSync() as Float32Array).subarray(r * spec.size, (r + 1) * spec.size), spec.offset));
  return out;
}

/** Run parameters of `architecture` from init seed `seed`, with small non-zero biases (gradients checked away from the symmetric point). */
export function runVector(layout: ParameterLayout, seed: number, init: InitName = 'he-normal'): Float32Array {
  const flat = initialParameters(layout, init, createStream(seed, 'init'));
  const biasStream = testStream(seed, 'bias');
  for (const spec of layout.specs) {
    if (spec.role === 'bias') for (let i = 0; i < spec.size; i++) flat[spec.offset + i] = 0.2 * (biasStream.uniform() - 0.5);
  }
  return flat;
}

/** Run r's images ([batch * pixels], 0/1) and sample-major noise ([k * batch * latent]). */
export function runInputs(architecture: Architecture, batch: number, k: number, seed: number): { x: Float32Array; noise: Float32Array } {
  const u = testStream(seed, 'test-images').fillUniform(new Float32Array(batch * architecture.input));
  const x = u.map((v) => (v < 0.3 ? 1 : 0));
  const noise = testStream(seed, 'noise').fillNormal(new Float32Array(k * batch * architecture.latent));
  return { x, noise };
}

/** The runs' inputs as one stack: x [R, batch, pixels], noise [R, k * batch, latent]. */
export function stackInputs(layout: StackLayout, batch: number, k: number, inputs: ReturnType<typeof runInputs>[]): { x: tf.Tensor3D; noise: tf.Tensor3D } {
  const { input, latent } = layout.run.architecture;
  const x = new Float32Array(layout.runs * batch * input);
  const noise = new Float32Array(layout.runs * k * batch * latent);
  inputs.forEach((run, r) => {
    x.set(run.x, r * batch * input);
    noise.set(run.noise, r * k * batch * latent);
  });
  return { x: tf.tensor3d(x, [layout.runs, batch, input]), noise: tf.tensor3d(noise, [layout.runs, k * batch, latent]) };
}
