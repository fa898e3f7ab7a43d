import * as tf from '@tensorflow/tfjs-node';
import { specsInVectorOrder, type ParameterLayout } from './architecture';

/** One affine layer as views of the flat parameter vector. */
export interface DenseLayer {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** The encoder and decoder layers, first to last. Views only: dispose them with the enclosing tidy. */
export interface Network {
  layout: ParameterLayout;
  encoder: DenseLayer[];
  decoder: DenseLayer[];
}

/**
 * Views of every layer of the flat vector `flat`. One SplitV op cuts all pieces in the vector's order
 * (its gradient is one concat), instead of a slice per parameter. Call inside tf.tidy (or a gradient
 * function).
 */
export function unpackNetwork(flat: tf.Tensor1D, layout: ParameterLayout): Network {
  if (flat.size !== layout.size) throw new RangeError(`flat parameters have ${flat.size} values, the layout needs ${layout.size}`);
  const ordered = specsInVectorOrder(layout);
  const { padding } = layout;
  const pieces = tf.split(flat, [...ordered.map((s) => s.size), ...(padding > 0 ? [padding] : [])]);
  const byName = new Map(ordered.map((spec, i) => [spec.name, pieces[i]]));
  const network: Network = { layout, encoder: [], decoder: [] };
  for (let i = 0; i < layout.specs.length; i += 2) {
    const w = layout.specs[i];
    const weight = byName.get(w.name)!.reshape([w.fanIn, w.fanOut]) as tf.Tensor2D;
    const bias = byName.get(layout.specs[i + 1].name) as tf.Tensor1D;
    network[w.network].push({ weight, bias });
  }
  return network;
}

/** tanh hidden layers, linear last layer. */
function mlp(layers: DenseLayer[], input: tf.Tensor2D): tf.Tensor2D {
  let h = input;
  layers.forEach((layer, i) => {
    const affine = tf.add(tf.matMul(h, layer.weight), layer.bias) as tf.Tensor2D;
    h = i + 1 < layers.length ? tf.tanh(affine) : affine;
  });
  return h;
}

/** The diagonal Gaussian q(z|x) of each row of `x` ([batch, input] of 0/1 values). A type alias (not an
 * interface) so it is a tf.TensorContainer and can be returned from tf.tidy. */
export type Posterior = {
  mean: tf.Tensor2D;
  logVariance: tf.Tensor2D;
};

export function encode(network: Network, x: tf.Tensor2D): Posterior {
  const out = mlp(network.encoder, x);
  const latent = network.layout.architecture.latent;
  const [mean, logVariance] = tf.split(out, [latent, latent], 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mean, logVariance };
}

/** Bernoulli logits of p(x|z) for each row of `z` ([rows, latent]). */
export function decodeLogits(network: Network, z: tf.Tensor2D): tf.Tensor2D {
  return mlp(network.decoder, z);
}
