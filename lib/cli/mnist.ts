import { DataFileError } from '../data/errors';
import { loadMnist, type MnistData } from '../data/mnist';
import { UserError } from './errors';
import { chosenMnistDir, DEFAULT_MNIST_CACHE } from './paths';

export interface CliMnistOptions {
  verifyChecksums?: boolean;
  allowDownload?: boolean;
  /** Added to a checksum error, for commands that offer a way around it (e.g. `--no-verify`). */
  checksumHint?: string;
}

/**
 * MNIST for a command: --mnist-dir, else $MNIST_DIR, else the cache, the packaged copy or a download.
 * Data file problems become one `iwae: <file>: <problem>` line, exit 1.
 */
export async function loadMnistForCli(mnistDir: string | undefined, env: NodeJS.ProcessEnv, options: CliMnistOptions = {}): Promise<MnistData> {
  try {
    return await loadMnist({
      mnistDir: chosenMnistDir(mnistDir, env),
      cacheDir: DEFAULT_MNIST_CACHE,
      verifyChecksums: options.verifyChecksums,
      allowDownload: options.allowDownload,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof DataFileError) {
      const hint = err.kind === 'checksum' && options.checksumHint ? options.checksumHint : '';
      throw new UserError(`${err.message}${hint}`);
    }
    throw err;
  }
}
