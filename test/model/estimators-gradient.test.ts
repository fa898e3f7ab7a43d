import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../../lib/config/run-config';
import { STUDY_ARCHITECTURE, type Architecture, type ParameterLayout } from '../../lib/model/architecture';
import { stackedLossAndGradient, stackedObjective } from '../../lib/model/fast-gradient';
import { disposeModel, initModel, modelFromParameters, readParameters, withNetwork } from '../../lib/model/model';
import { encode, unpackNetwork } from '../../lib/model/network';
import { MODEL_ESTIMATORS, sampleTerms } from '../../lib/model/objectives';
import { batchMajorNoise, lossAndGradient } from '../../lib/model/reference-gradient';
import { packStack, stackLayout, type StackLayout } from '../../lib/model/stack';
import { createStream } from '../../lib/random/streams';
import { asTensor2d, asTensor3d, randomImages, randomNoise, runGradient, runInputs, runVector, stackBlocks, stackInputs, testStream } from './fixtures';
import { referenceObjective, referenceSurrogate } from './reference-model';

/**
 * The gradient estimators 'iwae-stl', 'iwae-dreg' and 'vae-stl' (MODEL_ESTIMATORS in
 * lib/model/objectives.ts): their own properties. The fast path against autograd, run by run in stacks of
 * 1 and 3 (k = 1, 2, 5 on a tiny model, 1, 5, 50 on the study's), and each run of a stack against itself
 * alone, bit for bit, are the loops over MODEL_NAMES of test/model/fast-path.test.ts and
 * test/model/stack.test.ts, which include these models.
 * Here: autograd against finite differences of a float64 surrogate; the values and decoder gradients are
 * their base objective's exactly; STL drops exactly the score-function term; at k = 1 the three are one
 * estimator; DReG's expected gradient is IWAE's (and IWAE-STL's, which weighs the path by w~_i instead
 * of w~_i^2, is detectably not); tfjs memory stays flat.
 */
const ESTIMATORS = ['iwae-stl', 'iwae-dreg', 'vae-stl'] as const;
type Estimator = (typeof ESTIMATORS)[number];

const bits = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** The model whose values and full gradient the estimator shares: 'iwae' or 'vae-sampled-kl'. */
const baseOf = (model: Estimator): ModelName => MODEL_ESTIMATORS[model].value;


/** The fast path of every run of a stack: values, per-image losses and gradient (run layout). Disposes its tensors. */
function fastRuns(layout: StackLayout, parameters: Float32Array[], objective: ModelName, inputs: ReturnType<typeof runInputs>[], batch: number, k: number) {
  const params = stackBlocks(layout, packStack(layout, parameters));
  const { x, noise } = stackInputs(layout, batch, k, inputs);
  const out = stackedLossAndGradient(layout, params, objective, x, noise, k);
  const runs = out.runs.map((run, r) => ({ ...run, gradient: runGradient(layout, out.gradient, r) }));
  [x, noise, ...params, ...out.gradient].forEach((t) => t.dispose());
  return runs;
}

/** The autograd reference of one run: [loss, reconstruction, kl] and the gradient (run layout). */
function reference(layout: ParameterLayout, parameters: Float32Array, objective: ModelName, run: ReturnType<typeof runInputs>, batch: number, k: number) {
  const { input, latent } = layout.architecture;
  const model = modelFromParameters(layout, parameters);
  const x = tf.tensor2d(run.x, [batch, input]);
  const noise = tf.tensor3d(batchMajorNoise(run.noise, batch, k, latent), [batch, k, latent]);
  const out = lossAndGradient(model, objective, x, noise);
  const values = out.values.dataSync() as Float32Array;
  const gradient = out.gradient.dataSync() as Float32Array;
  [x, noise, out.values, out.gradient].forEach((t) => t.dispose());
  disposeModel(model);
  return { values, gradient };
}

/** Per flat index of the run layout: whether it is a decoder parameter. */
function decoderMask(layout: ParameterLayout): boolean[] {
  const mask = new Array<boolean>(layout.size).fill(false);
  for (const spec of layout.specs) if (spec.network === 'decoder') mask.fill(true, spec.offset, spec.offset + spec.size);
  return mask;
}
/** The parameter at flat index i, e.g. 'encoder.0.weight[3]' (for messages). */
const nameAt = (layout: ParameterLayout, i: number) => {
  const spec = layout.specs.find((s) => i >= s.offset && i < s.offset + s.size);
  return spec ? `${spec.name}[${i - spec.offset}]` : `padding[${i}]`;
};

