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
 * All parameters of a model live in ONE flat float32 vector: tfjs-node pays ~50-70 us per op whatever its
 * size, so one buffer means one split in the forward pass and one Adam update for everything, instead of a
 * dozen per variable. The layout says which slice is which layer.
 */
export interface ParameterLayout {
  architecture: Architecture;
  specs: ParameterSpec[];
  /** Number of floats in the flat vector. */
  size: number;
}

export function parameterLayout(architecture: Architecture): ParameterLayout {
  const { input, hidden, latent } = architecture;
  if (!Number.isInteger(input) || input < 1 || !Number.isInteger(latent) || latent < 1 || hidden.length < 1) {
    throw new RangeError(`bad architecture ${JSON.stringify(architecture)}`);
  }
  for (const h of hidden) if (!Number.isInteger(h) || h < 1) throw new RangeError(`bad hidden size ${h}`);
  const encoderSizes = [input, ...hidden, 2 * latent];
  const decoderSizes = [latent, ...[...hidden].reverse(), input];
  const specs: ParameterSpec[] = [];
  let offset = 0;
  const addNetwork = (network: NetworkName, sizes: number[]) => {
    for (let layer = 0; layer + 1 < sizes.length; layer++) {
      const fanIn = sizes[layer];
      const fanOut = sizes[layer + 1];
      specs.push({ name: `${network}.${layer}.weight`, network, layer, role: 'weight', shape: [fanIn, fanOut], offset, size: fanIn * fanOut, fanIn, fanOut });
      offset += fanIn * fanOut;
      specs.push({ name: `${network}.${layer}.bias`, network, layer, role: 'bias', shape: [fanOut], offset, size: fanOut, fanIn, fanOut });
      offset += fanOut;
    }
  };
  addNetwork('encoder', encoderSizes);
  addNetwork('decoder', decoderSizes);
  return { architecture: { input, hidden: [...hidden], latent }, specs, size: offset };
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
