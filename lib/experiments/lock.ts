import { linkSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isProcessAlive, processStartToken } from './process-liveness';

/**
 * Exclusive claims on a path through a lock file, safe between processes and hosts sharing a file system:
 * - created complete or not at all (written to a temp file, then hard-linked into place: link fails if
 *   the lock exists, so exactly one claimant wins and nobody ever reads a half-written lock);
 * - stale when its holder is gone: on the same host, the recorded process (pid + start time) is dead or
 *   a zombie; from another host (pids mean nothing here), when its holder has not refreshed it
 *   (`heartbeat`) for `foreignStaleMs`;
 * - a stale lock is removed under a second, short-lived lock (`<path>.break`), after checking it is still
 *   the same stale lock, so two processes recovering it at once cannot remove a fresh claim.
 */

export interface LockOwner {
  pid: number;
  hostname: string;
  /** The holder's process start time on its host (/proc), to tell it from a later process with its pid. */
  processStart: string | null;
  /** Unique per claim: tells this claim from any other by the same process. */
  token: string;
  claimedTime: string;
}

export interface LockInfo {
  /** null when the file does not parse as a lock (then it is judged by its age alone). */
  owner: LockOwner | null;
  /** Last heartbeat (the file's modification time). */
  mtimeMs: number;
}

export interface LockOptions {
  /** Locks from another host are stale after this long without a heartbeat (default FOREIGN_STALE_MS). */
  foreignStaleMs?: number;
  /** This host's name (default os.hostname()); tests pretend to be another host with it. */
  hostname?: string;
}

/**
 * A lock's holder refreshes it (`HeldLock.heartbeat`) about this often while it works: grid workers beat
 * on the first training step or evaluation batch after each interval, and after every epoch.
 */
export const LOCK_HEARTBEAT_MS = 30_000;

/**
 * A lock from another host (or one that does not parse) is stale after this long without a heartbeat:
 * 10 heartbeats (5 minutes). The margin covers the work between beats (an epoch's evaluation passes and
 * checkpoint: seconds on `paper`, more on a loaded node), NFS attribute caching (a reader may see an mtime
 * up to 60 s old) and clock skew between hosts; taking over a live run would train it twice.
 */
export const FOREIGN_STALE_MS = 10 * LOCK_HEARTBEAT_MS;

/** Read as a lock, or null if there is no lock at `path`. */
export function readLock(path: string): LockInfo | null {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return { owner: parseOwner(text), mtimeMs };
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.token === 'string') {
      return { processStart: null, claimedTime: '', ...value } as LockOwner;
    }
  } catch {
    // fall through: not a lock we wrote
  }
  return null;
}

/** Whether the lock's holder is gone (see the module comment). */
export function isLockStale(info: LockInfo, options: LockOptions = {}, nowMs = Date.now()): boolean {
  const here = options.hostname ?? osHostname();
  if (info.owner && info.owner.hostname === here) return !isProcessAlive(info.owner.pid, info.owner.processStart);
  return nowMs > lockStaleAtMs(info, options)!;
}

/**
 * When the lock is judged stale unless its holder refreshes it first (ms since the epoch), for locks
 * judged by their heartbeat: those of another host and those that do not parse. null for a lock of this
 * host, which is stale as soon as its process is gone, whenever that is.
 */
export function lockStaleAtMs(info: LockInfo, options: LockOptions = {}): number | null {
  if (info.owner && info.owner.hostname === (options.hostname ?? osHostname())) return null;
  return info.mtimeMs + (options.foreignStaleMs ?? FOREIGN_STALE_MS);
}

/** A claim held by this process. */
export class HeldLock {
  constructor(
    readonly path: string,
    readonly owner: LockOwner,
  ) {}

  /** True while the lock file is still this claim (not removed or taken over as stale). */
  isHeld(): boolean {
    const info = readLock(this.path);
    return info?.owner?.token === this.owner.token;
  }

  private lastBeatMs = Date.now();

  /**
   * heartbeat() if LOCK_HEARTBEAT_MS have passed since the last one: cheap enough to call on every
   * training step or evaluation batch. Other hosts judge the holder alive by it (FOREIGN_STALE_MS).
   */
  heartbeatIfDue(nowMs = Date.now()): void {
    if (nowMs - this.lastBeatMs >= LOCK_HEARTBEAT_MS) this.heartbeat();
  }

