import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { isProcessAlive } from '../experiments/process-liveness';
import { fileWriteError, makeDirectory } from './fs-errors';

/** This host's name as it appears in temp file names: no dots, so a name parses from the right. */
function tempHost(name: string = hostname()): string {
  return name.replace(/[^A-Za-z0-9-]/g, '-');
}

/**
 * `<path>.<pid>@<host>.<hex>.tmp`: unique per call, so two processes never share one, and naming its
 * writer, so a later run can tell an interrupted write's leftover from a write in progress.
 */
function tempPathFor(path: string): string {
  return `${path}.${process.pid}@${tempHost()}.${randomBytes(4).toString('hex')}.tmp`;
}

/** A temp of writeFileAtomic; before the host was added to the name it was `<path>.<pid>.<hex>.tmp`. */
const TEMP_NAME = /^.+\.(\d+)(?:@([A-Za-z0-9-]+))?\.[0-9a-f]{8}\.tmp$/;

/**
 * Writes `path` so that readers (and a later run after a kill) see either the old file or the whole new
 * one, never half of it: the bytes go to a unique temp file beside it, are flushed, then renamed over
 * (atomic on POSIX). A failure (full disk, read-only directory) removes the temp and throws an error
 * naming `path` (see fileWriteError).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  try {
    makeDirectory(dirname(path));
  } catch (err) {
    throw fileWriteError(err, path);
  }
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw fileWriteError(err, path);
  }
}

/** A temp of another host older than this is left over from a kill (a node's time limit, say). */
const FOREIGN_TEMP_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * Removes the temps of writeFileAtomic under `dir` (and its subdirectories) left by processes that are
 * gone (a kill mid-write), and returns their paths: this host's when their process is dead, another
 * host's when older than an hour. A live process's temp is left alone. Call it when a run directory is opened.
 */
export function removeStaleTempFiles(dir: string, options: { hostname?: string } = {}): string[] {
  const here = tempHost(options.hostname);
  const removed: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      removed.push(...removeStaleTempFiles(path, options));
      continue;
    }
    const match = entry.isFile() ? TEMP_NAME.exec(entry.name) : null;
    if (!match) continue;
    const [, pid, host] = match;
    // Names without a host predate it: written on the host that keeps using this directory. Another
    // host's pid means nothing here, but a write's temp lives for milliseconds: an old one is left over.
    const foreign = (host ?? here) !== here;
    if (foreign ? Date.now() - statSync(path).mtimeMs < FOREIGN_TEMP_MAX_AGE_MS : isProcessAlive(Number(pid), null)) continue;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The parsed JSON file, or null when it does not exist. A file that does not parse is an error. */
export function readJsonIfExists<T = unknown>(path: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}
