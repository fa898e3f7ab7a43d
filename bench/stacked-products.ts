/**
 * Design measurements for stacked training (many runs as one batched model): what one training
 * iteration's matrix products cost per run when R runs are computed as R separate 2-D MatMuls (one run
 * per process, as before stacking) or as one BatchMatMul over a leading run axis, at 1 and 2 TensorFlow threads; and
 * what each of seedrandom's generators costs for one run-iteration's draws (binarization + noise).
 *
 *   npx tsx bench/stacked-products.ts [--k 5] [--iterations 60] [--stacks 1,4,10,20]
 *
 * Products only (the 17 of a step: forward, weight gradients, input gradients); elementwise ops and the
 * update are left out, so this is the floor side of the question, not a whole trainer.
 */
import { execFileSync } from 'node:child_process';
import seedrandom from 'seedrandom';
import { tensorflowThreadEnv } from '../lib/env/tensorflow-threads';
import { STUDY_ARCHITECTURE } from '../lib/model/architecture';
import { stepFlops } from '../lib/perf/floor';

interface Args {
  k: number;
  iterations: number;
  stacks: number[];
}

function parseArgs(argv: string[]): Args {
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  return {
    k: Number(value('--k', '5')),
    iterations: Number(value('--iterations', '60')),
    stacks: value('--stacks', '1,4,10,20').split(',').map(Number),
  };
}

const BATCH = 20;

/** [rows, in, out] of every product of one step: forward, then d weight (A^T delta), then d input (delta W^T). */
function productShapes(k: number): Array<{ rows: number; inner: number; out: number; kind: 'forward' | 'weight' | 'input' }> {
  const { input, hidden, latent } = STUDY_ARCHITECTURE;
  const encoder = [input, ...hidden, 2 * latent];
  const decoder = [latent, ...[...hidden].reverse(), input];
  const layers = [
    ...encoder.slice(1).map((out, i) => ({ rows: BATCH, inner: encoder[i], out, first: i === 0 })),
    ...decoder.slice(1).map((out, i) => ({ rows: BATCH * k, inner: decoder[i], out, first: false })),
  ];
  return layers.flatMap((l) => [
    { rows: l.rows, inner: l.inner, out: l.out, kind: 'forward' as const },
    { rows: l.rows, inner: l.inner, out: l.out, kind: 'weight' as const },
    ...(l.first ? [] : [{ rows: l.rows, inner: l.inner, out: l.out, kind: 'input' as const }]),
  ]);
}

/** In a child with the wanted thread count: microseconds per run-iteration for each R and layout. */
function measureProducts(args: Args): Record<string, number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require('@tensorflow/tfjs-node') as typeof import('@tensorflow/tfjs-node');
  const shapes = productShapes(args.k);
  const out: Record<string, number> = {};
  for (const runs of args.stacks) {
    for (const layout of ['separate', 'batched'] as const) {
      // Operands per product: activations [rows, inner], weights [inner, out], deltas [rows, out].
      const lead = layout === 'batched' ? [runs] : [];
      const copies = layout === 'batched' ? 1 : runs;
      const operands = shapes.map((s) =>
        Array.from({ length: copies }, () => ({
          a: tf.randomNormal([...lead, s.rows, s.inner]),
          w: tf.randomNormal([...lead, s.inner, s.out]),
          d: tf.randomNormal([...lead, s.rows, s.out]),
        })),
      );
      // One read-back per iteration, as a trainer reads its loss once per step.
      const iteration = () => {
        const results: Array<import('@tensorflow/tfjs-node').Tensor> = [];
        for (const [i, s] of shapes.entries()) {
          for (const { a, w, d } of operands[i]) {
            results.push(s.kind === 'forward' ? tf.matMul(a, w) : s.kind === 'weight' ? tf.matMul(a, d, true, false) : tf.matMul(d, w, false, true));
          }
        }
        results[results.length - 1].dataSync();
        results.forEach((r) => r.dispose());
      };
      for (let i = 0; i < 5; i++) iteration();
      const times: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const started = performance.now();
        for (let i = 0; i < args.iterations; i++) iteration();
        times.push(((performance.now() - started) * 1000) / (args.iterations * runs));
      }
      out[`${layout}/${runs}`] = Math.min(...times);
      operands.flat().forEach((o) => [o.a, o.w, o.d].forEach((t) => t.dispose()));
    }
  }
  return out;
}

