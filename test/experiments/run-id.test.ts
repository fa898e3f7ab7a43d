import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig } from '../../lib/config/run-config';
import { canonicalJson, RUN_ID_PATTERN, runId } from '../../lib/experiments/run-id';
import { REPO_ROOT } from '../helpers/cli';

const base = parseRunConfig({ model: 'iwae', k: 5, init: 'he-normal', seed: 135, epochs: 80 });

test('a run id is a readable prefix plus a hash of the config', () => {
  assert.match(runId(base), /^iwae-k5-he-normal-s135-e80-[0-9a-f]{8}$/);
  assert.match(runId(base), RUN_ID_PATTERN);
});

test('key order and written-out defaults do not change the id', () => {
  const reordered = JSON.parse(canonicalJson(base)) as RunConfig; // keys sorted: a different insertion order
  const shuffled = Object.fromEntries(Object.entries(base).reverse()) as RunConfig;
  const minimal = parseRunConfig({ seed: 135, epochs: 80, init: 'he-normal', k: 5, model: 'iwae' });
  assert.equal(runId(reordered), runId(base));
  assert.equal(runId(shuffled), runId(base));
  assert.equal(runId(minimal), runId(base));
});

test('the id is the same in another process', () => {
  const script = `const { runId } = require('./lib/experiments/run-id'); const { parseRunConfig } = require('./lib/config/run-config');
    process.stdout.write(runId(parseRunConfig(${JSON.stringify({ model: 'iwae', k: 5, init: 'he-normal', seed: 135, epochs: 80 })})));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, runId(base));
});

test('any change to the config changes the id', () => {
  const variants: RunConfig[] = [
    { ...base, model: 'vae' },
    { ...base, k: 1 },
    { ...base, init: 'xavier-normal' },
    { ...base, seed: 630 },
    { ...base, epochs: 79 },
    { ...base, trainSize: 500 },
    { ...base, testSize: 200 },
    { ...base, batchSize: 100 },
    { ...base, binarization: 'fixed' },
    { ...base, outputBiasInit: 'data-mean' },
    { ...base, architecture: { ...base.architecture, hidden: [100, 100] } },
    { ...base, architecture: { ...base.architecture, latent: 20 } },
    { ...base, optimizer: { ...base.optimizer, learningRate: 3e-4 } },
    { ...base, optimizer: { ...base.optimizer, epsilon: 1e-8 } },
    { ...base, optimizer: { ...base.optimizer, schedule: 'constant' } },
    { ...base, evaluation: { ...base.evaluation, finalK: 50 } },
    { ...base, evaluation: { ...base.evaluation, finalTestSize: 100 } },
    { ...base, evaluation: { ...base.evaluation, activeUnitThreshold: 0.05 } },
  ];
  const ids = new Set([runId(base), ...variants.map(runId)]);
  assert.equal(ids.size, variants.length + 1);
});

test('canonical JSON sorts keys at every level and keeps array order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
});

test('configs without the optional gradient SNR keep the ids they had before it existed (the shipped paper runs)', () => {
  // Computed before evaluation.gradientSnr was added to the config: a change here renames shipped runs.
  assert.equal(runId(base), 'iwae-k5-he-normal-s135-e80-52d966f2');
  const shippedDir = 'iwae-k1-he-normal-s135-e80-785ba392';
  const shipped = parseRunConfig(JSON.parse(readFileSync(join(REPO_ROOT, 'data', 'results', 'paper', shippedDir, 'config.json'), 'utf8')));
  assert.equal(runId(shipped), shippedDir);
  const measured = parseRunConfig({ ...base, evaluation: { ...base.evaluation, gradientSnr: { epochs: [1, 80], draws: 100, images: 20 } } });
  assert.notEqual(runId(measured), runId(base), 'a run that measures the SNR is another run');
});
