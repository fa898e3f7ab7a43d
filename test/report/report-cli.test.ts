import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILES } from '../../lib/experiments/profiles';
import { runDirPath, writeRunOutcome } from '../../lib/experiments/run-dir';
import { REPO_ROOT, runCli, withoutTensorFlowBanner } from '../helpers/cli';
import { pdfText } from '../helpers/pdf-text';

const root = mkdtempSync(join(tmpdir(), 'iwae-report-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('iwae report turns a smoke grid into CSV tables, vector PDFs (and PNGs) with computed claim verdicts', async () => {
  const results = join(root, 'runs');
  const grid = runCli(['grid', '--profile', 'smoke', '--extras', '--workers', '2', '--results', results], {}, 300_000);
  // The truncated-normal init (weights of std ~0.88) can drive the encoder's log-variance to overflow:
  // such runs end as failed (exit 3: recorded failures only; listed on stdout) and the report must leave them out. Nothing else may fail.
  const failures = grid.stdout.split('\n').filter((line) => line.startsWith('failed: ') || line.startsWith('error: '));
  assert.ok(failures.every((line) => /^failed: \S*-truncated-normal-/.test(line)), grid.stdout);
  assert.equal(grid.code, failures.length > 0 ? 3 : 0, grid.stderr);
  const figures = join(root, 'figures');
  const report = runCli(['report', '--results', results, '--figures', figures, '--profile', 'smoke', '--png'], {}, 300_000);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stderr, /^report: 18 of 18 runs of the smoke grid have finished \(\d+ completed, \d+ diverged\): the grid is complete\.$/m);
  assert.match(report.stdout, /^claim 1 \[(supported|contradicted|not shown)\]: /m);
  assert.match(report.stdout, /^claim 3 \[(supported|contradicted|not shown)\]: /m);
  assert.match(report.stdout, /^k=1 ablation: nll: VAE [\d.]+, VAE with sampled KL [\d.]+, IWAE k=1 [\d.]+/m);

  const pdfs = readdirSync(figures).filter((f) => f.endsWith('.pdf')).sort();
  for (const stem of ['loss-curves', 'active-units-over-epochs', 'experiment1-active-units-by-init', 'experiment2-activity-heatmap', 'experiment2-jaccard-vs-null', 'activity-histogram', 'k1-ablation', 'samples-reconstructions', 'samples-prior', 'samples-latent-traversals']) {
    assert.ok(pdfs.includes(`${stem}.pdf`), `${stem}.pdf written`);
    assert.ok(existsSync(join(figures, `${stem}.png`)), `${stem}.png written`);
  }
  const bars = await pdfText(join(figures, 'experiment1-active-units-by-init.pdf'));
  assert.equal(bars.pages, 1);
  assert.match(bars.text, /smoke profile/, 'the title names the profile, as vector text');
  assert.ok(statSync(join(figures, 'loss-curves.pdf')).size > 5_000);

  const tables = readdirSync(join(figures, 'tables')).sort();
  assert.deepEqual(tables, ['claims.csv', 'experiment2-seed-stability.csv', 'summary-by-setting.csv']);
  const summary = readFileSync(join(figures, 'tables', 'summary-by-setting.csv'), 'utf8').trim().split('\n');
  assert.match(summary[0], /^model,k,init,seeds,activeUnitsTrain,activeUnitsTrainSE/);
  assert.equal(summary.length, 1 + 4, 'one row per (model, k) of the smoke grid: extras stay out of the study table');
});

test('iwae report beside Experiment 3 runs: the study and the estimators get their own tables and figures, with or without --profile', () => {
  const results = join(root, 'runs'); // holds the smoke grid of the test above
  const grid = runCli(['grid', '--profile', 'smoke', '--experiment', '3', '--workers', '2', '--results', results], {}, 300_000);
  assert.equal(grid.code, 0, grid.stderr);
  for (const args of [[], ['--profile', 'smoke']]) {
    const figures = join(root, `figures-exp3${args.length}`);
    const report = runCli(['report', '--results', results, '--figures', figures, ...args], {}, 300_000);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /^claim 1 \[(supported|contradicted|not shown)\]: /m);
    assert.match(report.stdout, /^experiment 3 \[(supported|contradicted|not shown)\]: .*DReG/m);
    assert.match(report.stderr, /^report: 8 of 8 runs of the smoke Experiment 3 grid have finished \(8 completed, 0 diverged\): the grid is complete\.$/m);
    const tables = readdirSync(join(figures, 'tables')).sort();
    for (const table of ['claims.csv', 'summary-by-setting.csv', 'experiment3-summary.csv', 'experiment3-comparisons.csv', 'experiment3-verdicts.csv']) assert.ok(tables.includes(table), `${table} written`);
    const summary = readFileSync(join(figures, 'tables', 'summary-by-setting.csv'), 'utf8').trim().split('\n');
    assert.equal(summary.length, 1 + 4, 'the estimator runs stay out of the study table');
    for (const stem of ['experiment3-active-units-by-estimator', 'experiment3-gradient-snr', 'experiment1-active-units-by-init']) assert.ok(existsSync(join(figures, `${stem}.pdf`)), `${stem}.pdf written`);
  }
});

test('iwae report on a missing results directory: one line, exit 1', () => {
  const r = runCli(['report', '--results', join(root, 'nowhere')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /no results directory at .*nowhere/);
});

test('iwae report without --profile refuses study runs of one profile beside Experiment 3 runs of another: one line, exit 2', () => {
  const results = join(root, 'mixed');
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'shipped-smoke'), results, { recursive: true }); // two completed smoke runs
  // An Experiment 3 run of the quick profile that diverged (its outcome is all a report reads first).
  const [estimatorRun] = gridRuns(PROFILES.quick, { experiment: '3' });
  const dir = runDirPath(results, estimatorRun.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(estimatorRun.config));
  writeRunOutcome(dir, estimatorRun.id, { status: 'failed', failure: { epoch: 1, step: 3, term: 'bound', message: 'non-finite bound at epoch 1, step 3' } });
  const r = runCli(['report', '--results', results, '--figures', join(root, 'figures-mixed')]);
  assert.equal(r.code, 2, r.stderr);
  const lines = withoutTensorFlowBanner(r.stderr).trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /holds runs of 2 scales, which one report must not mix \(smoke profile: 2 runs; Experiment 3 of the quick profile: 1 run\); pick one with --profile <name>/);
  assert.equal(existsSync(join(root, 'figures-mixed')), false, 'nothing written');
});
