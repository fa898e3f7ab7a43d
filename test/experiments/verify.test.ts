// `iwae verify`: retrains shipped runs for their first epochs and compares every per-epoch number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordAttempt, writeRunOutcome } from '../../lib/experiments/run-dir';
import { runsToVerify, spreadAcrossShapes } from '../../lib/experiments/verify';
import { parseRunConfig, type ModelName } from '../../lib/config/run-config';
import { runId } from '../../lib/experiments/run-id';
import { REPO_ROOT, runCli, withoutTensorFlowBanner } from '../helpers/cli';

/** Two runs of one stack (IWAE k = 5, seeds 135 and 630) of the smoke grid, as a grid of this code shipped them. */
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'shipped-smoke');
const root = mkdtempSync(join(tmpdir(), 'iwae-verify-test-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('iwae verify retrains the shipped runs here and finds every per-epoch number identical', () => {
  const r = runCli(['verify', '--results', FIXTURE, '--epochs', '2']);
  assert.equal(r.code, 0, r.stderr);
  for (const id of readdirSync(FIXTURE)) assert.match(r.stdout, new RegExp(`${id}: identical in every number`));
  assert.match(r.stdout, /passed: largest relative difference 0 \(bit-identical\)/);
  const json = runCli(['verify', '--results', FIXTURE, '--runs', '1', '--epochs', '1', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.passed, true);
  assert.equal(report.runs.length, 1);
  assert.equal(report.runs[0].largest.relative, 0);
});

test('verify --runs N takes one run per model and k in turn, so a few runs check every kind of stack', () => {
  const ids = ['iwae-k1-he-normal-s10', 'iwae-k1-he-normal-s135', 'iwae-k1-he-uniform-s10', 'iwae-k5-he-normal-s10', 'vae-k1-he-normal-s10', 'vae-k5-he-normal-s10'];
  const shape = (id: string) => id.split('-').slice(0, 2).join('-');
  assert.deepEqual(spreadAcrossShapes(ids, shape, 3), ['iwae-k1-he-normal-s10', 'iwae-k5-he-normal-s10', 'vae-k1-he-normal-s10']);
  assert.deepEqual(spreadAcrossShapes(ids, shape, 6), ['iwae-k1-he-normal-s10', 'iwae-k5-he-normal-s10', 'vae-k1-he-normal-s10', 'vae-k5-he-normal-s10', 'iwae-k1-he-normal-s135', 'iwae-k1-he-uniform-s10']);
  assert.deepEqual(spreadAcrossShapes(ids, shape, 10), spreadAcrossShapes(ids, shape, 6), 'never more than there are');
  assert.deepEqual(spreadAcrossShapes([], shape, 3), []);

  // Real configs in id order, Experiment 3's among them (they sort first by id and measure the SNR):
  // the study's IWAE k = 1, IWAE k = 5 and VAE k = 1 still come first; k is compared as a number.
  const snr = { epochs: [1], draws: 10, images: 20 };
  const run = (model: ModelName, k: number, gradientSnr?: typeof snr) => {
    const config = parseRunConfig({ model, k, init: 'he-normal', seed: 10, epochs: 80, ...(gradientSnr ? { evaluation: { gradientSnr } } : {}) });
    return { id: runId(config), config };
  };
  const runs = [run('iwae-dreg', 5, snr), run('iwae', 10), run('iwae', 1), run('iwae', 5, snr), run('iwae', 5), run('vae', 1), run('vae', 5)].sort((a, b) => (a.id < b.id ? -1 : 1));
  const picked = runsToVerify(runs, 3);
  assert.deepEqual(picked.map((r) => [r.config.model, r.config.k, Boolean(r.config.evaluation.gradientSnr)]), [['iwae', 1, false], ['iwae', 5, false], ['iwae', 10, false]]);
  const five = runsToVerify(runs, 5);
  assert.deepEqual(five.slice(3).map((r) => [r.config.model, r.config.k]), [['vae', 1], ['vae', 5]]);
});

test('verify names the machine it retrains on and, from the shipped attempt log, the ones that trained each run', () => {
  const results = join(root, 'with-attempts');
  cpSync(FIXTURE, results, { recursive: true });
  const [id] = readdirSync(results).sort();
  recordAttempt(join(results, id), { cpu: 'Example CPU 9000', cores: 2, tensorflow: '2.21.0', tfjsNode: '4.22.0', threads: 1 });
  writeFileSync(join(results, id, 'attempts.jsonl'), '{"event":"started","pid":1,"hostname":"h","startedTime":"2026-01-01T00:00:00Z"}\n{"torn', { flag: 'a' });
  const r = runCli(['verify', '--results', results, '--run', id, '--epochs', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /retrained here \(.+ \(\d+ cores?\), TensorFlow \d+\.\d+/);
  assert.match(r.stdout, new RegExp(`${id}: identical in every number; trained on Example CPU 9000 \\(2 cores\\), TensorFlow 2\\.21\\.0$`, 'm'));
  const json = JSON.parse(runCli(['verify', '--results', results, '--run', id, '--epochs', '1', '--json']).stdout);
  assert.deepEqual(json.runs[0].trainedOn, ['Example CPU 9000 (2 cores), TensorFlow 2.21.0']);
});

test('a shipped number that this code does not reproduce fails verify with the run, epoch and field', () => {
  const results = join(root, 'tampered');
  cpSync(FIXTURE, results, { recursive: true });
  const [id] = readdirSync(results).sort();
  const dir = join(results, id);
  // A consistent run record (its status re-sealed), whose epoch-2 test loss is 1 % off.
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  lines[1].testLoss *= 1.01;
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  writeRunOutcome(dir, id, { status: 'completed' });
  const r = runCli(['verify', '--results', results, '--run', id, '--epochs', '2']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`${id}: largest difference 9\\.9\\de-3 \\(epoch 2 testLoss`));
  assert.match(r.stdout, /FAILED: largest relative difference 9\.9\de-3, tolerance 0\.001/);
});

test('iwae verify: bad usage and missing or damaged runs are one line and a non-zero exit', () => {
  const both = runCli(['verify', '--results', FIXTURE, '--runs', '1', '--run', 'x']);
  assert.equal(both.code, 2);
  assert.equal(withoutTensorFlowBanner(both.stderr).trim().split('\n').length, 1, both.stderr);
  const missing = runCli(['verify', '--results', join(root, 'nothing-here')]);
  assert.equal(missing.code, 1);
  assert.match(withoutTensorFlowBanner(missing.stderr), /no results directory/);
  const damaged = join(root, 'damaged');
  cpSync(FIXTURE, damaged, { recursive: true });
  const [id] = readdirSync(damaged).sort();
  writeFileSync(join(damaged, id, 'metrics.jsonl'), 'garbage\n');
  const r = runCli(['verify', '--results', damaged, '--run', id]);
  assert.equal(r.code, 1);
  assert.match(withoutTensorFlowBanner(r.stderr), new RegExp(`${id}: .*metrics\\.jsonl`));
  assert.equal(withoutTensorFlowBanner(r.stderr).trim().split('\n').length, 1, r.stderr);
});