/**
 * One run-iteration's binarization drawn as bytes: pixel g/255 is on when a uniform byte u in 0..254 is
 * below g, which is exactly probability g/255, so four pixels per 32-bit draw (a byte of 255 is redrawn).
 */
function measureByteBinarization(): number {
  const prng = seedrandom.xor128('bench');
  const gray = new Uint8Array(BATCH * 784).map((_, i) => (i * 37) % 256);
  const bits = new Float32Array(gray.length);
  const once = () => {
    let word = 0;
    let left = 0;
    for (let i = 0; i < gray.length; i++) {
      let u = 255;
      while (u === 255) {
        if (left === 0) {
          word = prng.int32() >>> 0;
          left = 4;
        }
        u = word & 0xff;
        word >>>= 8;
        left -= 1;
      }
      bits[i] = u < gray[i] ? 1 : 0;
    }
  };
  for (let i = 0; i < 50; i++) once();
  const reps = 400;
  const started = performance.now();
  for (let i = 0; i < reps; i++) once();
  return ((performance.now() - started) * 1000) / reps;
}

/** Microseconds of one run-iteration's draws (20 x 784 uniforms for binarization, 20 x k x 50 normals) per generator. */
function measureGenerators(k: number): Array<{ name: string; us: number }> {
  const uniforms = new Float32Array(BATCH * 784);
  const normals = new Float32Array(BATCH * k * STUDY_ARCHITECTURE.latent);
  const makers: Record<string, (seed: string) => seedrandom.PRNG> = {
    arc4: (s) => seedrandom(s),
    alea: (s) => seedrandom.alea(s),
    xor128: (s) => seedrandom.xor128(s),
    xorwow: (s) => seedrandom.xorwow(s),
    xorshift7: (s) => seedrandom.xorshift7(s),
    xor4096: (s) => seedrandom.xor4096(s),
    tychei: (s) => seedrandom.tychei(s),
  };
  return Object.entries(makers).map(([name, make]) => {
    const prng = make('bench');
    const once = () => {
      for (let i = 0; i < uniforms.length; i++) uniforms[i] = prng.quick();
      for (let i = 0; i + 1 < normals.length; i += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - prng.double()));
        const t = 2 * Math.PI * prng.double();
        normals[i] = r * Math.cos(t);
        normals[i + 1] = r * Math.sin(t);
      }
    };
    for (let i = 0; i < 50; i++) once();
    const reps = 400;
    const started = performance.now();
    for (let i = 0; i < reps; i++) once();
    return { name, us: ((performance.now() - started) * 1000) / reps };
  });
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (process.env.STACKED_PRODUCTS_CHILD) {
    process.stdout.write(JSON.stringify(measureProducts(args)));
    return;
  }
  const flop = stepFlops(STUDY_ARCHITECTURE, BATCH, args.k);
  const byThreads = [1, 2].map((threads) => {
    const text = execFileSync(process.execPath, ['--import', 'tsx', __filename, ...process.argv.slice(2)], {
      env: { ...process.env, ...tensorflowThreadEnv(threads), STACKED_PRODUCTS_CHILD: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return { threads, us: JSON.parse(text) as Record<string, number> };
  });
  console.log(`matrix products of one training iteration, k=${args.k}, batch ${BATCH}: ${(flop / 1e6).toFixed(0)} MFLOP per run-iteration`);
  console.log('runs R | threads | separate us/run-it (GFLOP/s) | batched us/run-it (GFLOP/s) | batched/separate | vs R=1 separate, 1 thread');
  const base = byThreads[0].us['separate/1'];
  for (const runs of args.stacks) {
    for (const { threads, us } of byThreads) {
      const sep = us[`separate/${runs}`];
      const bat = us[`batched/${runs}`];
      const rate = (t: number) => (flop / (t * 1e3)).toFixed(0);
      console.log(`${runs} | ${threads} | ${sep.toFixed(0)} (${rate(sep)}) | ${bat.toFixed(0)} (${rate(bat)}) | ${(bat / sep).toFixed(2)} | ${(bat / base).toFixed(2)}`);
    }
  }
  console.log(`\ndraws of one run-iteration (${BATCH}x784 uniforms + ${BATCH}x${args.k}x50 normals, Box-Muller), per seedrandom generator:`);
  for (const g of measureGenerators(args.k)) console.log(`${g.name.padEnd(10)} ${(g.us / 1000).toFixed(3)} ms`);
  console.log(`binarization alone as bytes (xor128, 4 pixels per draw, exact g/255): ${(measureByteBinarization() / 1000).toFixed(3)} ms`);
}

main();
