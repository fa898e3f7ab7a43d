import seedrandom from 'seedrandom';
import { sha256Hex } from '../io/digest';

/**
 * Every random choice comes from a named stream derived from a seed (a run's config.seed, or an
 * analysis's own seed). Independent streams mean that, for one seed, VAE and IWAE see the same data
 * order and binarizations (a paired comparison), and that changing how many numbers one consumer draws
 * never shifts another consumer's numbers. Two kinds:
 * - sequential (seedrandom's ARC4, in JS): for draws made once or once per epoch (initial weights, the
 *   epoch's shuffle, figure samples). A name may carry a part (`data-order/7`: epoch 7's shuffle).
 * - counter-based (TensorFlow's Philox, lib/random/counter-stream.ts): for the draws of every
 *   step and evaluation batch (binarization, reparameterization noise). Draw number c of stream s is a
 *   pure function of (seed, s, c): nothing to checkpoint but the counter, nothing made in JS, and a
 *   run's draws are the same whichever runs share its stack.
 */
export const STREAMS = {
  // A run's streams (config.seed).
  init: { kind: 'sequential', drawnBy: 'the initial weights (lib/model/init.ts), once per run' },
  'data-order': { kind: 'sequential', drawnBy: "each epoch's shuffle of the training images, one stream per epoch ('data-order/<epoch>')" },
  binarization: { kind: 'counter', drawnBy: 'training batches (dynamic: counter = step; fixed: counter = block of images)' },
  noise: { kind: 'counter', drawnBy: "training steps' reparameterization noise (counter = step)" },
  'test-binarization': { kind: 'counter', drawnBy: 'the per-epoch test pass (counter = epoch, batch)' },
  'test-noise': { kind: 'counter', drawnBy: 'the per-epoch test pass (counter = epoch, batch)' },
  'activity-binarization': { kind: 'counter', drawnBy: 'the per-epoch active-unit pass over the training images (counter = epoch, batch)' },
  'snr-binarization': { kind: 'counter', drawnBy: "the gradient-SNR measurement's one fixed binarization of its batch (dynamic binarization only; counter 0)" },
  'snr-noise': { kind: 'counter', drawnBy: "the gradient-SNR measurement's noise draws (counter = epoch, draw)" },
  'final-binarization': { kind: 'counter', drawnBy: 'final evaluation and `iwae eval`: one binarization of the test images (counter = block)' },
  'final-noise': { kind: 'counter', drawnBy: "final evaluation and `iwae eval`: L_k's noise, one stream per k ('final-noise/<k>'; counter = batch, chunk)" },
  'images-binarization': { kind: 'sequential', drawnBy: "the reconstruction figures of a run's images/ (one stream per epoch)" },
  'images-prior': { kind: 'sequential', drawnBy: "the prior-sample figures of a run's images/ (one stream per epoch)" },
  // Analyses and tools (their own seeds).
  'sample-binarization': { kind: 'sequential', drawnBy: "the notebooks' reconstruction figures (lib/analysis/samples.ts)" },
  'prior-samples': { kind: 'sequential', drawnBy: "the notebooks' prior-sample figures (lib/analysis/samples.ts)" },
  'overlap-null': { kind: 'sequential', drawnBy: "Experiment 2's permutation null of unit overlap (lib/analysis/unit-overlap.ts)" },
  'show-images': { kind: 'sequential', drawnBy: '`iwae data show`: which images, and their binarization' },
  'synthetic-mnist': { kind: 'sequential', drawnBy: "the tests' synthetic digits (lib/data/synthetic.ts)" },
  'bench-data': { kind: 'sequential', drawnBy: "the bench's grey images and their order" },
} as const satisfies Record<string, { kind: 'sequential' | 'counter'; drawnBy: string }>;

export type StreamName = keyof typeof STREAMS;
type NamesOf<K> = { [N in StreamName]: (typeof STREAMS)[N]['kind'] extends K ? N : never }[StreamName];
export type SequentialStreamName = NamesOf<'sequential'>;
export type CounterStreamName = NamesOf<'counter'>;

/** The full name of stream `name`, with an optional part (an epoch, a k). */
function fullName(name: StreamName, part?: number | string): string {
  return part === undefined ? name : `${name}/${part}`;
}

/** The serializable state of a sequential stream (ARC4 state from seedrandom). */
export type StreamState = seedrandom.State.Arc4;

export interface RandomStream {
  readonly name: string;
  /** Uniform in [0, 1) with 53 bits of randomness. */
  uniform(): number;
  /** Uniform 32-bit signed integer. */
  int32(): number;
  /** Fills `out` with uniforms in [0, 1) (float precision is enough for binarization and noise). */
  fillUniform(out: Float32Array): Float32Array;
  /** Fills `out` with standard normals (Box-Muller, both outputs used). */
  fillNormal(out: Float32Array): Float32Array;
  /** Snapshot; `restoreStream` continues exactly where this left off. */
  state(): StreamState;
}

class SeededStream implements RandomStream {
  constructor(readonly name: string, private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>) {}

  uniform(): number {
    return this.prng.double();
  }

  int32(): number {
    return this.prng.int32();
  }

  fillUniform(out: Float32Array): Float32Array {
    // quick() gives 32 bits per call: plenty for float32 and ~2x cheaper than double().
    for (let i = 0; i < out.length; i++) out[i] = this.prng.quick();
    return out;
  }

  fillNormal(out: Float32Array): Float32Array {
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const [a, b] = this.boxMuller();
      out[i] = a;
      out[i + 1] = b;
    }
    if (i < n) out[i] = this.boxMuller()[0];
    return out;
  }

  state(): StreamState {
    return this.prng.state();
  }

  private boxMuller(): [number, number] {
    // 1 - u keeps the log argument in (0, 1].
    const u = 1 - this.prng.double();
    const v = this.prng.double();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * v;
    return [r * Math.cos(theta), r * Math.sin(theta)];
  }
}

/** The sequential stream `name` (part `part`) of `seed`. The same (seed, name, part) always gives the same numbers. */
export function createStream(seed: number | string, name: SequentialStreamName, part?: number | string): RandomStream {
  const full = fullName(name, part);
  return new SeededStream(full, seedrandom(`iwae-lab/${seed}/${full}`, { state: true }));
}

/** Continues a stream from a snapshot taken with `state()`. */
export function restoreStream(name: string, state: StreamState): RandomStream {
  return new SeededStream(name, seedrandom('', { state }));
}

/** Fisher-Yates shuffle of 0..n-1 driven by `stream`. */
export function permutation(n: number, stream: RandomStream): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(stream.uniform() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** The int32 key of the counter-based stream `name` (part `part`) of `seed` (lib/random/counter-stream.ts draws with it). */
export function counterKey(seed: number | string, name: CounterStreamName, part?: number | string): { name: string; key: number } {
  const full = fullName(name, part);
  return { name: full, key: Buffer.from(sha256Hex(Buffer.from(`iwae-lab/${seed}/${full}`, 'utf8')), 'hex').readInt32LE(0) };
}
