import * as tf from '@tensorflow/tfjs-node';
import { baseLayout, MODEL_COLORS } from '../figures/style';
import type { PlotlyFigure } from '../figures/types';

export interface BackendCheck {
  backend: string;
  matMul: number[][];
  numTensorsLeaked: number;
}

/** A tiny computation on the native backend: proves the addon loads and that tidy frees what it made. */
export function backendCheck(): BackendCheck {
  const before = tf.memory().numTensors;
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])));
  const matMul = product.arraySync() as number[][];
  product.dispose();
  return { backend: tf.getBackend(), matMul, numTensorsLeaked: tf.memory().numTensors - before };
}

/**
 * log p(x|z) of one Bernoulli pixel as a function of its logit, computed on the native backend the way
 * the model does (x*l - softplus(l)): never log(sigmoid(l)), which underflows to -Infinity.
 */
export function bernoulliLogLikelihoodFigure(): PlotlyFigure {
  const logits = Array.from({ length: 201 }, (_, i) => -100 + i);
  const curves = tf.tidy(() => {
    const l = tf.tensor1d(logits);
    const stable = (x: number) => tf.sub(tf.mul(x, l), tf.softplus(l));
    const naive = (x: number) => tf.add(tf.mul(x, tf.log(tf.sigmoid(l))), tf.mul(1 - x, tf.log(tf.sub(1, tf.sigmoid(l)))));
    return [stable(1), stable(0), naive(1), naive(0)].map((t) => Array.from(t.dataSync()));
  });
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  const lost = curves[2].concat(curves[3]).filter((v) => !Number.isFinite(v)).length;
  return {
    data: [
      { x: logits, y: curves[0], name: 'x = 1, x·l − softplus(l)', mode: 'lines', line: { color: MODEL_COLORS.iwae, width: 3 } },
      { x: logits, y: curves[1], name: 'x = 0, x·l − softplus(l)', mode: 'lines', line: { color: MODEL_COLORS.vae, width: 3 } },
      { x: logits, y: curves[2].map(finite), name: 'x = 1, log sigmoid (float32)', mode: 'lines', line: { color: '#555', dash: 'dot' } },
      { x: logits, y: curves[3].map(finite), name: 'x = 0, log(1 − sigmoid) (float32)', mode: 'lines', line: { color: '#999', dash: 'dot' } },
      // Where the naive form has no value (-Infinity), a cross on the stable curve it should have matched:
      // a gap in a dotted line under a thick one is invisible.
      {
        x: logits.flatMap((l, i) => [curves[2][i], curves[3][i]].flatMap((v, j) => (Number.isFinite(v) ? [] : [l]))),
        y: logits.flatMap((_, i) => [curves[2][i], curves[3][i]].flatMap((v, j) => (Number.isFinite(v) ? [] : [curves[j][i]]))),
        name: 'naive form gives −Infinity here',
        mode: 'markers',
        marker: { symbol: 'x-thin-open', size: 7, color: '#000', line: { width: 1.5 } },
        hovertemplate: 'l = %{x}: naive form −Infinity<extra></extra>',
      },
    ],
    layout: {
      ...baseLayout(
        'Bernoulli log-likelihood of one pixel, computed on tfjs-node',
        `dotted: the naive log(sigmoid) form; crosses: its ${lost} of ${2 * logits.length} points at −Infinity`,
        { x: 'logit l', y: 'log p(x | z)  [nats]' },
      ),
    },
  };
}
