import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '../../lib/data/errors';
import { MNIST_FILE_NAMES } from '../../lib/data/files';
import { encodeIdx, parseIdx } from '../../lib/data/idx';
import { loadMnist, type LoadMnistOptions } from '../../lib/data/mnist';
import { syntheticMnist, writeMnistFiles } from '../../lib/data/synthetic';

const TRAIN = 30;
const TEST = 12;
const synthetic = syntheticMnist(TRAIN, TEST, 1);

/** A temp dir holding the synthetic files, with `edit` applied to their bytes; removed after `body`. */
async function withDir(
  edit: (files: typeof synthetic.files) => void,
  body: (dir: string, options: LoadMnistOptions) => Promise<void>,
  gzip = false,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-idx-'));
  try {
    const files = { ...synthetic.files };
    edit(files);
    writeMnistFiles(dir, files, { gzip });
    await body(dir, { mnistDir: dir, cacheDir: join(dir, 'no-cache'), checksums: synthetic.checksums, allowDownload: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load must fail with one line `<path of file>: <problem>` matching `pattern`. */
async function expectFileError(options: LoadMnistOptions, dir: string, fileName: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadMnist(options), (err: unknown) => {
    assert.ok(err instanceof DataFileError, `expected DataFileError, got ${String(err)}`);
    assert.equal(err.file, join(dir, fileName));
    assert.ok(err.message.startsWith(`${join(dir, fileName)}: `), err.message);
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.problem, pattern);
    return true;
  });
}

test('synthetic IDX files round-trip: bytes, labels and counts come back exactly, checksums verified', async () => {
  await withDir(() => undefined, async (dir, options) => {
    const data = await loadMnist(options);
    assert.equal(data.source, 'MNIST_DIR');
    assert.equal(data.dir, dir);
    assert.equal(data.checksumsVerified, true);
    assert.equal(data.train.count, TRAIN);
    assert.equal(data.test.count, TEST);
    assert.deepEqual(Buffer.from(data.train.images), Buffer.from(synthetic.files.trainImages.subarray(16)));
    assert.deepEqual(Array.from(data.test.labels), Array.from({ length: TEST }, (_, i) => i % 10));
    assert.equal(data.train.images.length, TRAIN * 784);
    assert.ok(!Buffer.isBuffer(data.train.images), 'images are a plain Uint8Array');
  });
});

test('gzipped files in the directory are read the same way', async () => {
  await withDir(() => undefined, async (_dir, options) => {
    const data = await loadMnist(options);
    assert.equal(data.checksumsVerified, true);
    assert.deepEqual(Buffer.from(data.test.images), Buffer.from(synthetic.files.testImages.subarray(16)));
  }, true);
});

test('bad magic number: names the file and the magic it found', async () => {
  await withDir((files) => {
    files.testImages = files.testLabels; // a labels file where images belong
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.testImages, /bad magic number 0x00000801, expected 0x00000803/);
  });
});

test('wrong count: a labels file whose count disagrees with its images file', async () => {
  await withDir((files) => {
    files.trainLabels = encodeIdx([TRAIN - 1], new Uint8Array(TRAIN - 1));
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.trainLabels, /wrong count: 29 labels for the 30 images/);
  });
});

test('wrong image size in the header', async () => {
  await withDir((files) => {
    files.trainImages = encodeIdx([TRAIN, 32, 32], new Uint8Array(TRAIN * 32 * 32));
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.trainImages, /wrong size: header says 30x32x32, expected Nx28x28 images/);
  });
});

test('truncated body: the header is not trusted past the end of the file', async () => {
  await withDir((files) => {
    files.trainImages = files.trainImages.subarray(0, 16 + 784 * 10 + 5);
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.trainImages, /truncated: header promises 30x28x28 images \(23536 bytes\), file has 7861 bytes/);
  });
});

test('truncated header and an empty file', async () => {
  await withDir((files) => {
    files.testImages = files.testImages.subarray(0, 10);
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.testImages, /truncated header: 10 bytes/);
  });
  await withDir((files) => {
    files.testLabels = new Uint8Array(0);
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.testLabels, /not an IDX file: only 0 bytes/);
  });
});

test('extra bytes after the declared data are an error, not ignored', async () => {
  await withDir((files) => {
    files.testLabels = Uint8Array.from([...files.testLabels, 1, 2, 3]);
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.testLabels, /3 unexpected bytes after the 12 labels/);
  });
});

test('a label outside 0..9 is reported with its index', async () => {
  await withDir((files) => {
    const labels = files.testLabels.slice();
    labels[8 + 4] = 42;
    files.testLabels = labels;
  }, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.testLabels, /label 42 at index 4 is not a digit/);
  });
});

test('checksum mismatch: one changed pixel fails verification, and loads when the user opts out', async () => {
  const flip = (files: typeof synthetic.files): void => {
    const images = files.trainImages.slice();
    images[100] ^= 0xff;
    files.trainImages = images;
  };
  await withDir(flip, async (dir, options) => {
    await expectFileError(options, dir, MNIST_FILE_NAMES.trainImages, new RegExp(`checksum mismatch: MD5 [0-9a-f]{32}, expected ${synthetic.checksums.trainImages}`));
    const data = await loadMnist({ ...options, verifyChecksums: false });
    assert.equal(data.checksumsVerified, false);
    assert.equal(data.train.images[100 - 16], synthetic.files.trainImages[100] ^ 0xff);
  });
});

test('a missing file in the chosen directory is named; nothing else is tried', async () => {
  await withDir(() => undefined, async (dir, options) => {
    rmSync(join(dir, MNIST_FILE_NAMES.testLabels));
    await expectFileError({ ...options, packagedDir: undefined }, dir, MNIST_FILE_NAMES.testLabels, /not found/);
  });
});

test('a corrupt gzip file is a format error naming the .gz file', async () => {
  await withDir(() => undefined, async (dir, options) => {
    const gz = join(dir, `${MNIST_FILE_NAMES.trainLabels}.gz`);
    writeFileSync(gz, readFileSync(gz).subarray(0, 20));
    await expectFileError(options, dir, `${MNIST_FILE_NAMES.trainLabels}.gz`, /corrupt gzip data/);
  }, true);
});

test('parseIdx returns a view of the body with the header dims', () => {
  const bytes = encodeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]));
  const parsed = parseIdx(bytes, 'x', { what: 'rows', dims: [null, 3] });
  assert.deepEqual(parsed.dims, [2, 3]);
  assert.deepEqual(Array.from(parsed.values), [1, 2, 3, 4, 5, 6]);
  assert.equal(parsed.values.buffer, bytes.buffer);
});
