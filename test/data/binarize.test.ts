import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binarizeImages, fixedBinarization, makeBinarizer, sampleBits } from '../../lib/data/binarize';
import type { MnistSplit } from '../../lib/data/mnist';
import { createStream } from '../../lib/random/streams';

/** 784 pixels covering every byte value 0..255 (three times, plus 16 more) in one image. */
function allIntensities(count: number): MnistSplit {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7 + Math.floor(i / 784)) % 256;
  return { images, labels: new Uint8Array(count), count };
}

test('the mean of many dynamic binarizations matches the pixel intensities', () => {
  const split = allIntensities(1);
  const draws = 4000;
  const stream = createStream(7, 'sample-binarization');
  const sums = new Float64Array(784);
  for (let d = 0; d < draws; d++) {
    const bits = binarizeImages(split, [0], { kind: 'dynamic', stream });
    for (let p = 0; p < 784; p++) sums[p] += bits[p];
  }
  let worst = 0;
  for (let p = 0; p < 784; p++) {
    const expected = split.images[p] / 255;
    const sd = Math.sqrt((expected * (1 - expected)) / draws);
    const z = sd === 0 ? Math.abs(sums[p] / draws - expected) * 1e9 : Math.abs(sums[p] / draws - expected) / sd;
    worst = Math.max(worst, z);
  }
  // 784 pixels: the largest of 784 |z| scores stays below ~4.5 for a correct sampler.
  assert.ok(worst < 4.5, `largest deviation ${worst.toFixed(2)} standard errors`);
});

test('intensity 0 is always 0 and 255 always 1, and output is only 0/1', () => {
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => [0, 255, 1, 254, 128][i % 5]);
  const out = new Float32Array(bytes.length);
  sampleBits(bytes, createStream(1, 'sample-binarization'), out, new Float32Array(bytes.length));
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) assert.equal(out[i], 0);
    else if (bytes[i] === 255) assert.equal(out[i], 1);
    else assert.ok(out[i] === 0 || out[i] === 1);
  }
  const halfGray = Array.from(out).filter((_, i) => bytes[i] === 128);
  assert.ok(halfGray.includes(0) && halfGray.includes(1), 'gray pixels are sampled, not thresholded');
});

test('same seed gives identical binarizations, different seeds differ', () => {
  const split = allIntensities(20);
  const indices = Array.from({ length: 20 }, (_, i) => i);
  const run = (seed: number) => binarizeImages(split, indices, { kind: 'dynamic', stream: createStream(seed, 'sample-binarization') });
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});

test('fixed binarization is one sample per image, reused on every read', () => {
  const split = allIntensities(50);
  const bits = fixedBinarization(split, createStream(5, 'sample-binarization'));
  assert.equal(bits.length, 50 * 784);
  const binarizer = makeBinarizer('fixed', split, createStream(5, 'sample-binarization'));
  assert.equal(binarizer.kind, 'fixed');
  assert.deepEqual(binarizer.kind === 'fixed' && binarizer.bits, bits, 'made from the seed: same seed, same bits');
  const epoch1 = binarizeImages(split, [3, 17, 42], binarizer);
  const epoch2 = binarizeImages(split, [3, 17, 42], binarizer);
  assert.deepEqual(epoch1, epoch2);
  assert.deepEqual(Array.from(epoch1.subarray(784, 1568)), Array.from(bits.subarray(17 * 784, 18 * 784)));
  assert.notDeepEqual(bits, fixedBinarization(split, createStream(6, 'sample-binarization')));
});

test('a fixed binarization of the first N images equals the first N of the whole split', () => {
  const split = allIntensities(1500); // crosses the 1,000-image chunk boundary
  const whole = fixedBinarization(split, createStream(9, 'sample-binarization'));
  const prefix: MnistSplit = { images: split.images.subarray(0, 1200 * 784), labels: split.labels.subarray(0, 1200), count: 1200 };
  assert.deepEqual(fixedBinarization(prefix, createStream(9, 'sample-binarization')), whole.subarray(0, 1200 * 784));
});
