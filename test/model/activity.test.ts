import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { DeviceSplit } from '../../lib/data/device-split';
import type { MnistSplit } from '../../lib/data/mnist';
import { ActivityAccumulator, activeUnitsOf } from '../../lib/model/activity';
import { posteriorMeans } from '../../lib/model/estimators';
import { disposeModel, modelFromParameters } from '../../lib/model/model';
import { packStack, stackLayout } from '../../lib/model/stack';
import { counterStream } from '../../lib/random/counter-stream';
import { activityPass } from '../../lib/training/evaluate';
import { runVector, stackBlocks, testStream } from './fixtures';

function twoPassVariance(rows: number[][], unit: number): number {
  const n = rows.length;
  const mean = rows.reduce((s, r) => s + r[unit], 0) / n;
  return rows.reduce((s, r) => s + (r[unit] - mean) ** 2, 0) / (n - 1);
}

test('streamed A_u (uneven batches) equals the unbiased two-pass variance of the posterior means', () => {
  const stream = testStream(1, 'activity');
  const units = 4;
  // Unit scales from tiny to large, with a large common offset (where naive sum-of-squares fails).
  const scales = [1e-3, 0.05, 1, 30];
  const rows = Array.from({ length: 1003 }, () => scales.map((s) => 1000 + s * (stream.uniform() - 0.5)));
  const accumulator = new ActivityAccumulator(units);
  let start = 0;
  for (const size of [1, 500, 2, 0, 497, 3]) {
    accumulator.add(rows.slice(start, start + size).flat(), size);
    start += size;
  }
  assert.equal(accumulator.samples, 1003);
  accumulator.activity().forEach((a, u) => {
    const expected = twoPassVariance(rows, u);
    assert.ok(Math.abs(a - expected) <= 1e-9 * expected + 1e-12, `unit ${u}: ${a} vs ${expected}`);
  });
  const active = activeUnitsOf(accumulator.activity(), 1e-2);
  assert.equal(active.count, 2, 'units with variance 0.05^2/12 and 1e-6/12 are inactive, the others active');
});

test('activityPass over a DeviceSplit (uneven batches, a stack of 2) equals the variance of all posterior means computed at once', () => {
  const count = 130;
  const stream = testStream(2, 'images');
  // Only 0 and 255 bytes: every binarization gives the same bits, so both paths see identical inputs.
  const images = Uint8Array.from({ length: count * 784 }, () => (stream.uniform() < 0.2 ? 255 : 0));
  const split: MnistSplit = { images, labels: new Uint8Array(count), count };
  const layout = stackLayout({ input: 784, hidden: [32], latent: 6 }, 2);
  const perRun = [3, 4].map((seed) => runVector(layout.run, seed));
  const params = stackBlocks(layout, packStack(layout, perRun));
  const device = new DeviceSplit(split);
  const sources = [5, 6].map((seed) => ({ kind: 'dynamic' as const, stream: counterStream(seed, 'activity-binarization') }));
  const options = { batchSize: 17, epoch: 1, activeUnitThreshold: 1e-2 };
  activityPass({ layout, params }, device, sources, options);
  const before = tf.memory().numTensors;
  const streamed = activityPass({ layout, params }, device, sources, options);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  assert.equal(streamed.length, 2);
  const x = tf.tensor2d(Float32Array.from(images, (b) => b / 255), [count, 784]);
  perRun.forEach((parameters, r) => {
    const model = modelFromParameters(layout.run, parameters);
    const means = posteriorMeans(model, x).arraySync();
    disposeModel(model);
    assert.equal(streamed[r].activity.length, 6);
    streamed[r].activity.forEach((a, u) => {
      const expected = twoPassVariance(means, u);
      assert.ok(expected > 0, 'a unit that varies');
      assert.ok(Math.abs(a - expected) <= 1e-6 * expected, `run ${r} unit ${u}: ${a} vs ${expected}`);
    });
    assert.equal(streamed[r].count, streamed[r].activity.filter((a) => a > 1e-2).length);
  });
  assert.notDeepEqual(streamed[0].activity, streamed[1].activity, 'each run is measured with its own weights');
  x.dispose();
  device.dispose();
  params.forEach((t) => t.dispose());
});
