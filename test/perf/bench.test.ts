import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { stepFlops } from '../../lib/perf/floor';
import { runCli } from '../helpers/cli';

// No timing is asserted anywhere here: the machine may be shared. Only shapes, types and exit codes.

test('iwae bench --json --steps 5 --no-reference: one JSON object, ours measured, reference marked missing', () => {
  const r = runCli(['bench', '--json', '--steps', '5', '--warmup', '2', '--block', '5', '--no-reference']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one line on stdout');
  const report = JSON.parse(lines[0]);
  assert.ok(typeof report.oursMsPerStep === 'number' && report.oursMsPerStep > 0, `oursMsPerStep ${report.oursMsPerStep}`);
  assert.equal(report.referenceMsPerStep, null);
  assert.equal(report.ratio, null);
  assert.equal(report.reference.status, 'missing');
  assert.deepEqual(
    { objective: report.setting.objective, k: report.setting.k, batch: report.setting.batch, stepsPerEpoch: report.setting.stepsPerEpoch },
    { objective: 'iwae', k: 5, batch: 20, stepsPerEpoch: 3000 },
  );
  assert.ok(Number.isInteger(report.oursOpsPerStep) && report.oursOpsPerStep > 0);
  assert.ok(report.epochSeconds.ours > 0 && report.grid.oursEpochsPerHour > 0 && report.grid.workers >= 1);
  assert.equal(report.grid.oursMsPerStepPerWorker.length, report.grid.workers);
  assert.ok(report.floor.matmulGflops > 0 && report.floor.msPerStep > 0 && report.floor.oursOverFloor > 0);
  assert.equal(report.grid.ratio, null);
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
