/**
 * The study's one-stochastic-layer model as sizes: encoder input-hidden...-(latent mean, latent
 * log-variance), decoder latent-hidden(reversed)...-input. Layer sizes are parameters so tests can use a
 * tiny model; the defaults are the study's 784-200-200-50.
 */
export interface Architecture {
  /** Pixels per image (784 for MNIST). */
  input: number;
  /** Encoder hidden sizes, first to last; the decoder uses them in reverse. */
  hidden: number[];
  /** Latent units (50 in the study). */
  latent: number;
}

export const STUDY_ARCHITECTURE: Readonly<Architecture> = Object.freeze({ input: 784, hidden: [200, 200], latent: 50 });

export type ParameterRole = 'weight' | 'bias';
export type NetworkName = 'encoder' | 'decoder';

/** Where one layer parameter lives inside the flat parameter vector. */
export interface ParameterSpec {
  /** e.g. `encoder.0.weight`, `decoder.2.bias` (layer index within its network). */
  name: string;
  network: NetworkName;
  layer: number;
  role: ParameterRole;
  /** Weights are [fanIn, fanOut] (used as x @ W); biases are [fanOut]. */
  shape: number[];
  offset: number;
  size: number;
  fanIn: number;
  fanOut: number;
}

/**
 * All parameters of one run live in ONE flat float32 vector (its checkpoint, the autograd reference, the
 * figures); a stack of runs keeps them as one block per parameter over all its runs (lib/model/stack.ts),
 * in this vector's order. The layout says which slice is which layer.
 *
 * Order in the vector: every weight matrix (encoder then decoder, first layer first), then every bias in
 * the same order, then zeros up to a multiple of ALIGN_FLOATS. `specs` lists the parameters layer by
 * layer (weight, bias), which is also the order inits draw them in. Why weights first: TensorFlow's
 * SplitV hands out views of its input instead of copying when every piece starts and ends on a 64-byte
 * boundary; the study's weight matrices are multiples of 16 floats and its biases are not, so the
 * weights and the padded bias block come out as views and only the few kB of biases are copied.
 */
export interface ParameterLayout {
  architecture: Architecture;
  specs: ParameterSpec[];
  /** Floats of all weight matrices (the vector's first part). */
  weightsSize: number;
  /** Floats of all biases (right after the weights). */
  biasesSize: number;
  /** Zeros after the biases, up to a multiple of ALIGN_FLOATS. */
  padding: number;
  /** Number of floats in the flat vector: weights, biases and the zero padding. */
  size: number;
}

/** 64 bytes (TensorFlow's alignment with AVX-512) in floats. */
export const ALIGN_FLOATS = 16;

export function parameterLayout(architecture: Architecture): ParameterLayout {
  const { input, hidden, latent } = architecture;
  if (!Number.isInteger(input) || input < 1 || !Number.isInteger(latent) || latent < 1 || hidden.length < 1) {
    throw new RangeError(`bad architecture ${JSON.stringify(architecture)}`);
  }
  for (const h of hidden) if (!Number.isInteger(h) || h < 1) throw new RangeError(`bad hidden size ${h}`);
  const encoderSizes = [input, ...hidden, 2 * latent];
  const decoderSizes = [latent, ...[...hidden].reverse(), input];
  const specs: ParameterSpec[] = [];
  const addNetwork = (network: NetworkName, sizes: number[]) => {
    for (let layer = 0; layer + 1 < sizes.length; layer++) {
      const fanIn = sizes[layer];
      const fanOut = sizes[layer + 1];
      specs.push({ name: `${network}.${layer}.weight`, network, layer, role: 'weight', shape: [fanIn, fanOut], offset: 0, size: fanIn * fanOut, fanIn, fanOut });
      specs.push({ name: `${network}.${layer}.bias`, network, layer, role: 'bias', shape: [fanOut], offset: 0, size: fanOut, fanIn, fanOut });
    }
  };
  addNetwork('encoder', encoderSizes);
  addNetwork('decoder', decoderSizes);
  let offset = 0;
  for (const role of ['weight', 'bias'] as const) {
    for (const spec of specs) {
      if (spec.role !== role) continue;
      spec.offset = offset;
      offset += spec.size;
    }
  }
  const weightsSize = specs.filter((s) => s.role === 'weight').reduce((sum, s) => sum + s.size, 0);
  const size = Math.ceil(offset / ALIGN_FLOATS) * ALIGN_FLOATS;
  return {
    architecture: { input, hidden: [...hidden], latent },
    specs,
    weightsSize,
    biasesSize: offset - weightsSize,
    padding: size - offset,
    size,
  };
}

/** The specs in the order they lie in the flat vector (weights, then biases). */
export function specsInVectorOrder(layout: ParameterLayout): ParameterSpec[] {
  return [...layout.specs].sort((a, b) => a.offset - b.offset);
}

/** The spec called `name`; throws if the layout has none. */
export function parameterSpec(layout: ParameterLayout, name: string): ParameterSpec {
  const spec = layout.specs.find((s) => s.name === name);
  if (!spec) throw new RangeError(`no parameter '${name}' in this layout`);
  return spec;
}

/** The decoder's output bias: Burda et al. set it to the logit of the mean training pixel. */
export function outputBiasSpec(layout: ParameterLayout): ParameterSpec {
  return parameterSpec(layout, `decoder.${layout.architecture.hidden.length}.bias`);
}