const FD_MODEL = { input: 7, hidden: [5], latent: 3 };

/**
 * Autograd (float32) against central finite differences of the float64 surrogate (reference-model.ts
 * `referenceSurrogate`: the stop-gradients there are a second argument held at the current point), the
 * tolerance of gradients.test.ts (1e-5 relative to 1 + |gradient|: float32 rounding of the tfjs
 * gradient). The same differences are far from the base objective's full gradient, so the check tells
 * the estimators apart.
 */
for (const model of ESTIMATORS) {
  for (const k of [1, 4]) {
    test(`${model}, k = ${k}: the autograd gradient of every parameter matches finite differences of its float64 surrogate`, () => {
      const tiny = initModel(FD_MODEL, 'xavier-normal', createStream(21, 'init'));
      const flat64 = Float64Array.from(readParameters(tiny), (v) => v);
      const biasStream = testStream(22, 'bias');
      for (const spec of tiny.layout.specs) {
        if (spec.role === 'bias') for (let i = 0; i < spec.size; i++) flat64[spec.offset + i] = Math.fround(0.3 * (biasStream.uniform() - 0.5));
      }
      tiny.params.assign(tf.tensor1d(Float32Array.from(flat64)));
      const xs = randomImages(3, FD_MODEL.input, 23);
      const noise = randomNoise(3, k, FD_MODEL.latent, 24);
      const gradientOf = (objective: ModelName) => {
        const { values, gradient } = lossAndGradient(tiny, objective, asTensor2d(xs), asTensor3d(noise));
        const out = { loss: values.dataSync()[0], gradient: gradient.dataSync() as Float32Array };
        values.dispose();
        gradient.dispose();
        return out;
      };
      const { loss, gradient: autograd } = gradientOf(model);
      const full = gradientOf(baseOf(model)).gradient;
      const value = referenceObjective(model, flat64, tiny.layout, xs, noise).loss;
      assert.ok(Math.abs(loss - value) < 1e-4 * Math.max(1, Math.abs(value)), `loss ${loss} vs ${value}`);
      const frozen = Float64Array.from(flat64);
      const surrogate = (p: Float64Array) => referenceSurrogate(model, p, frozen, tiny.layout, xs, noise);
      const h = 1e-6;
      let worst = 0;
      let fromFull = 0;
      for (let i = 0; i < flat64.length; i++) {
        const saved = flat64[i];
        flat64[i] = saved + h;
        const up = surrogate(flat64);
        flat64[i] = saved - h;
        const down = surrogate(flat64);
        flat64[i] = saved;
        const numeric = (up - down) / (2 * h);
        const error = Math.abs(autograd[i] - numeric) / (1 + Math.abs(numeric));
        worst = Math.max(worst, error);
        fromFull = Math.max(fromFull, Math.abs(full[i] - numeric) / (1 + Math.abs(numeric)));
        if (!(error < 1e-5)) assert.fail(`${nameAt(tiny.layout, i)}: autograd ${autograd[i]}, numeric ${numeric}`);
      }
      assert.ok(worst > 0, 'compared something');
      assert.ok(fromFull > 1e-3, `the full gradient of ${baseOf(model)} would pass too (worst difference ${fromFull})`);
      disposeModel(tiny);
    });
  }
}

/**
 * Exact identities on the same parameters, images and noise, in a stack of 3 (and with an odd batch,
 * which the fast path pads): each estimator reports its base objective's values and per-image losses,
 * bit for bit, and its decoder gradient is the base's, bit for bit (the fast path computes both with the
 * same ops; only d loss / d z and what it feeds change), while its encoder gradient is not. The autograd
 * reference reports the base's values bit for bit too (objectiveValues); its decoder gradient comes from
 * a different graph (the surrogate), so it agrees to float32 rounding (the fast-path.test.ts tolerance,
 * 3e-5 of the gradient's largest entry).
 */
const TINY: Architecture = { input: 9, hidden: [7, 5], latent: 3 };

