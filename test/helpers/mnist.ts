import { resolve } from 'node:path';
import { loadMnist, type MnistData } from '../../lib/data/mnist';
import { REPO_ROOT } from './cli';

/** Where setup caches MNIST (tests never download). */
export const MNIST_CACHE = resolve(REPO_ROOT, 'data', 'mnist');

let mnist: Promise<MnistData> | null = null;
/** The real MNIST, loaded once per test file. */
export const mnistData = (): Promise<MnistData> => (mnist ??= loadMnist({ cacheDir: MNIST_CACHE, allowDownload: false }));
