/**
 * Milliseconds per training iteration of the study's model (784-200-200-50, batch 20) for each objective,
 * as `iwae bench` times it (lib/perf/our-step.ts: a stack of one run as the trainer steps it, the next
 * dynamically binarized batch and noise from the run's counter-based streams, the hand-written stacked
 * fast gradient, one Adam update, loss values read back), with the
 * TensorFlow ops one iteration executes. With --ops, where the time of one objective's iteration goes:
 * each kind of op (calls, microseconds per call, milliseconds per iteration) and the JS in between.
 * With --runs R, the same for a stack of R runs trained as one (as `iwae grid` trains them).
 * Run: `npx tsx bench/step.ts [iterations=200] [k=5] [--ops [objective=iwae]] [--runs R=1]`. Medians after a warm-up;
 * noisy on a shared machine. For the side-by-side comparison with PyTorch use `iwae bench`.
 */
import './training-threads';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES, type ModelName } from '../lib/config/run-config';
import { countTensorFlowOps } from '../lib/perf/op-count';
import { OurStep } from '../lib/perf/our-step';
import { median } from '../lib/perf/stats';

const WARMUP = 30;

function benchmark(objective: ModelName, k: number, runs: number, iterations: number) {
  const step = new OurStep({ objective, k, batch: 20, seed: 0, runs });
  try {
    step.time(WARMUP);
    const ops = step.opsPerStep();
    const times = step.time(iterations);
    return { msPerStep: median(times), p90: [...times].sort((a, b) => a - b)[Math.floor(0.9 * times.length)], ops };
  } finally {
    step.dispose();
  }
}

function breakdown(objective: ModelName, k: number, runs: number, iterations: number): void {
  const step = new OurStep({ objective, k, batch: 20, seed: 0, runs });
  try {
    step.time(WARMUP);
    const start = performance.now();
    const tally = countTensorFlowOps(() => step.time(iterations));
    const total = (performance.now() - start) / iterations;
    console.log(`\n${objective} k=${k}, stack of ${runs}, ${iterations} iterations timed op by op (timing each op adds a little): ${total.toFixed(2)} ms/iteration`);
    const rows = [...tally.msByName.entries()].sort((a, b) => b[1] - a[1]);
    for (const [name, ms] of rows) {
      const calls = tally.byName.get(name)! / iterations;
      console.log(`  ${name.padEnd(20)} ${calls.toFixed(1).padStart(5)} calls ${((1000 * ms) / tally.byName.get(name)!).toFixed(1).padStart(7)} us/call ${(ms / iterations).toFixed(3)} ms`);
    }
    console.log(`  ${'(JS between ops)'.padEnd(20)} ${''.padStart(5)}       ${''.padStart(7)}         ${(total - tally.msInOps / iterations).toFixed(3)} ms`);
  } finally {
    step.dispose();
  }
}

function main(): void {
  const argv = process.argv.slice(2);
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 1;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a whole number >= 1, got '${argv[runsAt + 1]}'`);
  const positional = argv.filter((a, i) => !a.startsWith('--') && !(runsAt >= 0 && i === runsAt + 1) && !(i > 0 && argv[i - 1] === '--ops'));
  const iterations = Number(positional[0] ?? 200);
  const k = Number(positional[1] ?? 5);
  console.log(`backend ${tf.getBackend()} with ${process.env.TF_NUM_INTRAOP_THREADS} intra-op thread(s), batch 20, stack of ${runs}, ${iterations} timed iterations after ${WARMUP} warm-up`);
  for (const objective of MODEL_NAMES) {
    const r = benchmark(objective, k, runs, iterations);
    console.log(`${objective.padEnd(15)} k=${k}: median ${r.msPerStep.toFixed(2)} ms/iteration (p90 ${r.p90.toFixed(2)}, ${(r.msPerStep / runs).toFixed(2)} per run), ${r.ops} TensorFlow ops`);
  }
  const opsAt = process.argv.indexOf('--ops');
  if (opsAt >= 0) {
    const objective = (process.argv[opsAt + 1] && !process.argv[opsAt + 1].startsWith('--') ? process.argv[opsAt + 1] : 'iwae') as ModelName;
    if (!MODEL_NAMES.includes(objective)) throw new Error(`--ops: unknown objective '${objective}' (${MODEL_NAMES.join(', ')})`);
    breakdown(objective, k, runs, iterations);
  }
}

main();
