import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataFileError } from './errors';
import { MNIST_FILE_KEYS, MNIST_FILE_NAMES, isGzip, md5Hex, type MnistFileKey } from './files';
import { findMnistFiles, type MnistFilePaths } from './source-dir';

export interface DownloadOptions {
  /** Base URLs, each serving `<canonical name>.gz`; tried in order for every file. */
  mirrors: readonly string[];
  /** MD5 of each raw (decompressed) file. A download is kept only if it matches. */
  checksums: Readonly<Record<MnistFileKey, string>>;
  /** Per request, connect and body together. */
  timeoutMs?: number;
  /** One line per file fetched, for a progress display. */
  onProgress?: (message: string) => void;
}

/**
 * Fills `cacheDir` with the raw MNIST files it lacks, from the first mirror that serves a file whose
 * checksum matches. Each file goes to a temp file first and is renamed into place only once verified,
 * so an interrupted or bad download never leaves a file that looks valid.
 */
export async function downloadMnist(cacheDir: string, options: DownloadOptions): Promise<MnistFilePaths> {
  await mkdir(cacheDir, { recursive: true });
  const present = findMnistFiles(cacheDir);
  const paths = {} as MnistFilePaths;
  for (const key of MNIST_FILE_KEYS) {
    paths[key] = present[key] ?? (await downloadOne(cacheDir, key, options));
  }
  return paths;
}

async function downloadOne(cacheDir: string, key: MnistFileKey, options: DownloadOptions): Promise<string> {
  const name = MNIST_FILE_NAMES[key];
  const dest = join(cacheDir, name);
  const failures: string[] = [];
  for (const mirror of options.mirrors) {
    const url = new URL(`${name}.gz`, mirror.endsWith('/') ? mirror : `${mirror}/`).toString();
    options.onProgress?.(`downloading ${url}`);
    let raw: Uint8Array;
    try {
      raw = await fetchRaw(url, options.timeoutMs ?? 120_000);
    } catch (err) {
      failures.push(`${url}: ${(err as Error).message}`);
      continue;
    }
    const md5 = md5Hex(raw);
    if (md5 !== options.checksums[key]) {
      failures.push(`${url}: MD5 ${md5}, expected ${options.checksums[key]}`);
      continue;
    }
    await writeAtomically(dest, raw);
    return dest;
  }
  throw new DataFileError(dest, `download failed from every mirror (${failures.join('; ')})`, 'download');
}

async function fetchRaw(url: string, timeoutMs: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (err as Error).message);
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = new Uint8Array(await response.arrayBuffer());
  if (!isGzip(body)) return body;
  try {
    return gunzipSync(body);
  } catch (err) {
    throw new Error(`corrupt gzip data: ${(err as Error).message}`);
  }
}

/** Temp file in the same directory, then rename: readers see either no file or the whole verified one. */
async function writeAtomically(dest: string, bytes: Uint8Array): Promise<void> {
  const temp = `${dest}.${process.pid}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, dest);
  } catch (err) {
    await rm(temp, { force: true });
    throw new DataFileError(dest, `cannot write: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'download');
  }
}
