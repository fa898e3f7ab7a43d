import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataFileError } from './errors';
import { MNIST_FILE_KEYS, MNIST_FILE_NAMES, isGzip, type MnistFileKey } from './files';

/** Where each of the four files lives in one directory: the raw file, or else its `.gz`. */
export type MnistFilePaths = Record<MnistFileKey, string>;

/** The path of each file in `dir` (raw preferred over `.gz`), or null for a file that is absent. */
export function findMnistFiles(dir: string): Record<MnistFileKey, string | null> {
  const found = {} as Record<MnistFileKey, string | null>;
  for (const key of MNIST_FILE_KEYS) {
    const raw = join(dir, MNIST_FILE_NAMES[key]);
    const gz = `${raw}.gz`;
    found[key] = existsSync(raw) ? raw : existsSync(gz) ? gz : null;
  }
  return found;
}

/** All four paths when `dir` holds every file, else null. */
export function completeMnistDir(dir: string): MnistFilePaths | null {
  const found = findMnistFiles(dir);
  return MNIST_FILE_KEYS.every((key) => found[key] !== null) ? (found as MnistFilePaths) : null;
}

/** Like `completeMnistDir`, but a missing file is an error naming it (for a directory the user chose). */
export function requireMnistDir(dir: string, role: string): MnistFilePaths {
  const found = findMnistFiles(dir);
  for (const key of MNIST_FILE_KEYS) {
    if (found[key] === null) {
      throw new DataFileError(
        join(dir, MNIST_FILE_NAMES[key]),
        `not found (${role} must hold the four MNIST IDX files, raw or .gz)`,
        'missing',
      );
    }
  }
  return found as MnistFilePaths;
}

/** The raw bytes of one file, decompressed when it is gzipped. */
export async function readRawBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataFileError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'missing');
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataFileError(path, `corrupt gzip data: ${(err as Error).message}`, 'format');
  }
}
