import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notebookSettings } from '../../lib/config/notebook-settings';
import { figureMimeBundle, PLOTLY_MIME } from '../../lib/figures/display';
import { interruptedLine } from '../../lib/notebook/grid';
import { claimInterrupts, interruptReplacement, quietInterrupts, TSLAB_INTERRUPT_MESSAGE } from '../../lib/notebook/interrupt';
import { etaSeconds, GridProgressDisplay, progressBundle } from '../../lib/notebook/progress';
import { formatMeanSe, tableHtml, tableText } from '../../lib/notebook/table';

const rows = [
  { model: 'iwae', k: 5, testLoss: 209.8123, testLossSE: 0.7712, anovaP: 0.0004, seeds: 2 },
  { model: 'vae', k: 5, testLoss: 211.38, testLossSE: Number.NaN, anovaP: 0.5213, seeds: 1 },
];

test('tables merge a value and its SE column, round to the SE, and show p-values readably', () => {
  const text = tableText(rows, { labels: { testLoss: 'test loss' } });
  const [header, , first, second] = text.split('\n');
  assert.match(header, /^model\s+k\s+test loss ± SE\s+anovaP\s+seeds$/);
  assert.doesNotMatch(text, /testLossSE/);
  assert.match(first, /209\.81 ± 0\.77\s+<0\.001/);
  assert.match(second, /211\.4 ± –\s+0\.521/, 'one seed: no SE');
  assert.equal(formatMeanSe(49.333, 3.21), '49.3 ± 3.2');
  assert.equal(formatMeanSe(0.1234567, 0.00123), '0.1235 ± 0.0012');
});

test('the HTML table carries the same cells, escaped, numbers right-aligned', () => {
  const html = tableHtml([{ name: '<b>x</b>', value: 1.23456 }], { caption: 'A & B' });
  assert.match(html, /^<table class="dataframe iwae-table">/);
  assert.match(html, /<caption[^>]*>A &amp; B<\/caption>/);
  assert.match(html, /<td style="text-align:left">&lt;b&gt;x&lt;\/b&gt;<\/td>/);
  assert.match(html, /<td style="text-align:right;white-space:nowrap">1\.23<\/td>/);
});