for (const [name, architecture, batch, k] of [
  ["the study's model, 20 images, k = 5", STUDY_ARCHITECTURE, 20, 5],
  ['a tiny model, 5 images (padded), k = 3', TINY, 5, 3],
] as const) {
  for (const model of ESTIMATORS) {
    test(`${name}, ${model}: the values and the decoder gradient are ${baseOf(model)}'s exactly, the encoder gradient is not`, () => {
      const layout = stackLayout(architecture, 3);
      const parameters = [0, 1, 2].map((r) => runVector(layout.run, 81 + r));
      const inputs = parameters.map((_, r) => runInputs(architecture, batch, k, 90 + r));
      const estimator = fastRuns(layout, parameters, model, inputs, batch, k);
      const base = fastRuns(layout, parameters, baseOf(model), inputs, batch, k);
      const decoder = decoderMask(layout.run);
      for (let r = 0; r < 3; r++) {
        const at = `${model} run ${r}`;
        assert.ok(estimator[r].values.finite, at);
        assert.deepEqual(estimator[r].values, base[r].values, `${at}: values`);
        assert.ok(bits(estimator[r].lossPerImage).equals(bits(base[r].lossPerImage)), `${at}: per-image losses`);
        const g = estimator[r].gradient;
        const b = base[r].gradient;
        const i = g.findIndex((v, j) => decoder[j] && !Object.is(v, b[j]));
        assert.equal(i, -1, i >= 0 ? `${at}: decoder gradient differs at ${nameAt(layout.run, i)}: ${g[i]} vs ${b[i]}` : '');
        assert.ok(g.some((v, j) => !decoder[j] && v !== b[j]), `${at}: the encoder gradient differs from the full one`);

        const ref = reference(layout.run, parameters[r], model, inputs[r], batch, k);
        const refBase = reference(layout.run, parameters[r], baseOf(model), inputs[r], batch, k);
        assert.ok(bits(ref.values).equals(bits(refBase.values)), `${at}: autograd values ${ref.values} vs ${refBase.values}`);
        let scale = 0;
        refBase.gradient.forEach((v, j) => decoder[j] && (scale = Math.max(scale, Math.abs(v))));
        refBase.gradient.forEach((v, j) => {
          if (decoder[j] && !(Math.abs(ref.gradient[j] - v) <= 3e-5 * scale)) assert.fail(`${at}: autograd decoder gradient ${nameAt(layout.run, j)}: ${ref.gradient[j]} vs ${v}`);
        });
      }
    });
  }
}

/**
 * d loss / d encoder parameters of the score-function term the STL estimators drop:
 * (1/batch) sum_b sum_i a_bi d log q(z_bi|x_b) / d phi at the samples z held fixed, with a = w~ (IWAE's
 * normalized weights) or 1/k (the sampled-KL ELBO). By autograd of that expression alone. Run layout.
 */
function scoreTermGradient(layout: ParameterLayout, parameters: Float32Array, run: ReturnType<typeof runInputs>, batch: number, k: number, weights: 'normalized' | 'uniform'): Float32Array {
  const { input, latent } = layout.architecture;
  const model = modelFromParameters(layout, parameters);
  const gradient = tf.tidy(() => {
    const x = tf.tensor2d(run.x, [batch, input]);
    const noise = tf.tensor3d(batchMajorNoise(run.noise, batch, k, latent), [batch, k, latent]);
    // Constants of the term: the samples and their weights at the current parameters.
    const [z, a] = withNetwork(model, (network) => {
      const terms = sampleTerms(network, x, noise);
      const std = tf.exp(tf.mul(terms.posterior.logVariance, 0.5));
      const samples = tf.add(tf.expandDims(terms.posterior.mean, 1), tf.mul(tf.expandDims(std, 1), noise));
      return [samples, weights === 'normalized' ? tf.softmax(terms.logWeights) : tf.fill([batch, k], 1 / k)];
    });
    return tf.grad((flat: tf.Tensor) => {
      const { mean, logVariance } = encode(unpackNetwork(flat as tf.Tensor1D, layout), x);
      const m = tf.expandDims(mean, 1);
      const v = tf.expandDims(logVariance, 1);
      // log q(z|x) up to its constant: -(sum_u (z - mean)^2 / var + logVariance) / 2.
      const logQ = tf.mul(tf.sum(tf.add(tf.mul(tf.square(tf.sub(z, m)), tf.exp(tf.neg(v))), v), 2), -0.5);
      return tf.div(tf.sum(tf.mul(a, logQ)), batch);
    })(model.params);
  });
  const out = gradient.dataSync() as Float32Array;
  gradient.dispose();
  disposeModel(model);
  return out;
}

