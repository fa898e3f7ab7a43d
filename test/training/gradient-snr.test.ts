import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import type { ModelName } from '../../lib/config/run-config';
import { outputBiasSpec, parameterLayout, type Architecture } from '../../lib/model/architecture';
import { stackedLossAndGradient } from '../../lib/model/fast-gradient';
import { disposeModel, modelFromParameters } from '../../lib/model/model';
import { stackLayout } from '../../lib/model/stack';
import { batchMajorNoise, lossAndGradient } from '../../lib/model/reference-gradient';
import { counterStream, groupCounter } from '../../lib/random/counter-stream';
import { GRADIENT_SNR_MAX_DRAWS } from '../../lib/config/run-config';
import { blockSummaries, GradientMoments, measureGradientSnr, type GradientSnr } from '../../lib/training/gradient-snr';
import { runVector, testStream } from '../model/fixtures';

/**
 * The gradient SNR (lib/training/gradient-snr.ts): the per-entry statistic and the block summaries on
 * draws with a known answer; the stacked measurement against a direct per-draw computation through the
 * autograd reference, and against itself grouped differently and in another stack (bit for bit); tfjs
 * memory stays flat.
 */
const TINY: Architecture = { input: 9, hidden: [7, 5], latent: 3 };

test('per entry, SNR = |mean| / sd (n - 1) over the draws; entries that never vary are left out of the block summaries', () => {
  // Draws g_d = a + b e_d with e = (-1, 0, 1): sample mean a, sample sd |b| exactly, so SNR = |a| / |b|.
  const layout = parameterLayout({ input: 2, hidden: [1], latent: 1 });
  const a = new Float64Array(layout.size);
  const b = new Float64Array(layout.size);
  for (let i = 0; i < layout.size; i++) {
    a[i] = ((i % 5) - 2) * 0.75;
    b[i] = i % 4 === 3 ? 0 : 0.5 + (i % 3); // every 4th entry does not vary
  }
  const moments = new GradientMoments(layout.size);
  for (const e of [-1, 0, 1]) moments.add(Float32Array.from(a, (v, i) => v + b[i] * e));
  assert.equal(moments.draws, 3);
  const snr = moments.snr();
  for (let i = 0; i < layout.size; i++) {
    if (b[i] === 0) assert.ok(Number.isNaN(snr[i]), `entry ${i} does not vary: left out`);
    else assert.ok(Math.abs(snr[i] - Math.abs(a[i]) / b[i]) < 1e-12, `entry ${i}: ${snr[i]} vs ${Math.abs(a[i]) / b[i]}`);
  }
  const blocks = blockSummaries(layout, snr);
  assert.deepEqual(blocks.map((s) => s.block), layout.specs.map((s) => s.name));
  for (const [j, spec] of layout.specs.entries()) {
    const expected = Array.from({ length: spec.size }, (_, i) => spec.offset + i).filter((i) => b[i] !== 0).map((i) => Math.abs(a[i]) / b[i]).sort((x, y) => x - y);
    const n = expected.length;
    assert.equal(blocks[j].entries, n, spec.name);
    assert.equal(blocks[j].network, spec.network);
    if (n === 0) {
      assert.deepEqual([blocks[j].meanSnr, blocks[j].medianSnr], [0, 0]);
      continue;
    }
    const median = n % 2 ? expected[(n - 1) / 2] : (expected[n / 2 - 1] + expected[n / 2]) / 2;
    assert.ok(Math.abs(blocks[j].meanSnr - expected.reduce((s, v) => s + v, 0) / n) < 1e-12, `${spec.name} mean`);
    assert.ok(Math.abs(blocks[j].medianSnr - median) < 1e-12, `${spec.name} median`);
  }
  // Fewer than two draws: no variance yet.
  const one = new GradientMoments(3);
  one.add(Float32Array.of(1, 2, 3));
  assert.ok(one.snr().every(Number.isNaN));
});

test('a large mean against small noise keeps its SNR (the sums are shifted by the first draw)', () => {
  // Mean ~1000 and sd ~1e-3 in float32 draws (as gradients come): a two-pass float64 computation is exact here.
  const values = [-1, 0, 1, 0, 2, -1].map((e) => Math.fround(1000 + 0.001 * e));
  const moments = new GradientMoments(1);
  for (const v of values) moments.add(Float32Array.of(v));
  const [snr] = moments.snr();
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
  assert.ok(sd > 0 && Math.abs(snr / (mean / sd) - 1) < 1e-9, `${snr} vs ${mean / sd}`);
});

/** Run parameters and a 0/1 batch of `images` for each run, as the trainer hands them over. */
function setup(runs: number, images: number) {
  const layout = parameterLayout(TINY);
  const parameters = Array.from({ length: runs }, (_, r) => runVector(layout, 201 + r));
  const bits = Float32Array.from(testStream(210, 'test-images').fillUniform(new Float32Array(runs * images * TINY.input)), (u) => (u < 0.3 ? 1 : 0));
  return { layout, parameters, bits, x: () => tf.tensor3d(bits, [runs, images, TINY.input]) };
}

/**
 * The same statistic computed the plain way: each draw's noise from the run's 'snr-noise' stream at its
 * counter, the gradient by the autograd reference (lossAndGradient) on the run's batch, the moments and
 * summaries as above. The fast stacked path agrees with autograd to float32 rounding, so the summaries
 * agree closely (the SNR is a ratio of sums over draws of those gradients).
 */
