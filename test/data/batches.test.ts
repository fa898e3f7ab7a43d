import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { batchCount, batches } from '../../lib/data/batches';
import { fixedBinarization, type Binarizer } from '../../lib/data/binarize';
import type { MnistSplit } from '../../lib/data/mnist';
import { syntheticMnist } from '../../lib/data/synthetic';
import { createStream } from '../../lib/random/streams';

/** 1,003 synthetic images whose first pixel encodes the image index (so batches reveal their order). */
function indexedSplit(count: number): MnistSplit {
  const { files } = syntheticMnist(count, 1, 8);
  const images = files.trainImages.slice(16);
  for (let i = 0; i < count; i++) {
    images[i * 784] = i % 2 === 0 ? 255 : 0; // a deterministic pixel: bit = parity of the index
  }
  return { images, labels: new Uint8Array(count), count };
}

const split = indexedSplit(1003);

function collect(source: Generator<tf.Tensor2D>): Float32Array[] {
  const out: Float32Array[] = [];
  for (const batch of source) {
    out.push(batch.dataSync() as Float32Array);
    batch.dispose();
  }
  return out;
}

const dynamic = (seed: number): Binarizer => ({ kind: 'dynamic', stream: createStream(seed, 'binarization') });

test('batchCount includes the final partial batch', () => {
  assert.equal(batchCount(60_000, 20), 3000);
  assert.equal(batchCount(1003, 20), 51);
  assert.equal(batchCount(19, 20), 1);
});

test('an epoch yields [b, 784] float32 0/1 tensors covering every image once, last batch partial', () => {
  const shapes: number[][] = [];
  let total = 0;
  for (const batch of batches(split, { batchSize: 20, order: createStream(1, 'data-order'), binarizer: dynamic(1) })) {
    shapes.push(batch.shape);
    assert.equal(batch.dtype, 'float32');
    const values = batch.dataSync();
    assert.ok(values.every((v) => v === 0 || v === 1));
    total += batch.shape[0];
    batch.dispose();
  }
  assert.equal(shapes.length, 51);
  assert.deepEqual(shapes[0], [20, 784]);
  assert.deepEqual(shapes[50], [3, 784]);
  assert.equal(total, 1003);
});

test('without an order stream batches follow file order; with one the order is a seeded shuffle', () => {
  const firstPixels = (batchesOut: Float32Array[]) => batchesOut.flatMap((b) => Array.from({ length: b.length / 784 }, (_, i) => b[i * 784]));
  const sequential = firstPixels(collect(batches(split, { batchSize: 20, binarizer: dynamic(1) })));
  assert.deepEqual(sequential, Array.from({ length: 1003 }, (_, i) => (i % 2 === 0 ? 1 : 0)));
  const shuffled = firstPixels(collect(batches(split, { batchSize: 20, order: createStream(1, 'data-order'), binarizer: dynamic(1) })));
  assert.notDeepEqual(shuffled, sequential);
  assert.equal(shuffled.filter((v) => v === 1).length, 502, 'a permutation: every image exactly once');
});

test('same seeds give the same batches bit for bit; another seed gives different ones', () => {
  const epoch = (orderSeed: number, binSeed: number) =>
    collect(batches(split, { batchSize: 20, order: createStream(orderSeed, 'data-order'), binarizer: dynamic(binSeed) }));
  const a = epoch(10, 20);
  assert.deepEqual(a, epoch(10, 20));
  assert.notDeepEqual(a, epoch(11, 20));
  assert.notDeepEqual(a, epoch(10, 21));
});

test('the shuffle is drawn when batches() is called; each call (epoch) reshuffles', () => {
  const bits = fixedBinarization(split, createStream(0, 'binarization'));
  const order = createStream(2, 'data-order');
  const before = JSON.stringify(order.state());
  const epoch1 = batches(split, { batchSize: 20, order, binarizer: { kind: 'fixed', bits } });
  assert.notEqual(JSON.stringify(order.state()), before, 'consumed before the first batch is taken');
  const e1 = collect(epoch1);
  const e2 = collect(batches(split, { batchSize: 20, order, binarizer: { kind: 'fixed', bits } }));
  assert.notDeepEqual(e1, e2);
});

test('fixed binarization: the same image gives the same bits in every epoch, dynamic does not', () => {
  const bits = fixedBinarization(split, createStream(3, 'binarization'));
  const inFileOrder = (binarizer: Binarizer) => collect(batches(split, { batchSize: 1003, binarizer }))[0];
  assert.deepEqual(inFileOrder({ kind: 'fixed', bits }), inFileOrder({ kind: 'fixed', bits }));
  const stream = createStream(3, 'binarization');
  assert.notDeepEqual(inFileOrder({ kind: 'dynamic', stream }), inFileOrder({ kind: 'dynamic', stream }));
  assert.throws(() => batches({ ...split, count: 1000, images: split.images.subarray(0, 784_000) }, { batchSize: 20, binarizer: { kind: 'fixed', bits } }), /holds 1003 images, the split has 1000/);
});

test('bad batch sizes are rejected up front', () => {
  assert.throws(() => batches(split, { batchSize: 0, binarizer: dynamic(1) }), /positive integer/);
  assert.throws(() => batches(split, { batchSize: 2.5, binarizer: dynamic(1) }), /positive integer/);
});

test('no tensor leaks across full epochs (including one abandoned half way)', () => {
  const before = tf.memory().numTensors;
  const order = createStream(4, 'data-order');
  const binarizer = dynamic(4);
  for (let epoch = 0; epoch < 3; epoch++) {
    for (const batch of batches(split, { batchSize: 20, order, binarizer })) {
      tf.tidy(() => batch.sum()).dispose();
      batch.dispose();
    }
    assert.equal(tf.memory().numTensors, before, `after epoch ${epoch}`);
  }
  for (const batch of batches(split, { batchSize: 20, order, binarizer })) {
    batch.dispose();
    break;
  }
  assert.equal(tf.memory().numTensors, before);
});
