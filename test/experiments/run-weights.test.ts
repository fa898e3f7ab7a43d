import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig } from '../../lib/config/run-config';
import { loadMnist } from '../../lib/data/mnist';
import { executeStack } from '../../lib/experiments/execute-run';
import { runFile } from '../../lib/experiments/run-dir';
import { runId } from '../../lib/experiments/run-id';
import { decodeRunWeights, encodeRunWeights, readDisplayParameters } from '../../lib/experiments/run-weights';
import { DamagedFileError } from '../../lib/io/sealed-json';
import { readRunCheckpoint, runFiles } from '../../lib/training/run-dir';
import { REPO_ROOT } from '../helpers/cli';

const config = parseRunConfig({
  model: 'iwae',
  k: 5,
  init: 'xavier-normal',
  seed: 4,
  epochs: 1,
  trainSize: 100,
  testSize: 40,
  evaluation: { finalK: 20, finalTestSize: 30 },
});
const id = runId(config);

test('a completed run gets float16 weights that stand in for its checkpoint when results ship without one', async () => {
  const data = await loadMnist({ cacheDir: resolve(REPO_ROOT, 'data', 'mnist') });
  const dir = mkdtempSync(join(tmpdir(), 'iwae-weights-'));
  try {
    const [result] = await executeStack([config], [dir], data);
    assert.ok('outcome' in result && result.outcome.status === 'completed');
    assert.ok(existsSync(runFile(dir, 'weights')), 'executeStack writes weights-f16.bin');
    const exact = readRunCheckpoint(dir, config)!.parameters;
    assert.equal(readDisplayParameters(dir, config, id)!.precision, 'float32', 'the checkpoint is preferred while it is there');

    rmSync(runFiles(dir).checkpoint);
    const shipped = readDisplayParameters(dir, config, id)!;
    assert.equal(shipped.precision, 'float16');
    assert.equal(shipped.parameters.length, exact.length);
    let worst = 0;
    for (let i = 0; i < exact.length; i++) {
      // float16 keeps 11 significant bits: relative error <= 2^-11 for normal values (|w| > 6.1e-5).
      const scale = Math.max(Math.abs(exact[i]), 6.1e-5);
      worst = Math.max(worst, Math.abs(shipped.parameters[i] - exact[i]) / scale);
    }
    assert.ok(worst <= 2 ** -11, `largest relative rounding error ${worst}`);
    assert.ok(shipped.parameters.some((v, i) => v !== exact[i]), 'the values really are rounded');

    // Rerunning a finished run leaves its weights alone (nothing to write without a checkpoint).
    const again = await executeStack([config], [dir], data);
    assert.ok('outcome' in again[0]);

    // A flipped byte, another run's weights, or weights of another checkpoint: detected, never used.
    const path = runFile(dir, 'weights');
    const good = readFileSync(path);
    const flipped = Buffer.from(good);
    flipped[good.length - 100] ^= 1;
    writeFileSync(path, flipped);
    assert.throws(() => readDisplayParameters(dir, config, id), (e: unknown) => e instanceof DamagedFileError && /checksum/.test(e.message));
    const decoded = decodeRunWeights(path, good);
    writeFileSync(path, encodeRunWeights({ ...decoded, runId: 'iwae-k5-he-normal-s1-e1-00000000' }));
    assert.throws(() => readDisplayParameters(dir, config, id), /weights of run iwae-k5-he-normal-s1-e1-00000000, not of/);
    writeFileSync(path, encodeRunWeights({ ...decoded, checkpointSha256: '0'.repeat(64) }));
    assert.throws(() => readDisplayParameters(dir, config, id), /not the weights the final evaluation used/);
    writeFileSync(path, good);
    assert.equal(readDisplayParameters(dir, config, id)!.precision, 'float16');

    rmSync(path);
    assert.equal(readDisplayParameters(dir, config, id), null, 'no weights at all: null, for the caller to say so');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the float16 file is little-endian and tied to its length: a truncated file is damaged', () => {
  const weights = { runId: id, checkpointSha256: 'a'.repeat(64), epoch: 3, architecture: { input: 4, hidden: [2], latent: 1 }, parameters: Float32Array.from([1, -2, 0.5, 65504, 1e-8]) };
  const bytes = encodeRunWeights(weights);
  const back = decodeRunWeights('w', bytes);
  assert.deepEqual(Array.from(back.parameters), [1, -2, 0.5, 65504, 0]);
  assert.deepEqual({ ...back, parameters: null }, { ...weights, parameters: null });
  assert.throws(() => decodeRunWeights('w', bytes.subarray(0, bytes.length - 2)), DamagedFileError);
  assert.throws(() => decodeRunWeights('w', Buffer.from('IWAECKPT' + '\0'.repeat(60))), /not an iwae-lab float16 weights file/);
});
