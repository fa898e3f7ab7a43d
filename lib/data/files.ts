import { createHash } from 'node:crypto';

/** The four MNIST files, by role. */
export const MNIST_FILE_KEYS = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const;
export type MnistFileKey = (typeof MNIST_FILE_KEYS)[number];

/** Canonical names of the raw (uncompressed) IDX files; mirrors serve them with a `.gz` suffix. */
export const MNIST_FILE_NAMES: Readonly<Record<MnistFileKey, string>> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** MD5 of the canonical raw files (study protocol notes); checked on every load unless the user opts out. */
export const MNIST_MD5: Readonly<Record<MnistFileKey, string>> = {
  trainImages: '6bbc9ace898e44ae57da46a324031adb',
  trainLabels: 'a25bea736e30d166cdddb491f175f624',
  testImages: '2646ac647ad5339dbf082846283269ea',
  testLabels: '27ae3e4e09519cfbb04c329615203637',
};

/**
 * Mirrors of the original files (each serves `<name>.gz`), tried in order. LeCun's own site, the
 * original home, now often refuses plain downloads, so it comes last.
 */
export const MNIST_MIRRORS: readonly string[] = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
  'http://yann.lecun.com/exdb/mnist/',
];

export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** gzip streams start with 0x1f 0x8b; mirrors may or may not decompress for us, so look at the bytes. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}