  /** Marks the holder as alive (matters to other hosts, which cannot check the pid). */
  heartbeat(): void {
    this.lastBeatMs = Date.now();
    if (!this.isHeld()) return;
    const now = new Date();
    try {
      utimesSync(this.path, now, now);
    } catch {
      // Gone between the check and the touch: the next claimant owns it now.
    }
  }

  /** Removes the lock if it is still this claim. Synchronous, so it can run in signal and exit handlers. */
  release(): void {
    if (this.isHeld()) rmSync(this.path, { force: true });
  }
}

export type ClaimResult = { claimed: true; lock: HeldLock } | { claimed: false; holder: LockOwner | null };

/** Tries once (plus stale-lock recovery) to claim `path`; never waits for a live holder. */
export function tryClaimLock(path: string, options: LockOptions = {}): ClaimResult {
  const owner = newOwner(options);
  let holder: LockOwner | null = null;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (createExclusive(path, owner)) return { claimed: true, lock: new HeldLock(path, owner) };
    const info = readLock(path);
    if (info === null) continue; // released between our attempt and the read
    holder = info.owner;
    if (!isLockStale(info, options)) return { claimed: false, holder };
    breakStaleLock(path, info, options);
    if (attempt > 0) sleepMs(5 * attempt); // another process is breaking it: give it a moment
  }
  return { claimed: false, holder };
}

function newOwner(options: LockOptions): LockOwner {
  return {
    pid: process.pid,
    hostname: options.hostname ?? osHostname(),
    processStart: processStartToken(process.pid),
    token: randomBytes(8).toString('hex'),
    claimedTime: new Date().toISOString(),
  };
}

/** Puts a complete lock file at `path` unless one exists: true when this call created it. */
function createExclusive(path: string, owner: LockOwner): boolean {
  const temp = `${path}.${owner.token}.tmp`;
  writeFileSync(temp, `${JSON.stringify(owner)}\n`);
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return createWithOpenExcl(path, owner);
    throw err;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** For file systems without hard links: O_EXCL create (a kill mid-write leaves a torn lock, judged by age). */
function createWithOpenExcl(path: string, owner: LockOwner): boolean {
  try {
    writeFileSync(path, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function sameLock(a: LockInfo, b: LockInfo): boolean {
  return a.owner && b.owner ? a.owner.token === b.owner.token : a.owner === b.owner && a.mtimeMs === b.mtimeMs;
}

/**
 * Removes the stale lock `seen` from `path`, under the guard `<path>.break` so that only one process
 * does it and only if `path` still is that lock (not a fresh claim made since it was read); true when it did.
 */
function breakStaleLock(path: string, seen: LockInfo, options: LockOptions): boolean {
  const guardPath = `${path}.break`;
  const guardOwner = newOwner(options);
  if (!createExclusive(guardPath, guardOwner)) {
    // Someone else is breaking it, or died doing so (then the guard itself is stale: remove it; the
    // caller retries).
    const guard = readLock(guardPath);
    if (guard && isLockStale(guard, options)) {
      const again = readLock(guardPath);
      if (again && sameLock(again, guard)) rmSync(guardPath, { force: true });
    }
    return false;
  }
  try {
    const current = readLock(path);
    if (!current || !sameLock(current, seen)) return false;
    try {
      unlinkSync(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return false;
    }
  } finally {
    rmSync(guardPath, { force: true });
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes the lock at `path` if it is stale (its holder is gone), under the same guard as a claim that
 * breaks it; returns true when this call removed it (false: none, live, or another process is on it). For runs whose outcome is recorded:
 * a holder killed after writing it leaves a lock nobody will claim again.
 */
export function clearStaleLock(path: string, options: LockOptions = {}): boolean {
  const info = readLock(path);
  if (!info || !isLockStale(info, options)) return false;
  return breakStaleLock(path, info, options);
}

/**
 * Removes the lock at `path` if it was taken by process `pid` of this host and that process is gone
 * (the grid parent cleaning up after a worker it saw die). Returns true when it removed it.
 */
export function clearLockOfDeadProcess(path: string, pid: number, options: LockOptions = {}): boolean {
  const info = readLock(path);
  if (!info?.owner || info.owner.pid !== pid || info.owner.hostname !== (options.hostname ?? osHostname())) return false;
  if (!isLockStale(info, options)) return false;
  const again = readLock(path);
  if (!again || !sameLock(again, info)) return false;
  rmSync(path, { force: true });
  return true;
}
