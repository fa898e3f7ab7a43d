import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { parseRunConfig } from '../../lib/config/run-config';
import { batches } from '../../lib/data/batches';
import { fixedBinarization, type Binarizer } from '../../lib/data/binarize';
import { takeFirst, type MnistSplit } from '../../lib/data/mnist';
import { normalNoise } from '../../lib/model/noise';
import { createStream, restoreStream } from '../../lib/random/streams';
import { FEED_KINDS, openTrainingFeed, type FeedKind, type FeedSources, type TrainingFeed } from '../../lib/training/feed';
import { trainRun, type EpochMetrics } from '../../lib/training/run';
import { mnistData } from '../helpers/mnist';

const data = mnistData;

// 103 images in batches of 20: five whole batches and a last one of 3.
const SHAPE = { batchSize: 20, k: 3, latent: 4 };
const COUNT = 103;

function sources(seed: number, binarizer: 'dynamic' | 'fixed', split: MnistSplit): FeedSources {
  const bits: Binarizer =
    binarizer === 'dynamic' ? { kind: 'dynamic', stream: createStream(seed, 'binarization') } : { kind: 'fixed', bits: fixedBinarization(split, createStream(seed, 'binarization')) };
  return { order: createStream(seed, 'data-order'), binarizer: bits, noise: createStream(seed, 'noise') };
}

/** Every step of `epochs` epochs as plain arrays (tensors disposed). */
function drain(feed: TrainingFeed, epochs: number): Array<{ size: number; x: Float32Array; noise: Float32Array }> {
  const out: Array<{ size: number; x: Float32Array; noise: Float32Array }> = [];
  for (let e = 0; e < epochs; e++) {
    for (const { size, x, noise } of feed.epoch()) {
      assert.deepEqual(x.shape, [size, 784]);
      assert.deepEqual(noise.shape, [size, SHAPE.k, SHAPE.latent]);
      out.push({ size, x: x.dataSync() as Float32Array, noise: noise.dataSync() as Float32Array });
      x.dispose();
      noise.dispose();
    }
  }
  return out;
}

for (const binarizer of ['dynamic', 'fixed'] as const) {
  test(`both feeds draw exactly what the training loop drew before them: batches() then normalNoise (${binarizer} binarization)`, async () => {
    const split = takeFirst((await data()).train, COUNT);
    // The loop as it was: batches() over the run's order/binarization streams, noise per step.
    const before = sources(5, binarizer, split);
    const expected: Array<{ size: number; x: Float32Array; noise: Float32Array }> = [];
    for (let e = 0; e < 2; e++) {
      for (const x of batches(split, { batchSize: SHAPE.batchSize, order: before.order, binarizer: before.binarizer })) {
        const noise = normalNoise(before.noise, x.shape[0], SHAPE.k, SHAPE.latent);
        expected.push({ size: x.shape[0], x: x.dataSync() as Float32Array, noise: noise.dataSync() as Float32Array });
        x.dispose();
        noise.dispose();
      }
    }
    assert.deepEqual(expected.map((s) => s.size), [20, 20, 20, 20, 20, 3, 20, 20, 20, 20, 20, 3]);
    for (const kind of FEED_KINDS) {
      const tensors = tf.memory().numTensors;
      const feed = openTrainingFeed(kind, split, SHAPE, sources(5, binarizer, split));
      try {
        assert.deepEqual(drain(feed, 2), expected, kind);
        // The states after epoch 2 are where the loop's streams stood.
        const states = feed.states();
        assert.deepEqual(states['data-order'], before.order.state(), kind);
        assert.deepEqual(states.noise, before.noise.state(), kind);
        if (binarizer === 'dynamic') assert.deepEqual(states.binarization, (before.binarizer as { stream: { state(): unknown } }).stream.state(), kind);
        else assert.equal(states.binarization, undefined);
      } finally {
        feed.close();
      }
      assert.equal(tf.memory().numTensors, tensors, `${kind}: no tensor left behind`);
    }
  });
}

