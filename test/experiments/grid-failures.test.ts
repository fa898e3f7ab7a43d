import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig } from '../../lib/config/run-config';
import { runGrid, type GridRunSpec } from '../../lib/experiments/grid-runner';
import { readLock, tryClaimLock } from '../../lib/experiments/lock';
import { PROFILES } from '../../lib/experiments/profiles';
import { readRunOutcome, runFile, writeRunOutcome } from '../../lib/experiments/run-dir';
import { runId } from '../../lib/experiments/run-id';
import { readResults } from '../../lib/experiments/results';
import { REPO_ROOT } from '../helpers/cli';

/** A real config that diverges: Adam steps of size ~1e30 make the weights explode within two steps. */
function spec(model: 'vae' | 'iwae', seed: number, learningRate = 1e-3): GridRunSpec {
  const config = parseRunConfig({ ...PROFILES.smoke.settings, model, k: 5, init: 'he-normal', seed, optimizer: { learningRate } });
  return { id: runId(config), config };
}

function attempts(dir: string, id: string): number {
  return readFileSync(join(dir, id, 'attempts.jsonl'), 'utf8').trim().split('\n').length;
}

test('a run that hits NaN is marked failed with its diagnostic, the others complete; --retry-failed reruns only it', { timeout: 85_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-grid-nan-'));
  const mnist = { mnistCacheDir: resolve(REPO_ROOT, 'data', 'mnist') };
  const diverging = spec('iwae', 7, 1e30);
  const healthy = [spec('vae', 7), spec('iwae', 8)];
  const runs = [diverging, ...healthy];
  try {
    const first = await runGrid({ runs, resultsDir: dir, workers: 2, mnist });
    assert.deepEqual(first.completed, healthy.map((r) => r.id).sort());
    assert.equal(first.failed.length, 1);
    assert.equal(first.failed[0].id, diverging.id);
    const failure = first.failed[0].failure;
    assert.equal(failure.epoch, 1);
    assert.ok(failure.step >= 1);
    assert.match(failure.term, /^(reconstruction|kl|bound)$/);
    assert.match(failure.message, /non-finite .* at epoch 1, step \d+/);
    const recorded = readRunOutcome(join(dir, diverging.id), diverging.id);
    assert.equal(recorded?.status, 'failed');
    assert.deepEqual(recorded?.status === 'failed' && recorded.failure, failure);
    assert.equal(existsSync(join(dir, diverging.id, 'final.json')), false, 'no final evaluation of a failed run');
    const listed = readResults(dir).find((r) => r.id === diverging.id)!;
    assert.equal(listed.status, 'failed');
    assert.deepEqual(listed.failure, failure);

    // Without --retry-failed nothing is redone: failed runs stay failed, completed ones stay completed.
    const again = await runGrid({ runs, resultsDir: dir, workers: 2, mnist });
    assert.deepEqual(again.ranNow, []);
    assert.equal(again.failed.length, 1);
    assert.equal(attempts(dir, diverging.id), 1);

    // --retry-failed runs it again (and only it); it diverges again, deterministically.
    const before = recorded!.finishedTime;
    const retried = await runGrid({ runs, resultsDir: dir, workers: 2, mnist, retryFailed: true });
    assert.deepEqual(retried.ranNow, [diverging.id]);
    assert.equal(attempts(dir, diverging.id), 2);
    for (const run of healthy) assert.equal(attempts(dir, run.id), 1, `${run.id} was not redone`);
    const after = readRunOutcome(join(dir, diverging.id), diverging.id);
    assert.equal(after?.status, 'failed');
    assert.ok(after!.finishedTime > before, 'a new outcome was recorded');
    assert.deepEqual(after?.status === 'failed' && after.failure, failure);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a grid clears the lock a dead process left on a run that has its outcome, trains nothing, and keeps a live holder\'s lock', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-grid-stale-lock-'));
  // Two runs that diverged earlier (outcome on disk), each still locked: by a process that is gone (as
  // when a stack is killed after one of its runs diverged) and by this live process.
  const [orphaned, held] = [spec('iwae', 11), spec('iwae', 12)];
  const failure = { epoch: 1, step: 3, term: 'bound' as const, message: 'non-finite bound at epoch 1, step 3' };
  try {
    for (const run of [orphaned, held]) {
      mkdirSync(join(dir, run.id), { recursive: true });
      writeFileSync(join(dir, run.id, 'config.json'), JSON.stringify(run.config));
      writeRunOutcome(join(dir, run.id), run.id, { status: 'failed', failure });
    }
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadLock = runFile(join(dir, orphaned.id), 'lock');
    writeFileSync(deadLock, JSON.stringify({ pid: Number(dead.stdout), hostname: hostname(), processStart: null, token: 'dead', claimedTime: '' }));
    const live = tryClaimLock(runFile(join(dir, held.id), 'lock'));
    assert.ok(live.claimed);
    try {
      const summary = await runGrid({ runs: [orphaned, held], resultsDir: dir, workers: 1, mnist: { mnistCacheDir: resolve(REPO_ROOT, 'data', 'mnist') } });
      assert.deepEqual(summary.ranNow, []);
      assert.deepEqual(summary.failed.map((f) => f.id).sort(), [orphaned.id, held.id].sort());
      assert.equal(existsSync(deadLock), false, 'the dead holder\'s lock is gone');
      assert.equal(readLock(runFile(join(dir, held.id), 'lock'))?.owner?.token, live.lock.owner.token, 'a live holder keeps its lock');
    } finally {
      live.lock.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
