import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createStream } from '../random/streams';
import { MNIST_FILE_KEYS, MNIST_FILE_NAMES, md5Hex, type MnistFileKey } from './files';
import { encodeIdx } from './idx';
import { IMAGE_SIDE, PIXELS } from './shape';

export interface SyntheticMnist {
  /** The raw IDX bytes of each file, as written (before any gzip). */
  files: Record<MnistFileKey, Uint8Array>;
  /** MD5 of each raw file: pass as `checksums` to `loadMnist` to verify these files. */
  checksums: Record<MnistFileKey, string>;
}

/**
 * Small MNIST-shaped IDX files (for tests and for trying the pipeline without the real data): images
 * mix exact 0s, exact 255s and gray values, as MNIST does; labels cycle 0..9. Deterministic in `seed`.
 */
export function syntheticMnist(trainCount: number, testCount: number, seed = 0): SyntheticMnist {
  const stream = createStream(seed, 'synthetic-mnist');
  const images = (count: number): Uint8Array => {
    const bytes = new Uint8Array(count * PIXELS);
    for (let i = 0; i < bytes.length; i++) {
      const u = stream.uniform();
      bytes[i] = u < 0.6 ? 0 : u < 0.7 ? 255 : Math.floor(stream.uniform() * 256);
    }
    return bytes;
  };
  const labels = (count: number): Uint8Array => Uint8Array.from({ length: count }, (_, i) => i % 10);
  const files: Record<MnistFileKey, Uint8Array> = {
    trainImages: encodeIdx([trainCount, IMAGE_SIDE, IMAGE_SIDE], images(trainCount)),
    trainLabels: encodeIdx([trainCount], labels(trainCount)),
    testImages: encodeIdx([testCount, IMAGE_SIDE, IMAGE_SIDE], images(testCount)),
    testLabels: encodeIdx([testCount], labels(testCount)),
  };
  const checksums = Object.fromEntries(MNIST_FILE_KEYS.map((key) => [key, md5Hex(files[key])])) as Record<MnistFileKey, string>;
  return { files, checksums };
}

/** Writes the four files into `dir` under their canonical names (with `.gz` appended when gzipped). */
export function writeMnistFiles(dir: string, files: Record<MnistFileKey, Uint8Array>, options: { gzip?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  for (const key of MNIST_FILE_KEYS) {
    const name = MNIST_FILE_NAMES[key] + (options.gzip ? '.gz' : '');
    writeFileSync(join(dir, name), options.gzip ? gzipSync(files[key]) : files[key]);
  }
}
