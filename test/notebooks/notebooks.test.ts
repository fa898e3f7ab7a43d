import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_ID_PATTERN } from '../../lib/experiments/run-id';
import { cpSync, existsSync, readdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { executeNotebook, notebookPaths, outputsOf, type ExecutedNotebook, type NotebookOutput } from '../helpers/notebooks';
import { REPO_ROOT } from '../helpers/cli';
import { PLOTLY_MIME } from '../../lib/figures/display';
import { figureTitle } from '../../lib/figures/style';
import type { PlotlyFigure } from '../../lib/figures/types';

// Every notebook runs headless as `make run` runs it: the profile and results directory injected into
// its `parameters` cell (the environment says `quick`, so a notebook that ignored the injected value
// would train the quick grid and time out), figures in a scratch directory rather than the repo's own.
const scratch = mkdtempSync(join(tmpdir(), 'iwae-notebooks-'));
const env = { IWAE_PROFILE: 'quick', IWAE_FIGURES_DIR: join(scratch, 'figures'), IWAE_RESULTS_DIR: join(scratch, 'elsewhere') };
const parameters = { profile: 'smoke', resultsDir: join(scratch, 'runs') };
const figuresDir = join(scratch, 'figures', 'smoke');

const text = (value: unknown) => (Array.isArray(value) ? value.join('') : String(value ?? ''));

test('every notebook carries the project kernel and one cell tagged `parameters`', () => {
  assert.deepEqual(notebookPaths().map((p) => basename(p)), [
    '00_environment.ipynb',
    '01_data.ipynb',
    '02_models.ipynb',
    '03_experiment1_initialization.ipynb',
    '04_experiment2_seeds.ipynb',
    '05_analysis.ipynb',
    '06_experiment3_estimators.ipynb',
  ]);
  for (const path of notebookPaths()) {
    const nb = JSON.parse(readFileSync(path, 'utf8')) as ExecutedNotebook;
    assert.equal(nb.metadata.kernelspec?.name, 'iwae-lab', basename(path));
    const tagged = nb.cells.filter((c) => c.metadata?.tags?.includes('parameters'));
    assert.equal(tagged.length, 1, `${basename(path)}: one parameters cell`);
    assert.match(text(tagged[0].source), /let profile[^\n]*\n[^]*let resultsDir[^\n]*\n[^]*let seed/);
    assert.equal(outputsOf(nb).length, 0, `${basename(path)} is committed without outputs`);
  }
});

const executed = new Map<string, ExecutedNotebook>();

for (const path of notebookPaths()) {
  test(`${basename(path)} executes headless without errors`, () => {
    const nb = executeNotebook(path, join(scratch, 'out'), env, parameters);
    executed.set(basename(path), nb);
    const errors = outputsOf(nb).filter((o) => o.output_type === 'error');
    assert.deepEqual(errors.map((e) => `${e.ename}: ${e.evalue}`), []);
    // tslab reports compile errors on stderr rather than as error outputs.
    const stderr = outputsOf(nb).filter((o) => o.output_type === 'stream' && (o as { name?: string }).name === 'stderr');
    for (const s of stderr) {
      assert.doesNotMatch(text(s.text), /error TS\d+|Error:/, `${basename(path)} wrote an error to stderr: ${text(s.text).slice(0, 500)}`);
    }
  });
}

function executedNotebook(name: string): ExecutedNotebook {
  const nb = executed.get(name);
  assert.ok(nb, `${name} was executed above`);
  return nb;
}

const displays = (nb: ExecutedNotebook, mime: string): NotebookOutput[] =>
  outputsOf(nb).filter((o) => (o.output_type === 'display_data' || o.output_type === 'update_display_data') && o.data && mime in o.data);

test('00_environment: lib imports, a tfjs-node op, an interactive figure with a static image, a PDF per profile', () => {
  const nb = executedNotebook('00_environment.ipynb');
  const printed = outputsOf(nb).map((o) => text(o.text)).join('');
  assert.match(printed, /backend: 'tensorflow'/);
  assert.match(printed, /matMul: \[ \[ 19, 22 \], \[ 43, 50 \] \]/);
  assert.match(printed, /numTensorsLeaked: 0/);
  assert.match(printed, /profile: smoke; results in .*\/runs;/, 'the injected parameters win over the environment');
  const [figure] = displays(nb, PLOTLY_MIME);
  assert.ok(figure, 'a plotly display output');
  // No image/png next to the plotly JSON: JupyterLab's plotly renderer would show it instead of the plot.
  assert.equal('image/png' in figure.data!, false);
  const html = text(figure.data!['text/html']);
  const png = Buffer.from(/data:image\/png;base64,([^"]+)"/.exec(html)?.[1] ?? '', 'base64');
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'the static fallback is a PNG');
  const pdf = join(figuresDir, '00-bernoulli-log-likelihood.pdf');
  assert.ok(existsSync(pdf), 'the figure is exported as PDF under figures/<profile>/');
  assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(statSync(pdf).size > 5_000);
});

test('02_models: the brief run lives in a directory named by its config, beside the grid runs', () => {
  executedNotebook('02_models.ipynb');
  const briefs = join(parameters.resultsDir, 'notebook-02-brief');
  const ids = readdirSync(briefs);
  assert.equal(ids.length, 1, `one brief run: ${ids.join(', ')}`);
  assert.match(ids[0], RUN_ID_PATTERN);
  assert.ok(existsSync(join(briefs, ids[0], 'checkpoint.bin')));
});

test('03_experiment1: HTML tables with merged mean ± SE, plain text beside them, and the final progress state', () => {
  const nb = executedNotebook('03_experiment1_initialization.ipynb');
  const tables = displays(nb, 'text/html').filter((o) => text(o.data!['text/html']).includes('<table class="dataframe iwae-table"'));
  assert.ok(tables.length > 0, 'an HTML table');
  const summary = tables.find((o) => text(o.data!['text/plain']).startsWith('Per setting'));
  assert.ok(summary, 'the per-setting summary');
  const plain = text(summary.data!['text/plain']);
  assert.match(plain, /test loss ± SE/);
  assert.doesNotMatch(plain, /testLossSE/, 'the SE columns are merged into their means');
  assert.match(plain, /\d+\.\d+ ± \d+\.\d+/);
  const progress = displays(nb, 'text/html').filter((o) => text(o.data!['text/html']).includes('iwae-progress'));
  assert.equal(progress.length, 1, 'one progress display, updated in place');
  assert.match(text(progress[0].data!['text/plain']), /smoke grid \|█+\| 8\/8 runs/);
});

test('05_analysis on shipped results (no checkpoints, one run missing): trains nothing, says what is missing, samples from the float16 weights', () => {
  executedNotebook('05_analysis.ipynb');
  // What a clone holds: the tracked result files only (see .gitignore), and one run not trained yet.
  const shipped = join(scratch, 'shipped');
  const kept = new Set(['config.json', 'metrics.jsonl', 'final.json', 'status.json', 'failure.json', 'attempts.jsonl', 'tensorboard', 'weights-f16.bin']);
  cpSync(parameters.resultsDir, shipped, { recursive: true });
  rmSync(join(shipped, 'notebook-02-brief'), { recursive: true, force: true });
  for (const id of readdirSync(shipped)) {
    for (const file of readdirSync(join(shipped, id))) if (!kept.has(file)) rmSync(join(shipped, id, file), { recursive: true });
  }
  const missing = readdirSync(shipped).find((id) => id.startsWith('vae-k5-he-normal-s630-'));
  assert.ok(missing);
  rmSync(join(shipped, missing), { recursive: true });
  assert.ok(readdirSync(shipped).every((id) => !existsSync(join(shipped, id, 'checkpoint.bin'))));

  const nb = executeNotebook(join(REPO_ROOT, 'notebooks', '05_analysis.ipynb'), join(scratch, 'out-shipped'), env, { ...parameters, resultsDir: shipped, trainMissing: 'false' });
  assert.deepEqual(outputsOf(nb).filter((o) => o.output_type === 'error').map((o) => o.evalue), []);
  const printed = outputsOf(nb).map((o) => text(o.text)).join('');
  assert.match(printed, /17 of 18 runs of the smoke grid have finished \(\d+ completed, \d+ diverged\); 1 is missing, in 1 setting: vae k=5 he-normal \(1\)/);
  assert.match(printed, /set `trainMissing = true` in the parameters cell/);
  assert.equal(existsSync(join(shipped, missing)), false, 'nothing was trained');
  const figures = displays(nb, PLOTLY_MIME).map((o) => JSON.stringify(o.data![PLOTLY_MIME]));
  assert.ok(figures.some((f) => f.includes('Test digits (top) and their reconstructions') && f.includes('(float16 weights)')), 'the samples come from the shipped float16 weights');
});

test('06_experiment3: trains the smoke Experiment 3 grid, shows the SNR per estimator and k, and a verdict per hypothesis', () => {
  const nb = executedNotebook('06_experiment3_estimators.ipynb');
  const printed = outputsOf(nb).map((o) => text(o.text)).join('');
  assert.match(printed, /8 of 8 runs of the smoke Experiment 3 grid have finished \(8 completed, 0 diverged\): the grid is complete/);
  assert.match(printed, /8 of 8 runs of Experiment 3 have completed/);
  assert.match(printed, /Experiment 3: IWAE-DReG keeps more active units than IWAE at k = 5\.\n  → NOT SHOWN\. .*ceiling/, 'two epochs: every unit still active');
  assert.match(printed, /Experiment 3: IWAE-DReG's encoder gradient has a higher SNR than IWAE's at k = 50\.\n  → (SUPPORTED|CONTRADICTED|NOT SHOWN)\. Mean encoder SNR at epoch 2: /);
  const snr = displays(nb, PLOTLY_MIME)
    .map((o) => o.data![PLOTLY_MIME] as PlotlyFigure)
    .find((f) => figureTitle(f).includes('gradient SNR over training'));
  assert.ok(snr, 'the SNR figure');
  const traces = snr.data as Array<{ name: string; y: number[]; showlegend: boolean }>;
  assert.deepEqual(traces.filter((t) => t.showlegend).map((t) => t.name).sort(), ['IWAE k=5', 'IWAE k=50', 'IWAE-DReG k=5', 'IWAE-DReG k=50']);
  assert.ok(traces.every((t) => t.y.length === 2 && t.y.every((v) => Number.isFinite(v) && v > 0)), 'a positive SNR at each of the 2 measured epochs');
  assert.ok(existsSync(join(figuresDir, 'experiment3-gradient-snr.pdf')));
  assert.ok(existsSync(join(figuresDir, 'tables', 'experiment3-verdicts.csv')));
});

test('an error thrown inside lib code called from a cell points at the .ts source line, not at invisible .js', () => {
  // tslab runs imported .ts files as in-memory `<name>.js` without source maps; the kernel's preload
  // (lib/notebook/kernel-preload.ts) has them run from the .ts through tsx instead.
  const source = readFileSync(join(REPO_ROOT, 'lib', 'config', 'notebook-settings.ts'), 'utf8').split('\n');
  const line = source.findIndex((l) => l.includes('throw new Error(`bad notebook parameters')) + 1;
  assert.ok(line > 0);
  const cell = (id: string, code: string, tags: string[] = []) => ({ cell_type: 'code', id, metadata: { tags }, source: code, execution_count: null, outputs: [] });
  const path = join(scratch, 'error.ipynb');
  writeFileSync(path, JSON.stringify({
    cells: [
      cell('p', "let profile: string = 'smoke';\nlet resultsDir: string = 'r';\nlet seed: number = 0;", ['parameters']),
      cell('e', "import { notebookSettings } from './lib/config/notebook-settings';\nnotebookSettings({ profile: 'huge', resultsDir: 'r', seed: 0 }, process.env);"),
    ],
    metadata: { kernelspec: { name: 'iwae-lab', display_name: 'TypeScript (iwae-lab)', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 5,
  }));
  assert.throws(
    () => executeNotebook(path, join(scratch, 'error-out'), env),
    (err: Error) => {
      assert.match(err.message, /bad notebook parameters: profile: /);
      const file = `${REPO_ROOT}/lib/config/notebook-settings.ts`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(err.message, new RegExp(`at (Proxy\\.)?notebookSettings \\(${file}:${line}:\\d+\\)`));
      assert.doesNotMatch(err.message, /notebook-settings\.js/);
      return true;
    },
  );
});
