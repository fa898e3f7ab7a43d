import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyShardWarning, parseShard, selectShard } from '../../lib/experiments/shard';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILES } from '../../lib/experiments/profiles';
import { runCli } from '../helpers/cli';

const grid = gridRuns(PROFILES.paper, { experiment: 'all', extras: true });

test('the shards i/n of a grid are disjoint and together are the grid', () => {
  for (const count of [1, 2, 3, 7, grid.length, grid.length + 5]) {
    const seen = new Map<string, number>();
    for (let index = 1; index <= count; index++) {
      for (const run of selectShard(grid, { index, count })) seen.set(run.id, (seen.get(run.id) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), grid.map((r) => r.id).sort(), `n=${count}`);
    assert.ok([...seen.values()].every((times) => times === 1), `n=${count}: a run in two shards`);
  }
});

test('a shard depends only on the set of runs, not on their order', () => {
  const reversed = [...grid].reverse();
  for (let index = 1; index <= 4; index++) {
    assert.deepEqual(selectShard(reversed, { index, count: 4 }).map((r) => r.id), selectShard(grid, { index, count: 4 }).map((r) => r.id));
  }
  const sizes = [1, 2, 3, 4].map((index) => selectShard(grid, { index, count: 4 }).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes}`);
});

test("a shard's runs are neighbours in id order, so they share model and k and train as stacks", () => {
  // The paper grid with its ablations in 24 shards: every shard is 5 runs of one model and k.
  for (let index = 1; index <= 24; index++) {
    const runs = selectShard(grid, { index, count: 24 });
    assert.equal(runs.length, 5, `shard ${index}`);
    assert.equal(new Set(runs.map((r) => `${r.config.model} k=${r.config.k}`)).size, 1, `shard ${index}: ${runs.map((r) => r.id).join(', ')}`);
  }
});

test('shard specs: i/n with 1 <= i <= n, anything else is refused with a message', () => {
  assert.deepEqual(parseShard('2/5'), { index: 2, count: 5 });
  assert.deepEqual(parseShard('1/1'), { index: 1, count: 1 });
  for (const bad of ['3/2', '0/2', '1/0', '2', 'a/b', '-1/2', '1/2/3', '']) {
    assert.throws(() => parseShard(bad), /shard|expected i\/n/, bad);
  }
});

test('a shard with no runs is said so: which shard, how many runs the grid has', () => {
  assert.equal(emptyShardWarning({ index: 8, count: 9 }, 8), null);
  assert.equal(selectShard(grid.slice(0, 8), { index: 9, count: 9 }).length, 0);
  assert.equal(emptyShardWarning({ index: 9, count: 9 }, 8), 'shard 9/9 is empty: the grid has 8 runs, so only shards 1..8 of 9 have any');
  // Through the CLI: the smoke grid has 8 runs; one warning line on stderr, nothing selected, exit 0.
  const r = runCli(['grid', '--profile', 'smoke', '--shard', '9/9', '--list']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim(), 'iwae: warning: shard 9/9 is empty: the grid has 8 runs, so only shards 1..8 of 9 have any');
  assert.equal(runCli(['grid', '--profile', 'smoke', '--shard', '8/9', '--list']).stderr.trim(), '');
});