/**
 * STL's defining property, exactly (to float32 rounding): the full gradient minus the STL gradient, same
 * noise, is the score-function term's gradient (zero on the decoder), for the fast path and for the
 * autograd reference. Tolerance 3e-5 of the full gradient's largest entry, as fast-path.test.ts: both
 * sides are float32 sums in different orders; a missing or doubled term is off by O(1).
 */
for (const [model, weights] of [
  ['iwae-stl', 'normalized'],
  ['vae-stl', 'uniform'],
] as const) {
  for (const k of [1, 5]) {
    test(`${model}, k = ${k}: the full gradient minus the STL gradient is the score-function term's (autograd), fast path and reference`, () => {
      const architecture = STUDY_ARCHITECTURE;
      const batch = 20;
      const layout = stackLayout(architecture, 2);
      const parameters = [0, 1].map((r) => runVector(layout.run, 101 + r));
      const inputs = parameters.map((_, r) => runInputs(architecture, batch, k, 110 + r));
      const fastStl = fastRuns(layout, parameters, model, inputs, batch, k);
      const fastFull = fastRuns(layout, parameters, baseOf(model), inputs, batch, k);
      for (let r = 0; r < 2; r++) {
        const score = scoreTermGradient(layout.run, parameters[r], inputs[r], batch, k, weights);
        const refStl = reference(layout.run, parameters[r], model, inputs[r], batch, k).gradient;
        const refFull = reference(layout.run, parameters[r], baseOf(model), inputs[r], batch, k).gradient;
        let scale = 0;
        let scoreScale = 0;
        refFull.forEach((v, i) => (scale = Math.max(scale, Math.abs(v))));
        score.forEach((v) => (scoreScale = Math.max(scoreScale, Math.abs(v))));
        assert.ok(scoreScale > 100 * 3e-5 * scale, `run ${r}: a score term worth checking (${scoreScale} vs gradient scale ${scale})`);
        for (const [path, full, stl] of [
          ['fast path', fastFull[r].gradient, fastStl[r].gradient],
          ['autograd', refFull, refStl],
        ] as const) {
          for (let i = 0; i < score.length; i++) {
            const difference = full[i] - stl[i];
            if (!(Math.abs(difference - score[i]) <= 3e-5 * scale)) assert.fail(`${path} run ${r} ${nameAt(layout.run, i)}: full - STL ${difference}, score term ${score[i]} (scale ${scale})`);
          }
        }
      }
    });
  }
}

/**
 * At k = 1 the normalized weight is 1 = 1^2 and L_1 is the one-sample ELBO, so IWAE-DReG, IWAE-STL and
 * VAE-STL are one estimator: the fast path gives the same values, per-image losses and gradients, bit
 * for bit (w~ = 1 exactly, and -1/batch is both objectives' weight).
 */
test('k = 1: iwae-dreg, iwae-stl and vae-stl are the same estimator, bit for bit', () => {
  const architecture = STUDY_ARCHITECTURE;
  const batch = 20;
  const layout = stackLayout(architecture, 2);
  const parameters = [0, 1].map((r) => runVector(layout.run, 121 + r));
  const inputs = parameters.map((_, r) => runInputs(architecture, batch, 1, 130 + r));
  const [dreg, stl, vaeStl] = (['iwae-dreg', 'iwae-stl', 'vae-stl'] as const).map((m) => fastRuns(layout, parameters, m, inputs, batch, 1));
  for (let r = 0; r < 2; r++) {
    assert.ok(dreg[r].gradient.some((v) => v !== 0), 'a non-trivial gradient');
    for (const [what, other] of [
      ['iwae-stl', stl[r]],
      ['vae-stl', vaeStl[r]],
    ] as const) {
      assert.deepEqual(dreg[r].values, other.values, `run ${r}: values of ${what}`);
      assert.ok(bits(dreg[r].lossPerImage).equals(bits(other.lossPerImage)), `run ${r}: per-image losses of ${what}`);
      assert.ok(bits(dreg[r].gradient).equals(bits(other.gradient)), `run ${r}: gradient of ${what}`);
    }
  }
});

/** P(|Z| > z) for a standard normal Z and z >= 3, by erfc's continued fraction (converged to ~1e-15 there). */
function twoSidedNormalTail(z: number): number {
  if (!(z >= 3)) throw new RangeError(`the continued fraction is for z >= 3, got ${z}`);
  const a = z / Math.SQRT2;
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
}

