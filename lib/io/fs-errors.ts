import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/**
 * File-system errors a user can act on (a full disk, a read-only or foreign directory, a file where a
 * directory should be), worded for one line. Every command maps them the same way (lib/cli/program.ts);
 * grid workers use the same wording for their per-run errors.
 */
const FILE_SYSTEM_PROBLEMS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'a file of that name is in the way',
};

/** What the failed call was doing, by Node's `syscall` field. */
function action(syscall: string | undefined): string {
  if (syscall === 'mkdir') return 'cannot create directory';
  if (syscall === 'read' || syscall === 'scandir' || syscall === 'stat' || syscall === 'lstat') return 'cannot read';
  return 'cannot write';
}

/** `err` or the first error of its `cause` chain that is one of the problems above. */
function errnoOf(err: unknown): (NodeJS.ErrnoException & { code: string }) | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const errno = e as NodeJS.ErrnoException;
    if (typeof errno.code === 'string' && errno.code in FILE_SYSTEM_PROBLEMS) return errno as NodeJS.ErrnoException & { code: string };
  }
  return null;
}

/**
 * One line for a file-system error (`cannot write <path>: no space left on device (ENOSPC)`), or null
 * when `err` (or its `cause` chain) is not one of the problems above.
 */
export function describeFileSystemError(err: unknown): string | null {
  const errno = errnoOf(err);
  if (!errno) return null;
  const where = typeof errno.path === 'string' ? ` ${errno.path}` : '';
  return `${action(errno.syscall)}${where}: ${FILE_SYSTEM_PROBLEMS[errno.code]} (${errno.code})`;
}

/**
 * The error of a failed write, naming `path` (the file the caller asked for, not a temp beside it) and
 * keeping the code. write(2) errors such as ENOSPC carry no path at all in Node.
 */
export function fileWriteError(err: unknown, path: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return err as Error;
  const syscall = (err as NodeJS.ErrnoException).syscall === 'mkdir' ? 'mkdir' : 'write';
  const target = syscall === 'mkdir' ? ((err as NodeJS.ErrnoException).path ?? dirname(path)) : path;
  const problem = FILE_SYSTEM_PROBLEMS[code] ?? (err as Error).message;
  return Object.assign(new Error(`${code}: ${problem}, ${syscall} '${target}'`, { cause: err }), {
    code,
    syscall,
    path: target,
  });
}

/**
 * mkdir -p that reports the real cause: Node's recursive mkdir says ENOENT when a parent is on a
 * read-only file system (for example); then each missing level is created in turn to get the true error.
 */
export function makeDirectory(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const missing: string[] = [];
  for (let dir = path; !exists(dir) && dirname(dir) !== dir; dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) mkdirSync(dir);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Throws unless `path` is a directory or does not exist yet (a file there, or a file above it). */
export function assertDirectoryOrAbsent(path: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    // Reported as what the caller wants of the path: a directory there.
    throw Object.assign(new Error(`${code}: cannot use '${path}' as a directory`, { cause: err }), { code, syscall: 'mkdir', path });
  }
  if (!isDirectory) throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${path}'`), { code: 'EEXIST', syscall: 'mkdir', path });
}

/**
 * Throws the file-system error a write into `dir` would hit (creating `dir` if needed): read-only,
 * not a directory, permission. A full disk is only found by the write itself (an empty file fits).
 */
export function assertWritableDirectory(dir: string): void {
  assertDirectoryOrAbsent(dir);
  makeDirectory(dir);
  const probe = join(dir, `.write-check.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, '');
  } catch (err) {
    throw fileWriteError(err, join(dir, '.'));
  }
  rmSync(probe, { force: true });
}
