import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILES } from '../../lib/experiments/profiles';
import { assertNoTornJson, groupGone, killGroup, resultsJson, spawnGrid, withoutVolatileFields } from './grid-helpers';

const GRID_ARGS = ['--profile', 'smoke', '--workers', '2'];

test('a smoke grid SIGKILLed at random points and restarted ends with the results of an uninterrupted grid', { timeout: 88_000 }, async (t) => {
  const reference = mkdtempSync(join(tmpdir(), 'iwae-grid-ref-'));
  const killed = mkdtempSync(join(tmpdir(), 'iwae-grid-killed-'));
  try {
    let started = Date.now();
    const clean = await spawnGrid([...GRID_ARGS, '--results', reference]).exited;
    assert.equal(clean.code, 0, clean.stderr);
    t.diagnostic(`uninterrupted smoke grid (2 workers): ${((Date.now() - started) / 1000).toFixed(1)} s`);

    started = Date.now();
    // Kill the grid and its workers (one process group) at random moments: during start-up, training,
    // checkpoint writes, final evaluations. Each restart must pick up where the last one stopped.
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      // The first kill may land anywhere, even before a worker is up; later ones after start-up (~2.5 s).
      const delayMs = (i === 0 ? 500 : 2800) + Math.floor(Math.random() * 3500);
      delays.push(delayMs);
      const grid = spawnGrid([...GRID_ARGS, '--results', killed]);
      const timer = setTimeout(() => killGroup(grid), delayMs);
      const r = await grid.exited;
      clearTimeout(timer);
      await groupGone(grid.child.pid!);
      if (r.code === 0) break; // finished before the kill
      assert.equal(r.signal, 'SIGKILL', `expected a kill, got code ${r.code}: ${r.stderr}`);
      assertNoTornJson(killed);
    }
    const last = await spawnGrid([...GRID_ARGS, '--results', killed]).exited;
    assert.equal(last.code, 0, last.stderr);
    t.diagnostic(`kills after ${delays.join(', ')} ms, then a final restart: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const ids = gridRuns(PROFILES.smoke).map((r) => r.id);
    for (const id of ids) assert.equal(existsSync(join(killed, id, 'run.lock')), false, `${id}: lock left behind`);
    const attempts = ids.map((id) => readFileSync(join(killed, id, 'attempts.jsonl'), 'utf8').trim().split('\n').length);
    assert.ok(attempts.some((n) => n > 1), `some run was killed mid-way and resumed: attempts ${attempts}`);
    assertNoTornJson(killed);
    const expected = withoutVolatileFields(resultsJson(reference));
    const actual = withoutVolatileFields(resultsJson(killed));
    assert.equal((actual as unknown[]).length, ids.length);
    assert.deepEqual(actual, expected);
  } finally {
    rmSync(reference, { recursive: true, force: true });
    rmSync(killed, { recursive: true, force: true });
  }
});
