import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli';

test('iwae --help lists the commands and exits 0', () => {
  const r = runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: iwae/);
  assert.match(r.stdout, /\benv\b/);
});

test('an unknown command is one clear line on stderr, exit 2', () => {
  const r = runCli(['frobnicate']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('a bad flag is one clear line on stderr, exit 2', () => {
  const r = runCli(['env', '--no-such-flag']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});

test('iwae env reports a working tfjs-node backend and the TensorFlow version', () => {
  const r = runCli(['env', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.node, process.version);
  assert.match(report.tfjsNode, /^4\.22\./);
  assert.equal(report.tfjsBackend, 'tensorflow');
  assert.match(report.tensorflow, /^\d+\.\d+/);
  assert.ok(report.pythonVenv, 'setup creates .venv');
  assert.match(report.jupyter, /jupyterlab \d/);
});
