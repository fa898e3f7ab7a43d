import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { DEFAULT_STACK_SIZE } from '../../lib/experiments/grid-runner';
import { STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { boundFlops, epochPassFlops, stepFlops } from '../../lib/perf/floor';
import { runCli } from '../helpers/cli';

// No timing is asserted: the machine may be shared. The report's figures must exist, be positive, and
// follow from each other: the derived figures from the measured ones, the projection from the rates.

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
const positive = (v: unknown, what: string) => assert.ok(typeof v === 'number' && Number.isFinite(v) && v > 0, `${what}: ${v}`);

test('iwae bench --grid --json (tiny): the whole-machine view, its figures consistent and the projection the sum of its parts', () => {
  const r = runCli(
    ['bench', '--grid', '--json', '--steps', '2', '--block', '1', '--warmup', '1', '--final-images', '2', '--pass-images', '10'],
    { TF_NUM_INTRAOP_THREADS: undefined, TF_NUM_INTEROP_THREADS: undefined },
    300_000,
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one line on stdout');
  const { grid: g } = JSON.parse(lines[0]);

  // As `iwae grid` runs by default: a worker per core, DEFAULT_STACK_SIZE runs per stack, one TensorFlow thread each.
  assert.deepEqual(
    { workers: g.setting.workers, stackSize: g.setting.stackSize, threads: g.setting.threadsPerWorker, batch: g.setting.batch, perEpoch: g.setting.iterationsPerEpoch, objective: g.setting.objective, finalK: g.setting.finalK },
    { workers: availableParallelism(), stackSize: DEFAULT_STACK_SIZE, threads: 1, batch: 20, perEpoch: 3000, objective: 'iwae', finalK: 5000 },
  );
  assert.deepEqual([g.setting.finalImages, g.setting.passTestImages, g.setting.passTrainImages], [2, 10, 60]);
  assert.equal(g.reference.status, 'measured', 'the PyTorch references are installed for the tests (scripts/setup-bench.sh)');
  positive(g.matmulGflops, 'matmulGflops');
  const { workers, stackSize } = g.setting;

  for (const [name, k] of [['k5', 5], ['k1', 1]] as const) {
    const m = g[name];
    assert.equal(m.k, k);
    assert.equal(m.ours.blockRunIterationsPerSecond.length, 2, `${name}: 2 blocks of 1`);
    m.ours.blockRunIterationsPerSecond.forEach((v: number) => positive(v, `${name} block rate`));
    assert.ok(m.ours.blockRunIterationsPerSecond.includes(m.ours.runIterationsPerSecond), `${name}: the rate is the blocks' median`);
    assert.equal(m.ours.msPerRunIterationPerWorker.length, workers);
    m.ours.msPerRunIterationPerWorker.forEach((v: number) => positive(v, `${name} worker ms`));
    for (const side of ['studyReference', 'leanReference'] as const) {
      positive(m[side].msPerIteration, `${name} ${side}`);
      close(m[side].runIterationsPerSecond, 1000 / m[side].msPerIteration, `${name} ${side} rate`);
    }
    close(m.ratio, m.ours.runIterationsPerSecond / m.studyReference.runIterationsPerSecond, `${name} ratio`);
    close(m.leanRatio, m.ours.runIterationsPerSecond / m.leanReference.runIterationsPerSecond, `${name} lean ratio`);
    close(m.machineMsPerRunIteration, 1000 / m.ours.runIterationsPerSecond, `${name} machine ms`);
    close(m.floorMsPerRunIteration, stepFlops(STUDY_ARCHITECTURE, 20, k) / (g.matmulGflops * 1e6), `${name} floor ms`);
    close(m.overFloor, m.machineMsPerRunIteration / m.floorMsPerRunIteration, `${name} over floor`);
    // Passes: each worker's stack on the timed images, scaled to 10,000 test and 60,000 training images.
    const p = m.passes;
    assert.equal(p.secondsPerWorker.length, workers);
    const perRunEpoch = (key: 'objective' | 'activity', fraction: number) =>
      1 / p.secondsPerWorker.reduce((sum: number, s: Record<string, number>) => (positive(s[key], `${name} ${key}`), sum + (stackSize * fraction) / s[key]), 0);
    close(p.objectiveMachineSecondsPerRunEpoch, perRunEpoch('objective', 10 / 10_000), `${name} objective pass`);
    close(p.activityMachineSecondsPerRunEpoch, perRunEpoch('activity', 60 / 60_000), `${name} activity pass`);
    close(p.machineSecondsPerRunEpoch, p.objectiveMachineSecondsPerRunEpoch + p.activityMachineSecondsPerRunEpoch, `${name} passes`);
    close(p.floorSecondsPerRunEpoch, epochPassFlops(STUDY_ARCHITECTURE, k, 10_000, 60_000) / (g.matmulGflops * 1e9), `${name} pass floor`);
  }

  const f = g.final;
  assert.equal(f.k, 5000);
  assert.equal(f.secondsPerWorker.length, workers);
  f.secondsPerWorker.forEach((s: number) => positive(s, 'final seconds'));
  close(f.machineSecondsPerRun, 1 / f.secondsPerWorker.reduce((sum: number, s: number) => sum + (stackSize * 2) / 10_000 / s, 0), 'final machine s/run');
  assert.ok(Math.abs(f.tflopPerRun - 20.7) < 0.05, `final L_5000 on 10,000 images is ~20.7 TFLOP, got ${f.tflopPerRun}`);
  close(f.tflopPerRun, boundFlops(STUDY_ARCHITECTURE, 10_000, 5000) / 1e12, 'final TFLOP');
  close(f.floorSecondsPerRun, (f.tflopPerRun * 1e12) / (g.matmulGflops * 1e9), 'final floor');
  close(f.overFloor, f.machineSecondsPerRun / f.floorSecondsPerRun, 'final over floor');

  // The projection: the paper grid with ablations, part by part from the reported rates.
  const p = g.projection;
  assert.deepEqual([p.runsAtK5, p.runsAtK1, p.epochs, p.iterationsPerEpoch, p.finalRuns], [40, 60, 80, 3000, 100]);
  const trainingK5 = (40 * 80 * 3000) / g.k5.ours.runIterationsPerSecond;
  const trainingK1 = (60 * 80 * 3000) / g.k1.ours.runIterationsPerSecond;
  const final = 100 * f.machineSecondsPerRun;
  const passesK5 = 40 * 80 * g.k5.passes.machineSecondsPerRunEpoch;
  const passesK1 = 60 * 80 * g.k1.passes.machineSecondsPerRunEpoch;
  close(p.trainingK5Seconds, trainingK5, 'training k=5');
  close(p.trainingK1Seconds, trainingK1, 'training k=1');
  close(p.trainingSeconds, trainingK5 + trainingK1, 'training');
  close(p.finalSeconds, final, 'final');
  close(p.passesK5Seconds, passesK5, 'passes k=5');
  close(p.passesK1Seconds, passesK1, 'passes k=1');
  close(p.passesSeconds, passesK5 + passesK1, 'passes');
  const total = trainingK5 + trainingK1 + final + passesK5 + passesK1;
  close(p.totalSeconds, total, 'total');
  close(p.hours.total, total / 3600, 'total hours');
  close(p.hours.training, (trainingK5 + trainingK1) / 3600, 'training hours');
  close(p.hours.final, final / 3600, 'final hours');
  close(p.hours.passes, (passesK5 + passesK1) / 3600, 'passes hours');
  const floorSeconds =
    40 * 80 * 3000 * (g.k5.floorMsPerRunIteration / 1000) +
    60 * 80 * 3000 * (g.k1.floorMsPerRunIteration / 1000) +
    100 * f.floorSecondsPerRun +
    40 * 80 * g.k5.passes.floorSecondsPerRunEpoch +
    60 * 80 * g.k1.passes.floorSecondsPerRunEpoch;
  close(p.floorHours, floorSeconds / 3600, 'floor hours');
});

test('iwae bench --grid: a bad --stack-size, --final-images or --pass-images is one line on stderr, exit 2', () => {
  for (const args of [['--stack-size', '0'], ['--final-images', '10001'], ['--pass-images', 'few']]) {
    const r = runCli(['bench', '--grid', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
  }
});
