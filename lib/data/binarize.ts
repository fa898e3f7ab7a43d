import type { RandomStream } from '../random/streams';
import type { MnistSplit } from './mnist';
import { PIXELS } from './shape';

/**
 * Binarization in JS, from sequential streams, for figures and tools (reconstruction grids, `iwae data
 * show`, the notebooks' samples). Training and evaluation binarize on the TensorFlow side from
 * counter-based streams instead (lib/data/device-split.ts); both draw P(pixel = 1) = intensity / 255.
 *
 * How pixel intensities become 0/1 values.
 * - dynamic (the study's protocol): a fresh Bernoulli sample every time an image is read, from `stream`.
 * - fixed: one sample per image made once (`fixedBinarization`) and reused on every read.
 */
export type Binarizer = { kind: 'dynamic'; stream: RandomStream } | { kind: 'fixed'; bits: Uint8Array };

/** P(pixel = 1) for each byte value: intensity / 255. */
const ON_PROBABILITY = Float32Array.from({ length: 256 }, (_, byte) => byte / 255);

/**
 * Bernoulli(byte / 255) for every byte of `bytes`, written to `out` as 0/1. Pixels at 0 or 255 are
 * certain and draw nothing; only gray pixels (about a fifth of MNIST's) consume a uniform from `stream`,
 * in order. That makes it exact and several times cheaper, and a prefix of the input always gets the same
 * bits whether or not more follows. `scratch` holds the uniforms: at least `bytes.length` long.
 */
export function sampleBits(bytes: Uint8Array, stream: RandomStream, out: Float32Array | Uint8Array, scratch: Float32Array): void {
  if (out.length < bytes.length || scratch.length < bytes.length) {
    throw new RangeError(`sampleBits: out (${out.length}) and scratch (${scratch.length}) must hold ${bytes.length} values`);
  }
  let gray = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte !== 0 && byte !== 255) gray++;
  }
  const uniforms = stream.fillUniform(scratch.subarray(0, gray));
  let next = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0) out[i] = 0;
    else if (byte === 255) out[i] = 1;
    else out[i] = uniforms[next++] < ON_PROBABILITY[byte] ? 1 : 0;
  }
}

/** Images per chunk when binarizing a whole split: bounds the scratch memory, does not change the bits. */
const CHUNK_IMAGES = 1000;

/** One binarization of every image of `split` (0/1 bytes, `count * 784`), for the fixed protocol. */
export function fixedBinarization(split: MnistSplit, stream: RandomStream): Uint8Array {
  const bits = new Uint8Array(split.count * PIXELS);
  const scratch = new Float32Array(CHUNK_IMAGES * PIXELS);
  for (let start = 0; start < split.count; start += CHUNK_IMAGES) {
    const end = Math.min(split.count, start + CHUNK_IMAGES);
    sampleBits(split.images.subarray(start * PIXELS, end * PIXELS), stream, bits.subarray(start * PIXELS, end * PIXELS), scratch);
  }
  return bits;
}

/** A binarizer of the given kind for `split`; a fixed one draws its single sample now, from `stream`. */
export function makeBinarizer(kind: 'dynamic' | 'fixed', split: MnistSplit, stream: RandomStream): Binarizer {
  return kind === 'dynamic' ? { kind, stream } : { kind, bits: fixedBinarization(split, stream) };
}

/**
 * Reusable buffers for `binarizeImages`, sized for `maxImages` images, so producing a batch allocates
 * only its output.
 */
export class BinarizeScratch {
  readonly gathered: Uint8Array;
  readonly uniforms: Float32Array;
  constructor(readonly maxImages: number) {
    this.gathered = new Uint8Array(maxImages * PIXELS);
    this.uniforms = new Float32Array(maxImages * PIXELS);
  }
}

/**
 * The binarized images `indices` of `split`, row after row (`indices.length * 784` values of 0/1).
 * With a dynamic binarizer every call draws a fresh sample.
 */
export function binarizeImages(
  split: MnistSplit,
  indices: ArrayLike<number>,
  binarizer: Binarizer,
  scratch: BinarizeScratch = new BinarizeScratch(indices.length),
): Float32Array {
  const n = indices.length;
  if (n > scratch.maxImages) throw new RangeError(`binarizeImages: ${n} images, scratch holds ${scratch.maxImages}`);
  const out = new Float32Array(n * PIXELS);
  if (binarizer.kind === 'fixed') {
    // Float32Array.set converts the 0/1 bytes element-wise.
    for (let i = 0; i < n; i++) out.set(binarizer.bits.subarray(indices[i] * PIXELS, (indices[i] + 1) * PIXELS), i * PIXELS);
    return out;
  }
  const gathered = scratch.gathered.subarray(0, n * PIXELS);
  for (let i = 0; i < n; i++) gathered.set(split.images.subarray(indices[i] * PIXELS, (indices[i] + 1) * PIXELS), i * PIXELS);
  sampleBits(gathered, binarizer.stream, out, scratch.uniforms);
  return out;
}
