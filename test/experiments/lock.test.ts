import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearStaleLock, FOREIGN_STALE_MS, LOCK_HEARTBEAT_MS, lockStaleAtMs, readLock, tryClaimLock } from '../../lib/experiments/lock';
import { processStartToken } from '../../lib/experiments/process-liveness';
import { REPO_ROOT } from '../helpers/cli';

function freshLockPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'iwae-lock-')), 'run.lock');
}

/** A child process that claims `path` with the real code, prints CLAIMED or REFUSED, then waits or exits. */
function claimInChild(path: string, holdMs: number) {
  const script = `const { tryClaimLock } = require('./lib/experiments/lock');
    const r = tryClaimLock(${JSON.stringify(path)});
    process.stdout.write(r.claimed ? 'CLAIMED\\n' : 'REFUSED\\n');
    setTimeout(() => {}, ${holdMs});`;
  return spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
}

function firstLine(child: ReturnType<typeof claimInChild>): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    child.on('exit', () => resolve(text.trim()));
  });
}

test('claim, a second claimant is refused, release frees it', () => {
  const path = freshLockPath();
  const first = tryClaimLock(path);
  assert.ok(first.claimed);
  const second = tryClaimLock(path);
  assert.equal(second.claimed, false);
  assert.equal(!second.claimed && second.holder?.pid, process.pid);
  first.lock.release();
  assert.equal(existsSync(path), false);
  const third = tryClaimLock(path);
  assert.ok(third.claimed);
  // Releasing an old claim never removes someone else's lock.
  first.lock.release();
  assert.ok(third.lock.isHeld());
  third.lock.release();
  assert.deepEqual(readdirSync(join(path, '..')), [], 'no temp or guard files left behind');
});

test('a lock held by a live process is refused; once that process is SIGKILLed it is recovered', async () => {
  const path = freshLockPath();
  const holder = claimInChild(path, 60_000);
  assert.equal(await firstLine(holder), 'CLAIMED');
  assert.equal(tryClaimLock(path).claimed, false);
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  holder.kill('SIGKILL');
  await exited;
  const claim = tryClaimLock(path);
  assert.ok(claim.claimed, 'stale lock of a killed process recovered');
  assert.equal(readLock(path)?.owner?.pid, process.pid);
  claim.lock.release();
});

test('a reused pid does not keep a dead holder\'s lock alive (start time differs)', () => {
  const path = freshLockPath();
  const start = processStartToken(process.pid);
  assert.ok(start, 'this test needs /proc');
  writeFileSync(path, JSON.stringify({ pid: process.pid, hostname: hostname(), processStart: `${start}9`, token: 'old', claimedTime: '' }));
  const claim = tryClaimLock(path);
  assert.ok(claim.claimed);
  claim.lock.release();
});

test('a lock from another host is live while it is refreshed and stale after foreignStaleMs', () => {
  const path = freshLockPath();
  writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'another-host', processStart: null, token: 'remote', claimedTime: '' }));
  assert.equal(tryClaimLock(path, { foreignStaleMs: 60_000 }).claimed, false);
  const old = new Date(Date.now() - 120_000);
  utimesSync(path, old, old);
  const claim = tryClaimLock(path, { foreignStaleMs: 60_000 });
  assert.ok(claim.claimed);
  // The holder's heartbeat keeps its lock fresh for other hosts.
  utimesSync(path, old, old);
  claim.lock.heartbeat();
  assert.equal(tryClaimLock(path, { foreignStaleMs: 60_000, hostname: 'a-third-host' }).claimed, false);
  claim.lock.release();
});

test('many processes racing for one lock (fresh or stale): exactly one wins', async () => {
  for (const stale of [false, true]) {
    const path = freshLockPath();
    if (stale) {
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      writeFileSync(path, JSON.stringify({ pid: Number(dead.stdout), hostname: hostname(), processStart: null, token: 'dead', claimedTime: '' }));
    }
    const children = Array.from({ length: 6 }, () => claimInChild(path, 3_000));
    const lines = await Promise.all(children.map(firstLine));
    assert.equal(lines.filter((l) => l === 'CLAIMED').length, 1, `stale=${stale}: ${lines}`);
    assert.equal(lines.filter((l) => l === 'REFUSED').length, 5);
    children.forEach((c) => c.kill('SIGKILL'));
  }
});

test('by default another host\'s lock is taken over after 10 missed heartbeats (5 min), not 10 min', () => {
  const path = freshLockPath();
  writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'dead-node', processStart: null, token: 'remote', claimedTime: '' }));
  // Nine heartbeats missed: the holder may be slow, not dead; its lock stands.
  const slow = new Date(Date.now() - 9 * LOCK_HEARTBEAT_MS);
  utimesSync(path, slow, slow);
  assert.equal(tryClaimLock(path).claimed, false);
  const info = readLock(path)!;
  assert.ok(Math.abs(info.mtimeMs - slow.getTime()) < 1000, 'the heartbeat is the file time');
  assert.equal(lockStaleAtMs(info), info.mtimeMs + FOREIGN_STALE_MS);
  // Six minutes without one (a dead node): taken over without waiting for the old 10 minutes.
  const dead = new Date(Date.now() - 6 * 60_000);
  utimesSync(path, dead, dead);
  const claim = tryClaimLock(path);
  assert.ok(claim.claimed);
  // This host's own lock is judged by its process, not by a time.
  assert.equal(lockStaleAtMs(readLock(path)!), null);
  claim.lock.release();
});

test('a file at the lock path that is not a lock is judged by its age, with the same limit', () => {
  const path = freshLockPath();
  writeFileSync(path, 'garbage\n');
  const info = readLock(path)!;
  assert.equal(info.owner, null);
  assert.equal(lockStaleAtMs(info), info.mtimeMs + FOREIGN_STALE_MS);
  assert.equal(tryClaimLock(path).claimed, false, 'fresh: might be a lock being written');
  const old = new Date(Date.now() - FOREIGN_STALE_MS - 10_000);
  utimesSync(path, old, old);
  const claim = tryClaimLock(path);
  assert.ok(claim.claimed);
  claim.lock.release();
});

test('clearStaleLock removes a dead holder\'s lock and leaves a live one', () => {
  const path = freshLockPath();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(path, JSON.stringify({ pid: Number(dead.stdout), hostname: hostname(), processStart: null, token: 'dead', claimedTime: '' }));
  assert.equal(clearStaleLock(path), true);
  assert.equal(existsSync(path), false);
  assert.equal(clearStaleLock(path), false, 'nothing left to clear');
  const live = tryClaimLock(path);
  assert.ok(live.claimed);
  assert.equal(clearStaleLock(path), false);
  assert.equal(readLock(path)?.owner?.token, live.lock.owner.token, 'a live holder keeps its lock');
  live.lock.release();
});
