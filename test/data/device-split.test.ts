import assert from 'node:assert/strict';
import test from 'node:test';
import * as tf from '@tensorflow/tfjs-node';
import { batchCount, binarizedRows, DeviceSplit, FIXED_BLOCK, rowRange } from '../../lib/data/device-split';
import { PIXELS } from '../../lib/data/shape';
import { counterStream } from '../../lib/random/counter-stream';
import { mnistData } from '../helpers/mnist';

test('batchCount includes the final partial batch and refuses bad sizes', () => {
  assert.equal(batchCount(60_000, 20), 3000);
  assert.equal(batchCount(50, 20), 3);
  assert.throws(() => batchCount(10, 0), RangeError);
});

test("binarizedRows: each run's rows, 0/1, a function of (stream, counter), on with probability intensity / 255", async () => {
  const mnist = await mnistData();
  const split = { images: mnist.train.images.subarray(0, 3000 * PIXELS), labels: mnist.train.labels.subarray(0, 3000), count: 3000 };
  const device = new DeviceSplit(split);
  const before = tf.memory().numTensors;
  const a = { kind: 'dynamic' as const, stream: counterStream(1, 'binarization') };
  const b = { kind: 'dynamic' as const, stream: counterStream(2, 'binarization') };
  const rows = [rowRange(0, 3000), rowRange(0, 3000)];
  const x = binarizedRows(device, [a, b], rows, 7);
  assert.deepEqual(x.shape, [2, 3000, PIXELS]);
  const values = x.dataSync();
  assert.ok(values.every((v) => v === 0 || v === 1));
  // Certain pixels are certain; the on-fraction matches the mean intensity.
  let certainWrong = 0;
  let on = 0;
  let intensity = 0;
  for (let i = 0; i < 3000 * PIXELS; i++) {
    const byte = split.images[i];
    if ((byte === 0 && values[i] !== 0) || (byte === 255 && values[i] !== 1)) certainWrong++;
    on += values[i];
    intensity += byte / 255;
  }
  assert.equal(certainWrong, 0);
  assert.ok(Math.abs(on - intensity) / intensity < 0.01, `on ${on} vs expected ${intensity}`);
  // The same stream and counter give the same bits, alone or beside another run; another counter does not.
  const alone = binarizedRows(device, [b], [rows[1]], 7);
  assert.deepEqual(Array.from(alone.dataSync()), Array.from(values.subarray(3000 * PIXELS)));
  const other = binarizedRows(device, [a], [rows[0]], 8);
  assert.notDeepEqual(Array.from(other.dataSync()), Array.from(values.subarray(0, 3000 * PIXELS)));
  [x, alone, other].forEach((t) => t.dispose());
  assert.equal(tf.memory().numTensors, before);
  device.dispose();
});

test('fixed bits: one sample per image, whatever the counter and the rows it is read with', async () => {
  const mnist = await mnistData();
  const count = FIXED_BLOCK + 200;
  const device = new DeviceSplit({ images: mnist.test.images.subarray(0, count * PIXELS), labels: mnist.test.labels.subarray(0, count), count });
  const bits = device.fixedBits(counterStream(5, 'binarization'));
  const source = { kind: 'fixed' as const, bits };
  const read = (rows: number[], counter: number) => {
    const t = binarizedRows(device, [source], [Int32Array.from(rows)], counter);
    try {
      return t.dataSync();
    } finally {
      t.dispose();
    }
  };
  const once = read([3, FIXED_BLOCK + 7], 0);
  const again = read([FIXED_BLOCK + 7, 3], 99);
  assert.deepEqual(Array.from(once.subarray(0, PIXELS)), Array.from(again.subarray(PIXELS)));
  assert.deepEqual(Array.from(once.subarray(PIXELS)), Array.from(again.subarray(0, PIXELS)));
  bits.dispose();
  device.dispose();
});
