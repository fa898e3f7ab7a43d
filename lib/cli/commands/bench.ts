import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors';
import { integerAtLeast, oneOf } from '../parse';
import { REPO_ROOT } from '../paths';

const OBJECTIVES = ['iwae', 'vae'] as const;

interface BenchFlags {
  json?: boolean;
  steps: number;
  block: number;
  warmup: number;
  k: number;
  objective: (typeof OBJECTIVES)[number];
  workers?: number;
  reference: boolean;
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
    .action(async (flags: BenchFlags) => {
      // Loaded here, not at the top: `iwae --help` and usage errors must not load TensorFlow.
      const { locateReference } = require('../../perf/reference') as typeof import('../../perf/reference');
      const { formatBenchReport, runBench } = require('../../perf/bench') as typeof import('../../perf/bench');
      const reference = flags.reference ? locateReference(REPO_ROOT) : { available: false as const, reason: 'disabled by --no-reference' };
      if (!reference.available && flags.reference) process.stderr.write(`iwae bench: ${reference.reason}; measuring ours only\n`);
      try {
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
