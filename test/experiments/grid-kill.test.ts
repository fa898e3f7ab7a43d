import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

    const cleanMs = Date.now() - started;
    started = Date.now();
    // Kill the grid and its workers (one process group) three times. The first kill lands the moment a
    // run has a checkpoint but no outcome, so at least one run is always cut mid-way, however fast
    // training is; the others at random moments of a grid's lifetime:
    // start-up, training, checkpoint writes, final evaluations. Each restart must pick up where the last stopped.
    const kills: string[] = [];
    for (let i = 0; i < 3; i++) {
      const grid = spawnGrid([...GRID_ARGS, '--results', killed]);
      let timer: NodeJS.Timeout | undefined;
      if (i === 0) {
        timer = setInterval(() => {
          if (runCheckpointedButUnfinished(killed)) {
            killGroup(grid);
            clearInterval(timer);
          }
        }, 5);
        kills.push('when a run had checkpointed an epoch but not finished');
      } else {
        const delayMs = 200 + Math.floor(Math.random() * cleanMs);
        kills.push(`after ${delayMs} ms`);
        timer = setTimeout(() => killGroup(grid), delayMs);
      }
      const r = await grid.exited;
      clearTimeout(timer);
      clearInterval(timer);
      await groupGone(grid.child.pid!);
      if (r.code === 0) break; // finished before the kill
      assert.equal(r.signal, 'SIGKILL', `expected a kill, got code ${r.code}: ${r.stderr}`);
      assertNoTornJson(killed);
    }
    const last = await spawnGrid([...GRID_ARGS, '--results', killed]).exited;
    assert.equal(last.code, 0, last.stderr);
    t.diagnostic(`kills ${kills.join(', ')}, then a final restart: ${((Date.now() - started) / 1000).toFixed(1)} s`);

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

/** True when some run directory holds an epoch checkpoint but no outcome yet (status.json). */
function runCheckpointedButUnfinished(resultsDir: string): boolean {
  if (!existsSync(resultsDir)) return false;
  return readdirSync(resultsDir).some((id) => existsSync(join(resultsDir, id, 'checkpoint.bin')) && !existsSync(join(resultsDir, id, 'status.json')));
}