test('a figure bundle has interactive plotly JSON and its static image in HTML, never image/png', () => {
  const figure = { data: [{ x: [1], y: [2] }], layout: { title: { text: 'Loss<br><sup>smoke</sup>' } } };
  const bundle = figureMimeBundle(figure, Buffer.from('png-bytes'));
  assert.deepEqual(Object.keys(bundle.data).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
  assert.match(String(bundle.data['text/html']), /^<img src="data:image\/png;base64,cG5nLWJ5dGVz" alt="Loss — smoke"/);
  assert.equal(bundle.data['text/plain'], '<figure: Loss — smoke>');
});

test('the grid progress display counts runs and names what is training; the final state says done', () => {
  const lines: string[] = [];
  const progress = new GridProgressDisplay('smoke grid', (l) => lines.push(l));
  progress.onEvent({ type: 'start', total: 8, alreadyDone: 2, toRun: 6, workers: 2 });
  progress.onEvent({ type: 'waiting', id: 'iwae-k5-abcdef12', holder: null });
  assert.deepEqual(lines, ['iwae-k5-abcdef12 is held by another process; waiting for it']);
  const state = {
    title: 'smoke grid', total: 8, done: 3, toRun: 6, failed: 0, elapsedSeconds: 10, finished: false,
    active: new Map([['iwae-k5', { where: 'epoch 2/3', fraction: 0.5 }]]),
    prior: new Map<string, number>(),
  };
  const live = String(progressBundle(state, 42).data['text/plain']);
  assert.match(live, /^smoke grid \|█+░+\| 3\/8 runs \| ETA 42\.0 s \| iwae-k5 epoch 2\/3$/);
  const done = String(progressBundle({ ...state, done: 8, finished: true, active: new Map() }, 0).data['text/plain']);
  assert.match(done, /\|█{24}\| 8\/8 runs \| 10\.0 s \| done$/);
  assert.match(String(progressBundle(state, undefined).data['text/html']), /<progress value="3" max="8"/);
  const stopped = String(progressBundle({ ...state, finished: true, interrupted: true, active: new Map() }, 0).data['text/plain']);
  assert.match(stopped, /3\/8 runs \| 10\.0 s \| interrupted$/, 'an interrupted grid does not say done');
  // ETA: 1.5 of 6 runs' work done, in 10 s, of which 0.4 was done by an earlier process (a resumed run).
  assert.equal(etaSeconds(state, 2), (10 * 4.5) / 1.5);
  assert.equal(etaSeconds({ ...state, prior: new Map([['iwae-k5', 0.4]]) }, 2), (10 * 4.5) / 1.1);
});

test('an interrupted grid is one line: runs finished and runs resumable', () => {
  const line = interruptedLine({ total: 8, completed: ['a', 'b', 'c'], unfinished: ['d', 'e', 'f', 'g', 'h'] });
  assert.match(line, /^interrupted: 3 of 8 runs finished, 5 resumable /);
  assert.doesNotMatch(line, /\n/);
});

test("tslab's interrupt report becomes one line, or nothing while a grid reports the interrupt itself", () => {
  const printed: unknown[][] = [];
  const target = { error: (...args: unknown[]) => void printed.push(args) };
  quietInterrupts(target);
  const tslabError = new Error(TSLAB_INTERRUPT_MESSAGE);
  target.error(tslabError);
  const release = claimInterrupts();
  target.error(tslabError);
  release();
  target.error(new Error('a real failure'));
  assert.equal(printed.length, 2);
  assert.deepEqual(printed[0], ['interrupted (Kernel > Interrupt): the cell stopped waiting']);
  assert.equal((printed[1][0] as Error).message, 'a real failure', 'other errors print as they are, stack included');
  assert.equal(interruptReplacement([tslabError], true), null);
  assert.equal(interruptReplacement(['x', tslabError], false), undefined);
});

test('notebook parameters: validated once, figures per profile, a bad profile is one clear error', () => {
  const s = notebookSettings({ profile: 'smoke', resultsDir: 'data/runs', seed: 3 }, {}, '/repo');
  assert.deepEqual(
    { figures: s.figuresDir, results: s.resultsDir, seed: s.seed },
    { figures: '/repo/figures/smoke', results: '/repo/data/runs', seed: 3 },
  );
  assert.equal(notebookSettings({ profile: 'paper', resultsDir: 'r', seed: 0 }, { IWAE_FIGURES_DIR: '/out' }, '/repo').figuresDir, '/out/paper');
  assert.throws(
    () => notebookSettings({ profile: 'huge', resultsDir: 'r', seed: 0 }, {}),
    (err: Error) => /^bad notebook parameters: profile: /.test(err.message) && !err.message.includes('\n'),
  );
});

test('notebook defaults: paper reads the shipped results and trains nothing; the other profiles train into data/runs', () => {
  const paper = notebookSettings({ profile: 'paper', resultsDir: null, trainMissing: null, seed: 0 }, {}, '/repo');
  assert.deepEqual(
    { results: paper.resultsDir, train: paper.trainMissing, own: paper.ownRunsDir },
    { results: '/repo/data/results/paper', train: false, own: '/repo/data/runs' },
    "notebook 02's own run never goes into the shipped results",
  );
  const training = notebookSettings({ profile: 'paper', resultsDir: null, trainMissing: true, seed: 0 }, {}, '/repo');
  assert.deepEqual({ train: training.trainMissing, own: training.ownRunsDir }, { train: true, own: '/repo/data/runs' });
  const elsewhere = notebookSettings({ profile: 'paper', resultsDir: '/cluster/paper', trainMissing: null, seed: 0 }, {}, '/repo');
  assert.deepEqual({ train: elsewhere.trainMissing, own: elsewhere.ownRunsDir }, { train: false, own: '/cluster/paper' });
  const quick = notebookSettings({ profile: 'quick', resultsDir: null, trainMissing: null, seed: 0 }, {}, '/repo');
  assert.deepEqual({ results: quick.resultsDir, train: quick.trainMissing, own: quick.ownRunsDir }, { results: '/repo/data/runs', train: true, own: '/repo/data/runs' });
  assert.throws(() => notebookSettings({ profile: 'smoke', trainMissing: 'yes' as unknown as boolean, seed: 0 }, {}), (e: Error) => /^bad notebook parameters: trainMissing: /.test(e.message));
});
