import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGridReporter, describeWait, formatSeconds } from '../../lib/experiments/grid-progress';
import { FOREIGN_STALE_MS, type LockOwner } from '../../lib/experiments/lock';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const owner = (host: string): LockOwner => ({ pid: 4242, hostname: host, processStart: null, token: 't', claimedTime: '' });

test('waiting on a lock from another host: says who holds it and when it is taken over without a heartbeat', () => {
  const text = describeWait('run-a', owner('node-b'), { owner: owner('node-b'), mtimeMs: NOW - 12_000 }, NOW);
  assert.equal(
    text,
    'run-a is held by pid 4242 on node-b (last heartbeat 12.0 s ago); waiting: without a new heartbeat it is taken over as stale in 4m 48s (5m 00s after the last)',
  );
  const overdue = describeWait('run-a', null, { owner: owner('node-b'), mtimeMs: NOW - FOREIGN_STALE_MS - 1 }, NOW);
  assert.match(overdue, /taken over as stale now/);
});

test('waiting on a lock file that is not a lock (garbage): says so and how long until it is taken over', () => {
  const text = describeWait('run-a', null, { owner: null, mtimeMs: NOW - 3_000 }, NOW);
  assert.match(text, /^run-a: its run\.lock is unreadable as a lock \(last changed 3\.0 s ago\); .* taken over as stale in 4m 57s \(5m 00s after its last change\)$/);
});

test('waiting on a live process of this host: taken over when it is gone (no time limit)', () => {
  const text = describeWait('run-a', owner(hostname()), { owner: owner(hostname()), mtimeMs: NOW - 999_999 }, NOW);
  assert.equal(text, 'run-a is held by pid 4242 on this host; waiting for it (taken over as soon as that process is gone)');
});

test('the grid reporter reads the lock of a run it waits for (one line on stderr)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-progress-'));
  try {
    mkdirSync(join(dir, 'run-a'));
    writeFileSync(join(dir, 'run-a', 'run.lock'), '\0\0garbage');
    const lines: string[] = [];
    const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const reporter = createGridReporter(stream, 'smoke', { resultsDir: dir });
    reporter.onEvent({ type: 'waiting', id: 'run-a', holder: null });
    reporter.close();
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^\[grid\] run-a: its run\.lock is unreadable as a lock .* taken over as stale in (4m 5\ds|5m 00s) \(5m 00s after its last change\)\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('durations round once: never "4m 60s"', () => {
  assert.equal(formatSeconds(299.9), '5m 00s');
  assert.equal(formatSeconds(59.97), '1m 00s');
  assert.equal(formatSeconds(12), '12.0 s');
  assert.equal(formatSeconds(3 * 3600 + 125), '3h 02m');
});

test('plain lines: a resumed stack says its pace and when its training ends; the ETA counts only the work done here', () => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
  let clock = NOW;
  const reporter = createGridReporter(stream, 'paper', { now: () => clock });
  const ids = ['vae-k5-he-normal-s10-e80-9d39a22b', 'vae-k5-he-normal-s32-e80-bc9cebb5'];
  const steps = 3000;
  reporter.onEvent({ type: 'start', total: 2, alreadyDone: 0, toRun: 2, workers: 1 });
  // Resumed at epoch 41 of 80: 40 epochs were trained by an earlier process.
  reporter.onEvent({ type: 'progress', ids, phase: 'training', epoch: 41, epochs: 80, done: 40 * steps, total: 80 * steps });
  clock += 90_000;
  reporter.onEvent({ type: 'progress', ids, phase: 'training', epoch: 42, epochs: 80, done: 41 * steps, total: 80 * steps });
  reporter.close();
  assert.equal(lines[1], `[grid] stack of 2 (${ids[0]}, ...): epoch 41/80\n`);
  // 39 epochs left at 90 s; the ETA adds the final evaluation (15 % of a run's time): 3,510 s + 1,271 s = 1h 19m 41s.
  assert.equal(lines[2], `[grid] stack of 2 (${ids[0]}, ...): epoch 42/80, 1m 30s per epoch: training ends in ~58m 30s; grid ETA 1h 19m\n`);
});
