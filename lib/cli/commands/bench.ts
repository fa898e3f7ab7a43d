import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors';
import { InvalidArgumentError } from 'commander';
import { MNIST_TEST_SIZE } from '../../config/run-config';
import { DEFAULT_STACK_SIZE } from '../../experiments/grid-runner';
import { integerAtLeast, oneOf } from '../parse';
import { REPO_ROOT } from '../paths';

const OBJECTIVES = ['iwae', 'vae'] as const;

/** A count of test images: 1 to MNIST's 10,000. */
function testImages(value: string): number {
  const n = integerAtLeast(1)(value);
  if (n > MNIST_TEST_SIZE) throw new InvalidArgumentError(`must be <= ${MNIST_TEST_SIZE}, got ${n}`);
  return n;
}

interface BenchFlags {
  json?: boolean;
  steps: number;
  block: number;
  warmup: number;
  k: number;
  objective: (typeof OBJECTIVES)[number];
  workers?: number;
  reference: boolean;
  grid?: boolean;
  stackSize?: number;
  finalImages: number;
  passImages: number;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('time our training step against the PyTorch reference (alternating blocks), grid throughput, arithmetic floor')
    .option('--json', 'print one JSON object')
    .option('--steps <n>', 'timed steps per side', integerAtLeast(1), 300)
    .option('--block <n>', 'steps per alternating block', integerAtLeast(1), 50)
    .option('--warmup <n>', 'untimed steps per side first', integerAtLeast(0), 30)
    .option('--k <n>', 'importance samples', integerAtLeast(1), 5)
    .option('--objective <name>', `objective: ${OBJECTIVES.join(', ')}`, oneOf(OBJECTIVES), 'iwae')
    .option('--workers <n>', 'worker processes for the grid figure (default: number of cores, as `iwae grid`)', integerAtLeast(1))
    .option('--no-reference', 'time ours only (no PyTorch)')
    .option(
      '--grid',
      'the whole machine at the paper setting instead (IWAE, k=5 and k=1): ours as `iwae grid` runs it vs the references run sequentially, ' +
        'final L_5000, per-epoch passes, projected paper-grid hours (--k and --objective do not apply)',
    )
    .option('--stack-size <n>', `--grid: runs per worker stack (default: as \`iwae grid\`, ${DEFAULT_STACK_SIZE})`, integerAtLeast(1))
    .option('--final-images <n>', '--grid: test images of the timed final L_5000 (extrapolated to 10,000)', testImages, 100)
    .option('--pass-images <n>', '--grid: test images of the timed per-epoch passes (training images: 6x; scaled to 10,000 / 60,000)', testImages, 2000)
    .action(async (flags: BenchFlags) => {
      // Loaded here, not at the top: `iwae --help` and usage errors must not load TensorFlow.
      const { locateReference } = require('../../perf/reference') as typeof import('../../perf/reference');
      const { formatBenchReport, runBench } = require('../../perf/bench') as typeof import('../../perf/bench');
      const reference = flags.reference ? locateReference(REPO_ROOT) : { available: false as const, reason: 'disabled by --no-reference' };
      if (!reference.available && flags.reference) process.stderr.write(`iwae bench: ${reference.reason}; measuring ours only\n`);
      try {
        if (flags.grid) {
          const { formatGridReport, runGridBench } = require('../../perf/grid-bench') as typeof import('../../perf/grid-bench');
          const grid = await runGridBench(
            {
              workers: flags.workers ?? availableParallelism(),
              stackSize: flags.stackSize ?? DEFAULT_STACK_SIZE,
              steps: flags.steps,
              blockSteps: flags.block,
              warmupSteps: flags.warmup,
              finalImages: flags.finalImages,
              passImages: flags.passImages,
              reference,
              seed: 0,
              env: process.env,
            },
            flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
          );
          if (flags.json) process.stdout.write(`${JSON.stringify({ grid })}\n`);
          else for (const line of formatGridReport(grid)) process.stdout.write(`${line}\n`);
          return;
        }
        const report = await runBench(
          {
            objective: flags.objective,
            k: flags.k,
            batch: 20,
            steps: flags.steps,
            blockSteps: flags.block,
            warmupSteps: flags.warmup,
            workers: flags.workers ?? availableParallelism(),
            reference,
            seed: 0,
            env: process.env,
          },
          flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
        );
        if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else for (const line of formatBenchReport(report)) process.stdout.write(`${line}\n`);
      } catch (err) {
        throw new UserError(`bench failed: ${(err as Error).message}`);
      }
    });
}
