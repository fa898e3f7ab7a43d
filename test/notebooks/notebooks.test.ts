import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { executeNotebook, notebookPaths, outputsOf, type ExecutedNotebook } from '../helpers/notebooks';
import { PLOTLY_MIME } from '../../lib/figures/display';

// Every notebook runs headless under the smoke profile, as `make run` runs them, writing figures and
// results into a scratch directory rather than the repo's own.
const scratch = mkdtempSync(join(tmpdir(), 'iwae-notebooks-'));
const env = {
  IWAE_PROFILE: 'smoke',
  IWAE_FIGURES_DIR: join(scratch, 'figures'),
  IWAE_RESULTS_DIR: join(scratch, 'runs'),
};

test('every notebook carries the project kernel (tslab started from the repo root)', () => {
  assert.deepEqual(notebookPaths().map((p) => basename(p)), [
    '00_environment.ipynb',
    '01_data.ipynb',
    '02_models.ipynb',
    '03_experiment1_initialization.ipynb',
    '04_experiment2_seeds.ipynb',
    '05_analysis.ipynb',
  ]);
  for (const path of notebookPaths()) {
    const nb = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(nb.metadata.kernelspec.name, 'iwae-lab', basename(path));
  }
});

const executed = new Map<string, ExecutedNotebook>();

for (const path of notebookPaths()) {
  test(`${basename(path)} executes headless without errors`, () => {
    const nb = executeNotebook(path, join(scratch, 'out'), env);
    executed.set(basename(path), nb);
    const errors = outputsOf(nb).filter((o) => o.output_type === 'error');
    assert.deepEqual(errors.map((e) => `${e.ename}: ${e.evalue}`), []);
    // tslab reports compile errors on stderr rather than as error outputs.
    const stderr = outputsOf(nb).filter((o) => o.output_type === 'stream' && (o as { name?: string }).name === 'stderr');
    for (const s of stderr) {
      const text = Array.isArray(s.text) ? s.text.join('') : s.text ?? '';
      assert.doesNotMatch(text, /error TS\d+|Error:/, `${basename(path)} wrote an error to stderr: ${text.slice(0, 500)}`);
    }
  });
}

test('00_environment imports lib, runs a tfjs-node op, renders plotly with a PNG fallback and exports a PDF', () => {
  const nb = executed.get('00_environment.ipynb');
  assert.ok(nb, '00_environment.ipynb was executed above');
  const text = outputsOf(nb)
    .map((o) => (Array.isArray(o.text) ? o.text.join('') : o.text ?? ''))
    .join('');
  assert.match(text, /backend: 'tensorflow'/);
  assert.match(text, /matMul: \[ \[ 19, 22 \], \[ 43, 50 \] \]/);
  assert.match(text, /numTensorsLeaked: 0/);
  const figure = outputsOf(nb).find((o) => o.output_type === 'display_data' && o.data && PLOTLY_MIME in o.data);
  assert.ok(figure, 'a plotly display output');
  const png = Buffer.from(String(figure.data!['image/png']), 'base64');
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  const pdf = join(env.IWAE_FIGURES_DIR, '00-bernoulli-log-likelihood.pdf');
  assert.ok(existsSync(pdf), 'the figure is exported as PDF');
  assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(statSync(pdf).size > 5_000);
});