test("a feed reopened from an epoch's end states continues exactly (what resuming from a checkpoint does)", async () => {
  const split = takeFirst((await data()).train, COUNT);
  for (const kind of FEED_KINDS) {
    const straight = openTrainingFeed(kind, split, SHAPE, sources(9, 'dynamic', split));
    const first = openTrainingFeed(kind, split, SHAPE, sources(9, 'dynamic', split));
    try {
      const expected = drain(straight, 2).slice(6);
      drain(first, 1);
      const s = first.states();
      const resumed = openTrainingFeed(kind, split, SHAPE, {
        order: restoreStream('data-order', s['data-order']),
        binarizer: { kind: 'dynamic', stream: restoreStream('binarization', s.binarization!) },
        noise: restoreStream('noise', s.noise),
      });
      try {
        assert.deepEqual(drain(resumed, 1), expected, kind);
      } finally {
        resumed.close();
      }
    } finally {
      straight.close();
      first.close();
    }
  }
});

test('leaving an epoch early closes the feed: no more epochs, nothing leaked', async () => {
  const split = takeFirst((await data()).train, COUNT);
  for (const kind of FEED_KINDS) {
    const tensors = tf.memory().numTensors;
    const feed = openTrainingFeed(kind, split, SHAPE, sources(2, 'dynamic', split));
    for (const { x, noise } of feed.epoch()) {
      x.dispose();
      noise.dispose();
      break;
    }
    assert.throws(() => feed.epoch().next(), /closed/, kind);
    feed.close();
    assert.equal(tf.memory().numTensors, tensors, kind);
  }
});

test('one epoch at a time: starting another before the first ends is refused, nothing drawn for it', async () => {
  const split = takeFirst((await data()).train, COUNT);
  for (const kind of FEED_KINDS) {
    const straight = openTrainingFeed(kind, split, SHAPE, sources(6, 'dynamic', split));
    const feed = openTrainingFeed(kind, split, SHAPE, sources(6, 'dynamic', split));
    try {
      const expected = drain(straight, 1);
      const first = feed.epoch();
      const got: Float32Array[] = [];
      const take = () => {
        const { x, noise } = first.next().value as { x: tf.Tensor2D; noise: tf.Tensor3D };
        got.push(x.dataSync() as Float32Array);
        x.dispose();
        noise.dispose();
      };
      take();
      assert.throws(() => feed.epoch().next(), /still in an epoch/, kind);
      while (got.length < expected.length) take();
      assert.deepEqual(got, expected.map((s) => s.x), kind);
      assert.equal(first.next().done, true);
    } finally {
      straight.close();
      feed.close();
    }
  }
});

test("a failure in the feed's worker thread reaches the training loop as an error, not a hang", async () => {
  const split = takeFirst((await data()).train, COUNT);
  // Fixed bits made for another split: the worker's batch maker refuses them.
  const wrong = { ...sources(2, 'dynamic', split), binarizer: { kind: 'fixed' as const, bits: new Uint8Array(10 * 784) } };
  const feed = openTrainingFeed('thread', split, SHAPE, wrong);
  try {
    assert.throws(() => feed.epoch().next(), /worker thread failed: fixed binarization holds 10 images, the split has 103/);
  } finally {
    feed.close();
  }
});

test('a run trains the same numbers with either feed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iwae-feed-'));
  try {
    const config = parseRunConfig({
      model: 'iwae',
      k: 3,
      init: 'xavier-uniform',
      seed: 4,
      epochs: 2,
      trainSize: 200,
      testSize: 60,
      architecture: { hidden: [40, 30], latent: 8 },
    });
    const withoutTime = (epochs: EpochMetrics[]) => epochs.map(({ seconds, ...rest }) => rest);
    const results: Record<string, unknown> = {};
    for (const feed of FEED_KINDS as FeedKind[]) {
      const result = await trainRun(config, await data(), join(root, feed), {}, { feed });
      assert.equal(result.status, 'completed');
      results[feed] = withoutTime(result.epochs);
    }
    assert.deepEqual(results.thread, results.inline);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
