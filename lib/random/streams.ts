import seedrandom from 'seedrandom';

/**
 * Every random choice of a run (data order, binarization, init, reparameterization noise) comes from
 * its own named stream derived from the run seed. Independent streams mean that, for one seed, VAE and
 * IWAE see the same data order and binarizations (a paired comparison), and that changing how many
 * numbers one consumer draws never shifts another consumer's numbers.
 */
export type StreamName = 'data-order' | 'binarization' | 'init' | 'noise' | 'test-order' | 'test-binarization' | 'eval';

/** The serializable state of one stream (ARC4 state from seedrandom), stored in checkpoints. */
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
  /** Snapshot for checkpoints; `restoreStream` continues exactly where this left off. */
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

/** The stream `name` of the run seeded with `seed`. The same (seed, name) always gives the same numbers. */
export function createStream(seed: number | string, name: string): RandomStream {
  return new SeededStream(name, seedrandom(`iwae-lab/${seed}/${name}`, { state: true }));
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