/** The z above which a two-sided test of `tests` entries rejects with family-wise error `alpha` (Bonferroni). */
function bonferroniBound(alpha: number, tests: number): number {
  let [low, high] = [3, 40];
  for (let i = 0; i < 100; i++) {
    const mid = (low + high) / 2;
    if (twoSidedNormalTail(mid) > alpha / tests) low = mid;
    else high = mid;
  }
  return high;
}

/** Paired differences estimator - base over noise draws, per flat entry: running sums in float64. */
class PairedDifferences {
  readonly sum: Float64Array;
  readonly sumSquares: Float64Array;
  draws = 0;
  constructor(size: number) {
    this.sum = new Float64Array(size);
    this.sumSquares = new Float64Array(size);
  }
  add(estimator: Float32Array, base: Float32Array): void {
    for (let i = 0; i < this.sum.length; i++) {
      const d = estimator[i] - base[i];
      this.sum[i] += d;
      this.sumSquares[i] += d * d;
    }
    this.draws++;
  }
  /** Mean difference / its standard error per entry (NaN where every draw's difference is the same). */
  zScores(): { mean: Float64Array; z: Float64Array } {
    const n = this.draws;
    const mean = this.sum.map((s) => s / n);
    const z = mean.map((m, i) => {
      const variance = (this.sumSquares[i] - n * m * m) / (n - 1);
      return variance > 0 ? m / Math.sqrt(variance / n) : NaN;
    });
    return { mean, z };
  }
}

/**
 * DReG's defining property: its expected gradient is IWAE's (unbiased), for the encoder too. A fixed
 * batch and fixed parameters; 2,000 noise draws (a stack of 100 runs with the same parameters and
 * images, each run its own noise: 20 calls); each draw gives IWAE's, IWAE-DReG's and IWAE-STL's gradient
 * on the same noise (and the sampled-KL ELBO's and VAE-STL's). Per encoder entry, the mean of the paired
 * difference over its standard error is a z-score; with M entries the bound is Bonferroni's at a
 * family-wise error of 1e-3 (4.5 for this model's encoder): DReG - IWAE and VAE-STL -
 * sampled-KL ELBO (STL is unbiased for the ELBO: E_q[score] = 0) must stay under it. IWAE-STL, DReG
 * with w~_i instead of w~_i^2 on the encoder's path (no score term), is biased for k > 1 (Tucker et al.
 * 2019): it must go over the bound in every encoder block, which shows the test can fail. The decoder
 * gradients are equal draw by draw (exact differences of 0). Deterministic streams: the draws are fixed.
 */
