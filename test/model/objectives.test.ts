import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES } from '../../lib/config/run-config';
import { importanceBoundPerImage } from '../../lib/model/estimators';
import { disposeModel, initModel, readParameters, withNetwork } from '../../lib/model/model';
import { closedFormKl, importanceBound, objectiveValues, sampleTerms } from '../../lib/model/objectives';
import { normalNoise } from '../../lib/model/noise';
import { createStream } from '../../lib/random/streams';
import { asTensor2d, asTensor3d, randomImages, randomNoise, testStream } from './fixtures';
import { referenceObjective } from './reference-model';

const TINY = { input: 6, hidden: [5, 4], latent: 3 };

function closeTo(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('each objective and its reconstruction/KL split match a float64 implementation of the formulas', () => {
  const model = initModel(TINY, 'xavier-normal', createStream(1, 'init'));
  const flat = readParameters(model);
  const xs = randomImages(4, TINY.input, 2);
  const noise = randomNoise(4, 3, TINY.latent, 3);
  for (const name of MODEL_NAMES) {
    const [loss, reconstruction, kl] = withNetwork(model, (network) => {
      const o = objectiveValues(name, network, asTensor2d(xs), asTensor3d(noise));
      return tf.stack([o.loss, o.reconstruction, o.kl]);
    }).dataSync();
    const ref = referenceObjective(name, flat, model.layout, xs, noise);
    closeTo(loss, ref.loss, 1e-5, `${name} loss`);
    closeTo(reconstruction, ref.reconstruction, 1e-5, `${name} reconstruction`);
    closeTo(kl, ref.kl, 1e-4, `${name} kl`);
  }
  disposeModel(model);
});

test('IWAE with k = 1 equals the sampled-KL VAE on the same noise, and its split too', () => {
  const model = initModel(TINY, 'he-uniform', createStream(4, 'init'));
  const xs = randomImages(8, TINY.input, 5);
  const noise = randomNoise(8, 1, TINY.latent, 6);
  const [iwae, sampled] = (['iwae', 'vae-sampled-kl'] as const).map((name) =>
    withNetwork(model, (network) => {
      const o = objectiveValues(name, network, asTensor2d(xs), asTensor3d(noise));
      return tf.stack([o.loss, o.reconstruction, o.kl]);
    }).dataSync(),
  );
  // Same ops on the loss path up to log-sum-exp of one value: equal to float32 rounding.
  iwae.forEach((v, i) => closeTo(v, sampled[i], 1e-6, `term ${i}`));
  // With k = 1 the closed-form VAE differs: only the KL estimator differs, the reconstruction is the same.
  const vae = withNetwork(model, (network) => objectiveValues('vae', network, asTensor2d(xs), asTensor3d(noise)).reconstruction).dataSync()[0];
  closeTo(vae, sampled[1], 1e-6, 'reconstruction');
  disposeModel(model);
});

test('the closed-form KL equals a 200,000-sample Monte Carlo estimate of E_q[log q - log p]', () => {
  const model = initModel(TINY, 'he-normal', createStream(7, 'init'));
  // Non-blank images: with zero biases a blank image's posterior is exactly the prior (KL = 0).
  const xs = [[1, 0, 1, 1, 0, 0], [0, 1, 1, 0, 1, 1]];
  const samples = 200_000;
  const [closed, monteCarlo, standardError] = withNetwork(model, (network) => {
    const x = asTensor2d(xs);
    const terms = sampleTerms(network, x, normalNoise(testStream(9, 'noise'), 2, samples, TINY.latent));
    const logQOverP = tf.sub(terms.logLikelihood, terms.logWeights); // log q - log p per sample
    const { mean, variance } = tf.moments(logQOverP, 1);
    return [closedFormKl(terms.posterior), mean, tf.sqrt(tf.div(variance, samples))];
  }).map((t) => Array.from(t.dataSync()));
  for (let b = 0; b < 2; b++) {
    assert.ok(closed[b] > 0, 'KL is positive for a non-prior posterior');
    assert.ok(Math.abs(closed[b] - monteCarlo[b]) < 4 * standardError[b] + 1e-4, `image ${b}: ${closed[b]} vs ${monteCarlo[b]} +- ${standardError[b]}`);
  }
  disposeModel(model);
});

test('the reported IWAE "loss" of the study is -L_k - (log k - H(w~)), never above -L_k', () => {
  const model = initModel(TINY, 'xavier-uniform', createStream(10, 'init'));
  const xs = randomImages(5, TINY.input, 11);
  const k = 7;
  const noise = randomNoise(5, k, TINY.latent, 12);
  const [loss, reconstruction, kl] = withNetwork(model, (network) => {
    const o = objectiveValues('iwae', network, asTensor2d(xs), asTensor3d(noise));
    return tf.stack([o.loss, o.reconstruction, o.kl]);
  }).dataSync();
  const ref = referenceObjective('iwae', readParameters(model), model.layout, xs, noise);
  let expectedGap = 0;
  for (const logW of ref.logWeights) {
    const max = Math.max(...logW);
    const sum = logW.reduce((s, v) => s + Math.exp(v - max), 0);
    const entropy = -logW.reduce((s, v) => {
      const w = Math.exp(v - max) / sum;
      return s + w * Math.log(w);
    }, 0);
    expectedGap += (Math.log(k) - entropy) / xs.length;
  }
  const studyLoss = reconstruction + kl;
  assert.ok(studyLoss <= loss + 1e-4, `${studyLoss} > ${loss}`);
  closeTo(loss - studyLoss, expectedGap, 1e-3, 'gap');
  disposeModel(model);
});

test('importanceBound is a stable log-mean-exp: huge log weights neither overflow nor lose precision', () => {
  const bound = tf.tidy(() => importanceBound(tf.tensor2d([[1000, 1000, 1000], [-1000, -1000 + Math.log(2), -2000]]))).arraySync();
  closeTo(bound[0], 1000, 1e-7, 'equal weights');
  closeTo(bound[1], -1000 + Math.log(3 / 3), 1e-6, 'mixed');
});

test('L_k is non-decreasing in k in expectation and stays below log p(x)', () => {
  const model = initModel(TINY, 'xavier-normal', createStream(13, 'init'));
  // One image repeated: each row is an independent estimate of the same L_k.
  const repeats = 3000;
  const image = randomImages(1, TINY.input, 14)[0];
  const x = tf.tensor2d(Array.from({ length: repeats }, () => image));
  const meanAndSe = (k: number) => {
    const values = importanceBoundPerImage(model, x, k, testStream(15, `noise-${k}`), { maxRows: 60_000 });
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
    return { mean, se: Math.sqrt(variance / values.length) };
  };
  const l1 = meanAndSe(1);
  const l5 = meanAndSe(5);
  const l50 = meanAndSe(50);
  // log p(x) itself: L_k with k = 200,000 on one row (bias ~ Var(w)/(2k) is negligible here).
  const logPx = importanceBoundPerImage(model, tf.tensor2d([image]), 200_000, testStream(16, 'noise'))[0];
  x.dispose();
  assert.ok(l5.mean - l1.mean > 3 * Math.hypot(l1.se, l5.se), `L1 ${l1.mean} +- ${l1.se}, L5 ${l5.mean} +- ${l5.se}`);
  assert.ok(l50.mean - l5.mean > 3 * Math.hypot(l5.se, l50.se), `L5 ${l5.mean} +- ${l5.se}, L50 ${l50.mean} +- ${l50.se}`);
  assert.ok(l50.mean < logPx + 3 * l50.se, `L50 ${l50.mean} above log p(x) ${logPx}`);
  disposeModel(model);
});

test('the chunked L_k estimator equals the one-chunk computation and leaks no tensors', () => {
  const model = initModel(TINY, 'he-normal', createStream(17, 'init'));
  const x = tf.tensor2d(randomImages(1, TINY.input, 18));
  const before = tf.memory().numTensors;
  // One image: chunks of 6 samples draw the same noise sequence as one chunk of 50 (an even count of
  // normals per chunk: fillNormal drops the second Box-Muller value of an odd-length fill).
  const chunked = importanceBoundPerImage(model, x, 50, testStream(19, 'noise'), { maxRows: 6 });
  const whole = importanceBoundPerImage(model, x, 50, testStream(19, 'noise'), { maxRows: 1000 });
  assert.equal(tf.memory().numTensors, before);
  closeTo(chunked[0], whole[0], 1e-6, 'L_50');
  // And both equal log-mean-exp of the float64 reference's log weights on that noise.
  const noise = testStream(19, 'noise').fillNormal(new Float32Array(50 * TINY.latent));
  const nested = [Array.from({ length: 50 }, (_, i) => Array.from(noise.subarray(i * TINY.latent, (i + 1) * TINY.latent)))];
  const logW = referenceObjective('iwae', readParameters(model), model.layout, x.arraySync() as number[][], nested).logWeights[0];
  const max = Math.max(...logW);
  const expected = max + Math.log(logW.reduce((s, v) => s + Math.exp(v - max), 0) / 50);
  closeTo(whole[0], expected, 1e-5, 'reference L_50');
  x.dispose();
  disposeModel(model);
});
