import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILES } from '../../lib/experiments/profiles';

function assertUsageError(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

test('bad grid flags: one clear line, exit 2', () => {
  assertUsageError(['grid', '--profile', 'huge'], /--profile.*expected one of smoke, quick, paper, got 'huge'/);
  assertUsageError(['grid', '--shard', '3/2'], /--shard.*shard index must be in 1\.\.2/);
  assertUsageError(['grid', '--shard', 'half'], /--shard.*expected i\/n/);
  assertUsageError(['grid', '--workers', '0'], /--workers.*must be >= 1/);
  assertUsageError(['grid', '--experiment', '4'], /--experiment.*expected one of 1, 2, 3, all/);
  assertUsageError(['grid', '--no-such-flag'], /unknown option '--no-such-flag'/);
  assertUsageError(['grid', '--experiment', '3', '--extras', '--list'], /--extras adds ablation runs to Experiments 1 and 2, not to Experiment 3/);
});

test('iwae results on a missing directory: one line, exit 1', () => {
  const r = runCli(['results', '--results', '/nonexistent/iwae-results']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /no results directory at \/nonexistent\/iwae-results/);
});

test('--list prints the selected runs; the shards of the CLI cover the grid once', () => {
  const all = runCli(['grid', '--profile', 'paper', '--extras', '--list']);
  assert.equal(all.code, 0, all.stderr);
  const ids = all.stdout.trim().split('\n');
  assert.deepEqual(ids, gridRuns(PROFILES.paper, { extras: true }).map((r) => r.id));
  const fromShards = [1, 2, 3].flatMap((i) => runCli(['grid', '--profile', 'paper', '--extras', '--list', '--shard', `${i}/3`]).stdout.trim().split('\n'));
  assert.deepEqual([...fromShards].sort(), ids);
  // Experiment 3 runs only when named: its runs, not the study's.
  const three = runCli(['grid', '--profile', 'paper', '--experiment', '3', '--list']);
  assert.equal(three.code, 0, three.stderr);
  assert.deepEqual(three.stdout.trim().split('\n'), gridRuns(PROFILES.paper, { experiment: '3' }).map((r) => r.id));
  assert.ok(three.stdout.trim().split('\n').every((id) => !ids.includes(id)));
});

test('iwae results on the shipped paper grid lists each of its runs, completed or failed, in aligned columns', () => {
  const r = runCli(['results', '--results', PROFILES.paper.shippedResults!]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const statusColumn = lines[0].indexOf('status');
  for (const run of gridRuns(PROFILES.paper, { extras: true })) {
    const line = lines.find((l) => l.startsWith(`${run.id} `));
    assert.ok(line, `${run.id} is listed`);
    assert.match(line.slice(statusColumn), /^(completed|failed) /, line);
  }
});
