import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { REPO_ROOT } from '../../lib/cli/paths';
import { stepFlops } from '../../lib/perf/floor';
import { locateReference, ReferenceServer } from '../../lib/perf/reference';
import { runCli } from '../helpers/cli';

// No timing is asserted anywhere here: the machine may be shared. Only shapes, types and exit codes.

test('iwae bench --json --steps 5 --no-reference: one JSON object, ours measured, reference marked missing', () => {
  const r = runCli(['bench', '--json', '--steps', '5', '--warmup', '2', '--block', '5', '--no-reference'], { TF_NUM_INTRAOP_THREADS: undefined, TF_NUM_INTEROP_THREADS: undefined });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one line on stdout');
  const report = JSON.parse(lines[0]);
  assert.ok(typeof report.oursMsPerStep === 'number' && report.oursMsPerStep > 0, `oursMsPerStep ${report.oursMsPerStep}`);
  assert.equal(report.referenceMsPerStep, null);
  assert.equal(report.ratio, null);
  assert.equal(report.leanReferenceMsPerStep, null);
  assert.equal(report.leanRatio, null);
  // No training feed any more, so no inline-feed side: ours, then the two references, per block.
  assert.ok(!('oursInlineFeedMsPerStep' in report) && !('inlineFeedRatio' in report));
  assert.deepEqual(Object.keys(report.blocks).sort(), ['leanReference', 'ours', 'reference']);
  assert.equal(report.blocks.ours.length, 1);
  assert.deepEqual([report.blocks.reference, report.blocks.leanReference], [[], []]);
  assert.equal(report.reference.status, 'missing');
  assert.deepEqual(
    { objective: report.setting.objective, k: report.setting.k, batch: report.setting.batch, stepsPerEpoch: report.setting.stepsPerEpoch },
    { objective: 'iwae', k: 5, batch: 20, stepsPerEpoch: 3000 },
  );
  assert.ok(Number.isInteger(report.oursOpsPerStep) && report.oursOpsPerStep > 0);
  assert.ok(report.epochSeconds.ours > 0 && report.grid.oursEpochsPerHour > 0 && report.grid.workers >= 1);
  assert.equal(report.grid.oursMsPerStepPerWorker.length, report.grid.workers);
  assert.equal(report.grid.defaultThreads.msPerStepPerWorker.length, report.grid.workers);
  // As `iwae train` and `iwae grid` train: one TensorFlow thread (runCli passes no thread setting).
  assert.equal(report.oursThreads, 1);
  assert.equal(report.grid.threadsPerWorker, 1);
  assert.ok(report.floor.matmulGflops > 0 && report.floor.msPerStep > 0 && report.floor.oursOverFloor > 0);
  assert.equal(report.grid.ratio, null);
});

// The PyTorch side: .venv-bench is installed by `make test` (scripts/setup-bench.sh), so these run in CI.
const reference = locateReference(REPO_ROOT);

test('the PyTorch references are installed for the tests (scripts/setup-bench.sh)', () => {
  assert.ok(reference.available, reference.available ? '' : reference.reason);
});

test("the study-style and lean PyTorch references compute the same objective from the same weights, batch and noise", async () => {
  assert.ok(reference.available);
  for (const objective of ['iwae', 'vae'] as const) {
    const { server, info } = await ReferenceServer.start(reference, { objective, k: 5, batch: 20, seed: 0 });
    try {
      assert.match(info.torch, /^2\./);
      for (const seed of [1, 2]) {
        const { study, lean } = await server.losses(seed);
        assert.ok(Number.isFinite(study) && study > 100, `${objective}: a binarized-MNIST-sized loss, got ${study}`);
        assert.ok(Math.abs(study - lean) <= 1e-4 * Math.abs(lean), `${objective} seed ${seed}: study ${study} vs lean ${lean}`);
      }
      for (const style of ['study', 'lean'] as const) {
        const ms = await server.time(3, style);
        assert.equal(ms.length, 3);
        assert.ok(ms.every((v) => v > 0));
      }
    } finally {
      await server.close();
    }
  }
});

test('iwae bench --json with the references: ratios are ours over each reference, blocks alternate', () => {
  const r = runCli(['bench', '--json', '--steps', '10', '--warmup', '2', '--block', '5']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim());
  assert.equal(report.reference.status, 'measured');
  assert.equal(report.reference.style, 'study');
  assert.deepEqual([report.blocks.ours.length, report.blocks.reference.length, report.blocks.leanReference.length], [2, 2, 2]);
  assert.ok(report.referenceMsPerStep > 0 && report.leanReferenceMsPerStep > 0);
  assert.ok(Math.abs(report.ratio - report.oursMsPerStep / report.referenceMsPerStep) < 1e-9);
  assert.ok(Math.abs(report.leanRatio - report.oursMsPerStep / report.leanReferenceMsPerStep) < 1e-9);
  const g = report.grid;
  assert.ok(Math.abs(g.ratio - g.oursEpochsPerHour / g.referenceSequentialEpochsPerHour) < 1e-9);
  assert.ok(Math.abs(g.leanRatio - g.oursEpochsPerHour / g.leanReferenceSequentialEpochsPerHour) < 1e-9);
  assert.ok(report.floor.referenceOverFloor > 0 && report.floor.leanReferenceOverFloor > 0);
});

test('iwae bench: a bad flag value or an unknown flag is one line on stderr, exit 2', () => {
  for (const args of [['bench', '--steps', 'many'], ['bench', '--steps', '0'], ['bench', '--objective', 'gan'], ['bench', '--frobnicate']]) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
  }
});

test("the arithmetic floor counts the study's step as ~144 MFLOP of matrix products", () => {
  // Forward: 2*20*(784*200 + 200*200 + 200*100) + 2*100*(50*200 + 200*200 + 200*784) = 50.0M;
  // backward: twice that, less the encoder's first-layer input gradient (2*20*784*200).
  assert.equal(stepFlops(STUDY_ARCHITECTURE, 20, 5), 3 * (8_672_000 + 41_360_000) - 6_272_000);
});
