import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli';

const root = mkdtempSync(join(tmpdir(), 'iwae-cli-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const TINY = ['--k', '5', '--init', 'he-normal', '--seed', '3', '--train-size', '200', '--test-size', '100'];
const withoutTime = (epochs: Array<Record<string, unknown>>) => epochs.map(({ seconds, ...rest }) => rest);
/** The first test's straight 2-epoch run, which the resume test compares against. */
let straightEpochs: Array<Record<string, unknown>> = [];

test('iwae train --json trains a tiny run, writes its run dir, and iwae eval reports L_1 <= L_5 <= L_50', () => {
  const out = join(root, 'run');
  const train = runCli(['train', '--model', 'iwae', ...TINY, '--epochs', '2', '--out', out, '--json']);
  assert.equal(train.code, 0, train.stderr);
  const result = JSON.parse(train.stdout);
  straightEpochs = result.epochs;
  assert.equal(result.status, 'completed');
  assert.deepEqual(
    { model: result.config.model, k: result.config.k, init: result.config.init, seed: result.config.seed, trainSize: result.config.trainSize },
    { model: 'iwae', k: 5, init: 'he-normal', seed: 3, trainSize: 200 },
  );
  assert.deepEqual(result.epochs.map((e: { epoch: number }) => e.epoch), [1, 2]);
  for (const e of result.epochs) {
    for (const key of ['trainLoss', 'testLoss', 'activeUnitsTrain', 'activeUnitsTest']) assert.equal(typeof e[key], 'number', key);
    assert.equal(e.activityTrain.length, 50);
  }
  // Not a TTY: one plain progress line per epoch on stderr.
  assert.deepEqual(train.stderr.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')), ['epoch 1/2', 'epoch 2/2']);
  for (const file of ['config.json', 'metrics.jsonl', 'checkpoint.bin']) assert.ok(existsSync(join(out, file)), file);

  const evaluation = runCli(['eval', '--run', out, '--k', '1,5,50', '--test-size', '100', '--json']);
  assert.equal(evaluation.code, 0, evaluation.stderr);
  const report = JSON.parse(evaluation.stdout);
  assert.deepEqual(Object.keys(report.bounds).sort(), ['1', '5', '50']);
  assert.ok(report.bounds['1'] <= report.bounds['5'] && report.bounds['5'] <= report.bounds['50'], JSON.stringify(report.bounds));
  assert.equal(report.nll, -report.bounds['50']);
  assert.ok(Number.isInteger(report.activeUnits) && report.activeUnits >= 0 && report.activeUnits <= 50);

  const text = runCli(['eval', '--run', out, '--k', '1,5', '--test-size', '20']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /NLL ~= [\d.]+ nats \(-L_5, the largest k given/);
});

test('a run continued in a new process (1 epoch, then --epochs 2) equals the straight 2-epoch run', () => {
  assert.equal(straightEpochs.length, 2, 'the first test trained the straight run');
  const dir = join(root, 'continued');
  const first = runCli(['train', '--model', 'iwae', ...TINY, '--epochs', '1', '--out', dir, '--json']);
  const second = runCli(['train', '--model', 'iwae', ...TINY, '--epochs', '2', '--out', dir, '--json']);
  for (const r of [first, second]) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(withoutTime(JSON.parse(second.stdout).epochs), withoutTime(straightEpochs));
  assert.equal(second.stderr.trim().split('\n').length, 1, 'only epoch 2 was trained in the second process');
});

test("two TensorFlow threads train exactly the numbers of `iwae train`'s one thread", () => {
  assert.equal(straightEpochs.length, 2, 'the first test trained the straight run with one thread');
  const dir = join(root, 'two-threads');
  const r = runCli(['train', '--model', 'iwae', ...TINY, '--epochs', '2', '--out', dir, '--json'], { TF_NUM_INTRAOP_THREADS: '2', TF_NUM_INTEROP_THREADS: '2' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(withoutTime(JSON.parse(r.stdout).epochs), withoutTime(straightEpochs));
});

const badCases: Array<[string, string[], RegExp]> = [
  ['k < 1', ['train', '--model', 'iwae', '--k', '0', '--init', 'he-normal', '--seed', '1', '--epochs', '1', '--out', 'x'], /--k.*must be >= 1/],
  ['unknown model', ['train', '--model', 'gan', '--k', '1', '--init', 'he-normal', '--seed', '1', '--epochs', '1', '--out', 'x'], /expected one of vae, iwae, vae-sampled-kl/],
  ['unknown init', ['train', '--model', 'vae', '--k', '1', '--init', 'he', '--seed', '1', '--epochs', '1', '--out', 'x'], /--init.*expected one of xavier-uniform/],
  ['epochs < 1', ['train', '--model', 'vae', '--k', '1', '--init', 'he-normal', '--seed', '1', '--epochs', '0', '--out', 'x'], /--epochs.*must be >= 1/],
  ['train size too large', ['train', '--model', 'vae', '--k', '1', '--init', 'he-normal', '--seed', '1', '--epochs', '1', '--train-size', '60001', '--out', 'x'], /trainSize/],
  ['missing run dir', ['eval', '--run', join(root, 'no-such-run')], /does not exist/],
  ['eval k < 1', ['eval', '--run', join(root, 'run'), '--k', '1,0'], /--k.*must be >= 1/],
];
for (const [what, args, message] of badCases) {
  test(`bad value (${what}): one clear line, exit 2, nothing written`, () => {
    const r = runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(join(process.cwd(), 'x')), 'no run dir created');
  });
}

test('iwae train into a shipped run (finished, no checkpoint) refuses with one line and touches nothing', () => {
  const fixture = join(REPO_ROOT, 'test', 'fixtures', 'shipped-smoke');
  const [id] = readdirSync(fixture).sort();
  const out = join(root, 'shipped', id);
  cpSync(join(fixture, id), out, { recursive: true });
  const before = readFileSync(join(out, 'metrics.jsonl'));
  const r = runCli(['train', '--model', 'iwae', ...TINY, '--epochs', '2', '--out', out]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /holds a finished run without its checkpoint .*train into another --out/);
  assert.ok(readFileSync(join(out, 'metrics.jsonl')).equals(before), 'metrics.jsonl untouched');
  assert.deepEqual(readdirSync(out).sort(), readdirSync(join(fixture, id)).sort(), 'nothing added or removed');
});
