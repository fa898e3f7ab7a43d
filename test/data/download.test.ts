import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataFileError } from '../../lib/data/errors';
import { MNIST_FILE_KEYS, MNIST_FILE_NAMES } from '../../lib/data/files';
import { loadMnist } from '../../lib/data/mnist';
import { syntheticMnist } from '../../lib/data/synthetic';

const synthetic = syntheticMnist(25, 7, 4);
const gzipped = new Map(MNIST_FILE_KEYS.map((key) => [`/good/${MNIST_FILE_NAMES[key]}.gz`, gzipSync(synthetic.files[key])]));

/**
 * A stand-in for the mirrors on 127.0.0.1: /good/ serves the gzipped synthetic files, /corrupt/ serves
 * them with one byte changed, /flaky/ serves only the training images, anything else is 404.
 */
async function withMirror(body: (base: string, requests: string[]) => Promise<void>): Promise<void> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const good = gzipped.get(url.replace(/^\/(corrupt|flaky)\//, '/good/'));
    const served = url.startsWith('/flaky/') && !url.includes('train-images') ? undefined : good;
    if (!served) {
      res.writeHead(404).end();
      return;
    }
    const bytes = url.startsWith('/corrupt/') ? gzipSync(Uint8Array.from(gunzipSync(served), (b, i) => (i === 40 ? b ^ 1 : b))) : served;
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}`, requests);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function tempCache(): string {
  return join(mkdtempSync(join(tmpdir(), 'iwae-dl-')), 'cache');
}

test('with no local source, the files are downloaded (gzip), verified, cached raw, and then served from the cache', () =>
  withMirror(async (base, requests) => {
    const cacheDir = tempCache();
    try {
      const options = { cacheDir, packagedDir: null, mirrors: [`${base}/missing/`, `${base}/good/`], checksums: synthetic.checksums };
      const progress: string[] = [];
      const data = await loadMnist({ ...options, onProgress: (line) => progress.push(line) });
      assert.equal(data.source, 'download');
      assert.equal(data.checksumsVerified, true);
      assert.equal(data.dir, cacheDir);
      assert.equal(data.train.count, 25);
      assert.deepEqual(Buffer.from(data.test.images), Buffer.from(synthetic.files.testImages.subarray(16)));
      // The first mirror 404s, so every file falls through to the second.
      assert.equal(requests.filter((r) => r.startsWith('/good/')).length, 4);
      assert.equal(progress.length, 8);
      assert.deepEqual(readdirSync(cacheDir).sort(), Object.values(MNIST_FILE_NAMES).sort());
      assert.deepEqual(readFileSync(join(cacheDir, MNIST_FILE_NAMES.trainLabels)), Buffer.from(synthetic.files.trainLabels));

      const again = await loadMnist(options);
      assert.equal(again.source, 'cache');
      assert.equal(requests.length, 8, 'no second download');
    } finally {
      rmSync(join(cacheDir, '..'), { recursive: true, force: true });
    }
  }));

test('a download whose checksum does not match is not kept, and the error lists every mirror', () =>
  withMirror(async (base) => {
    const cacheDir = tempCache();
    try {
      await assert.rejects(
        loadMnist({ cacheDir, packagedDir: null, mirrors: [`${base}/corrupt/`, `${base}/missing/`], checksums: synthetic.checksums }),
        (err: unknown) => {
          assert.ok(err instanceof DataFileError);
          assert.equal(err.kind, 'download');
          assert.equal(err.file, join(cacheDir, MNIST_FILE_NAMES.trainImages));
          assert.match(err.problem, /corrupt\/train-images-idx3-ubyte\.gz: MD5 [0-9a-f]{32}, expected/);
          assert.match(err.problem, /missing\/train-images-idx3-ubyte\.gz: HTTP 404/);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
      assert.deepEqual(readdirSync(cacheDir), [], 'no file and no temp file left behind');
    } finally {
      rmSync(join(cacheDir, '..'), { recursive: true, force: true });
    }
  }));

test('an interrupted set of downloads keeps the verified files and fetches only the missing ones next time', () =>
  withMirror(async (base, requests) => {
    const cacheDir = tempCache();
    try {
      await assert.rejects(loadMnist({ cacheDir, packagedDir: null, mirrors: [`${base}/flaky/`], checksums: synthetic.checksums }));
      assert.deepEqual(readdirSync(cacheDir), [MNIST_FILE_NAMES.trainImages]);
      requests.length = 0;
      const data = await loadMnist({ cacheDir, packagedDir: null, mirrors: [`${base}/good/`], checksums: synthetic.checksums });
      assert.equal(data.source, 'download');
      assert.equal(requests.length, 3);
      assert.ok(!requests.some((r) => r.includes('train-images')));
    } finally {
      rmSync(join(cacheDir, '..'), { recursive: true, force: true });
    }
  }));

test('an unreachable mirror is reported by its network error, with downloads off nothing is fetched', async () => {
  const cacheDir = tempCache();
  // A port that was just free: nothing listens there, so connecting is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  try {
    await assert.rejects(
      loadMnist({ cacheDir, packagedDir: null, mirrors: [`http://127.0.0.1:${port}/`], checksums: synthetic.checksums, downloadTimeoutMs: 5000 }),
      /ECONNREFUSED/,
    );
    await assert.rejects(loadMnist({ cacheDir: join(cacheDir, 'x'), packagedDir: null, allowDownload: false }), /no MNIST files/);
    assert.ok(!existsSync(join(cacheDir, 'x')));
  } finally {
    rmSync(join(cacheDir, '..'), { recursive: true, force: true });
  }
});
