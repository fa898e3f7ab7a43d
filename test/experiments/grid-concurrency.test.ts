import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILES } from '../../lib/experiments/profiles';
import { assertNoTornJson, resultsJson, spawnGrid } from './grid-helpers';
import { intraOpThreads, trainingEnvironment } from '../../lib/env/tensorflow-threads';

test('two grid processes started at once on one results dir run every run exactly once', { timeout: 85_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-grid-two-'));
  try {
    const started = Date.now();
    const grids = [spawnGrid(['--profile', 'smoke', '--workers', '1', '--results', dir]), spawnGrid(['--profile', 'smoke', '--workers', '1', '--results', dir])];
    const results = await Promise.all(grids.map((g) => g.exited));
    const seconds = (Date.now() - started) / 1000;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    // Each grid reports how many runs it executed: together exactly the grid, and both took part.
    const ranByEach = results.map((r) => Number(/\((\d+) run by this grid\)/.exec(r.stdout)![1]));
    const expected = gridRuns(PROFILES.smoke).map((run) => run.id);
    assert.equal(ranByEach[0] + ranByEach[1], expected.length, results.map((r) => r.stdout).join(''));
    assert.ok(ranByEach.every((n) => n > 0), `work was shared: ${ranByEach}`);

    for (const id of expected) {
      const runDir = join(dir, id);
      const attempts = readFileSync(join(runDir, 'attempts.jsonl'), 'utf8').trim().split('\n');
      assert.equal(attempts.length, 1, `${id} started ${attempts.length} times`);
      // Each attempt says what trained it: the CPU and the TensorFlow build (what decides the last bits).
      const { machine } = JSON.parse(attempts[0]);
      assert.equal(typeof machine.cpu, 'string');
      assert.match(machine.tensorflow, /^\d+\.\d+/);
      assert.equal(machine.threads, intraOpThreads(trainingEnvironment(process.env)), 'the TensorFlow threads the worker trained with (one unless the caller set them)');
      const epochs = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
      assert.deepEqual(epochs, [1, 2], id);
      assert.equal(existsSync(join(runDir, 'run.lock')), false, `${id}: lock released`);
    }
    const records = resultsJson(dir);
    assert.deepEqual(records.map((r) => r.id), expected);
    assert.ok(records.every((r) => r.status === 'completed'));
    assertNoTornJson(dir);
    t.diagnostic(`two smoke grids (1 worker each) on one results dir: ${seconds.toFixed(1)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