function directSnr(parameters: Float32Array, seed: number, bits: Float32Array, model: ModelName, k: number, draws: number, epoch: number, images: number): GradientSnr {
  const layout = parameterLayout(TINY);
  const reference = modelFromParameters(layout, parameters);
  const x = tf.tensor2d(bits, [images, TINY.input]);
  const moments = new GradientMoments(layout.size);
  const stream = counterStream(seed, 'snr-noise');
  for (let d = 0; d < draws; d++) {
    const sampleMajor = stream.normal([k * images, TINY.latent], groupCounter(epoch, d, GRADIENT_SNR_MAX_DRAWS));
    const noise = tf.tensor3d(batchMajorNoise(sampleMajor.dataSync() as Float32Array, images, k, TINY.latent), [images, k, TINY.latent]);
    sampleMajor.dispose();
    const out = lossAndGradient(reference, model, x, noise);
    moments.add(out.gradient.dataSync() as Float32Array);
    [noise, out.values, out.gradient].forEach((t) => t.dispose());
  }
  x.dispose();
  disposeModel(reference);
  return { draws, images, blocks: blockSummaries(layout, moments.snr()) };
}

for (const model of ['iwae', 'iwae-dreg', 'vae-stl'] as const) {
  test(`${model}: the stacked SNR of each run of a stack matches a per-draw computation through the autograd reference`, async () => {
    const images = 4;
    const k = 5;
    const draws = 40;
    const seeds = [7, 8];
    const { parameters, bits, x } = setup(2, images);
    const batch = x();
    const before = tf.memory().numTensors;
    const measured = await measureGradientSnr(
      parameters.map((p, r) => ({ parameters: p, seed: seeds[r] })),
      batch,
      { architecture: TINY, model, k, draws, epoch: 3 },
    );
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    batch.dispose();
    for (let r = 0; r < 2; r++) {
      const direct = directSnr(parameters[r], seeds[r], bits.subarray(r * images * TINY.input, (r + 1) * images * TINY.input), model, k, draws, 3, images);
      assert.equal(measured[r].draws, draws);
      assert.equal(measured[r].images, images);
      for (const [j, block] of measured[r].blocks.entries()) {
        const other = direct.blocks[j];
        assert.equal(block.block, other.block);
        assert.equal(block.entries, other.entries, `run ${r} ${block.block}: entries that vary`);
        assert.ok(block.entries > 0, `run ${r} ${block.block}: something to measure`);
        for (const key of ['meanSnr', 'medianSnr'] as const) {
          assert.ok(Math.abs(block[key] - other[key]) <= 1e-3 * Math.max(1, other[key]), `run ${r} ${block.block} ${key}: ${block[key]} vs ${other[key]}`);
        }
      }
    }
  });
}

test("a run's SNR is the same alone as beside other runs (bit for bit), grouped otherwise the same to float32 rounding; another epoch draws other noise", async () => {
  const images = 5; // odd: the fast path pads the batch
  const k = 3;
  const draws = 12;
  const { parameters, bits, x } = setup(3, images);
  const runs = parameters.map((p, r) => ({ parameters: p, seed: 40 + r }));
  const options = { architecture: TINY, model: 'iwae-dreg' as const, k, draws, epoch: 2 };
  const batch = x();
  const before = tf.memory().numTensors;
  const together = await measureGradientSnr(runs, batch, options);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  const alone = tf.tensor3d(bits.subarray(images * TINY.input, 2 * images * TINY.input), [1, images, TINY.input]);
  assert.deepEqual(await measureGradientSnr([runs[1]], alone, options), [together[1]]);
  for (const perCall of [1, 5]) {
    const regrouped = await measureGradientSnr(runs, batch, { ...options, perCall });
    regrouped.forEach((run, r) =>
      run.blocks.forEach((b, j) => {
        const other = together[r].blocks[j];
        assert.equal(b.entries, other.entries);
        for (const key of ['meanSnr', 'medianSnr'] as const) assert.ok(Math.abs(b[key] - other[key]) <= 1e-5 * other[key], `perCall ${perCall} run ${r} ${b.block} ${key}: ${b[key]} vs ${other[key]}`);
      }),
    );
  }
  const otherEpoch = await measureGradientSnr([runs[1]], alone, { ...options, epoch: 3 });
  assert.notDeepEqual(otherEpoch[0].blocks, together[1].blocks);
  [batch, alone].forEach((t) => t.dispose());
});

test('draws the fast path cannot decide (log sigmoid underflows) are computed by the autograd reference, as in training', async () => {
  // Every image has pixel 0 on and the decoder says it is "surely off": the fast path gives up on every draw.
  const images = 4;
  const k = 2;
  const draws = 6;
  const { layout, parameters, bits } = setup(1, images);
  const stuck = Float32Array.from(parameters[0]);
  stuck[outputBiasSpec(layout).offset] = -120;
  for (let b = 0; b < images; b++) bits[b * TINY.input] = 1;
  const batch = tf.tensor3d(bits, [1, images, TINY.input]);
  const one = stackLayout(TINY, 1);
  const params = one.blocks.map((b) => tf.tensor1d(stuck.subarray(b.spec.offset, b.spec.offset + b.spec.size)));
  const noise = tf.randomNormal([1, k * images, TINY.latent]) as tf.Tensor3D;
  const fast = stackedLossAndGradient(one, params, 'iwae', batch, noise, k);
  assert.equal(fast.runs[0].values.finite, false, 'the fast path gives up');
  [...params, noise, ...fast.gradient].forEach((t) => t.dispose());
  const before = tf.memory().numTensors;
  const [measured] = await measureGradientSnr([{ parameters: stuck, seed: 9 }], batch, { architecture: TINY, model: 'iwae', k, draws, epoch: 1 });
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  batch.dispose();
  assert.deepEqual(measured, directSnr(stuck, 9, bits, 'iwae', k, draws, 1, images));
  assert.ok(measured.blocks.every((b) => Number.isFinite(b.meanSnr) && b.entries > 0));
});