test('DReG is unbiased for the IWAE gradient, VAE-STL for the ELBO gradient; IWAE-STL is detectably biased (2,000 noise draws, paired z-scores)', () => {
  const architecture = TINY;
  const batch = 4;
  const k = 5;
  const runs = 100;
  const calls = 20;
  const layout = stackLayout(architecture, runs);
  const parameters = runVector(layout.run, 141);
  const images = testStream(142, 'test-images').fillUniform(new Float32Array(batch * architecture.input)).map((v) => (v < 0.3 ? 1 : 0));
  const params = stackBlocks(layout, packStack(layout, Array.from({ length: runs }, () => parameters)));
  const x = tf.tensor3d(new Float32Array(runs * batch * architecture.input).map((_, i) => images[i % images.length]), [runs, batch, architecture.input]);
  const noiseStream = testStream(143, 'noise');
  const pairs = { dreg: new PairedDifferences(layout.run.size), stl: new PairedDifferences(layout.run.size), vaeStl: new PairedDifferences(layout.run.size) };
  const before = tf.memory().numTensors;
  for (let c = 0; c < calls; c++) {
    const noise = tf.tensor3d(noiseStream.fillNormal(new Float32Array(runs * k * batch * architecture.latent)), [runs, k * batch, architecture.latent]);
    const gradients = (['iwae', 'iwae-dreg', 'iwae-stl', 'vae-sampled-kl', 'vae-stl'] as const).map((objective) => {
      const out = stackedLossAndGradient(layout, params, objective, x, noise, k);
      assert.ok(out.runs.every((r) => r.values.finite), objective);
      const perRun = Array.from({ length: runs }, (_, r) => runGradient(layout, out.gradient, r));
      out.gradient.forEach((t) => t.dispose());
      return perRun;
    });
    noise.dispose();
    const [iwae, dreg, stl, sampledKl, vaeStl] = gradients;
    for (let r = 0; r < runs; r++) {
      pairs.dreg.add(dreg[r], iwae[r]);
      pairs.stl.add(stl[r], iwae[r]);
      pairs.vaeStl.add(vaeStl[r], sampledKl[r]);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'the draws leave no tensors behind');
  [x, ...params].forEach((t) => t.dispose());

  const decoder = decoderMask(layout.run);
  const encoderEntries = layout.run.specs.filter((s) => s.network === 'encoder');
  const scores = { dreg: pairs.dreg.zScores(), stl: pairs.stl.zScores(), vaeStl: pairs.vaeStl.zScores() };
  for (const [what, pair] of Object.entries(pairs)) {
    for (let i = 0; i < layout.run.size; i++) {
      if (decoder[i]) assert.ok(pair.sum[i] === 0 && pair.sumSquares[i] === 0, `${what}: the decoder gradient ${nameAt(layout.run, i)} differs from the base's`);
    }
  }
  // Encoder entries that vary at all (an input pixel off in every image has an exactly-zero weight gradient).
  const tested = encoderEntries.flatMap((s) => Array.from({ length: s.size }, (_, j) => s.offset + j)).filter((i) => Number.isFinite(scores.dreg.z[i]));
  assert.ok(tested.length > 100, `${tested.length} encoder entries vary`);
  const bound = bonferroniBound(1e-3, tested.length);
  const perBlock = (z: Float64Array) =>
    encoderEntries.map((s) => {
      let worst = 0;
      for (let j = 0; j < s.size; j++) if (Number.isFinite(z[s.offset + j])) worst = Math.max(worst, Math.abs(z[s.offset + j]));
      return { name: s.name, worst };
    });
  const report = (z: Float64Array) => perBlock(z).map((b) => `${b.name} ${b.worst.toFixed(1)}`).join(', ');
  for (const what of ['dreg', 'vaeStl'] as const) {
    const worst = Math.max(...tested.map((i) => Math.abs(scores[what].z[i])));
    assert.ok(worst < bound, `${what}: max |z| ${worst.toFixed(2)} over the bound ${bound.toFixed(2)} (per block: ${report(scores[what].z)})`);
  }
  for (const block of perBlock(scores.stl.z)) {
    assert.ok(block.worst > bound, `iwae-stl's bias is not detected in ${block.name}: max |z| ${block.worst.toFixed(2)} <= ${bound.toFixed(2)} (per block: ${report(scores.stl.z)})`);
  }
});

/**
 * tfjs memory: the autograd reference of every estimator leaves exactly its two tensors behind, call
 * after call, and the forward-only stacked pass (the per-epoch test pass) only its posterior means. The
 * fast path's own checks are in fast-path.test.ts and stack.test.ts (their loops include these models).
 */
test('the estimators leave the tensor count flat: autograd reference and stacked forward pass', () => {
  const architecture = TINY;
  const batch = 5;
  const k = 3;
  const layout = stackLayout(architecture, 2);
  const parameters = [0, 1].map((r) => runVector(layout.run, 151 + r));
  const inputs = parameters.map((_, r) => runInputs(architecture, batch, k, 160 + r));
  const model = modelFromParameters(layout.run, parameters[0]);
  const x = tf.tensor2d(inputs[0].x, [batch, architecture.input]);
  const noise = tf.tensor3d(batchMajorNoise(inputs[0].noise, batch, k, architecture.latent), [batch, k, architecture.latent]);
  const params = stackBlocks(layout, packStack(layout, parameters));
  const stacked = stackInputs(layout, batch, k, inputs);
  for (const objective of ESTIMATORS) {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const out = lossAndGradient(model, objective, x, noise);
      assert.equal(tf.memory().numTensors, before + 2, `${objective} call ${i}: values and gradient only`);
      assert.ok(out.values.dataSync().every(Number.isFinite) && out.gradient.dataSync().some((v) => v !== 0), objective);
      out.values.dispose();
      out.gradient.dispose();
      const forward = stackedObjective(layout, params, objective, stacked.x, stacked.noise, k);
      assert.equal(tf.memory().numTensors, before + 1, `${objective} call ${i}: posterior means only`);
      forward.posteriorMeans.dispose();
      assert.equal(tf.memory().numTensors, before, `${objective} call ${i}`);
    }
  }
  [x, noise, stacked.x, stacked.noise, ...params].forEach((t) => t.dispose());
  disposeModel(model);
});
