import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { kOneAblation } from '../../lib/analysis/claims';
import { seedStability } from '../../lib/analysis/experiment2';
import type { RunRow } from '../../lib/analysis/run-table';
import { closeFigureBrowser, withFigurePage } from '../../lib/figures/browser';
import { labelCountsFigure } from '../../lib/figures/mnist-figures';
import { weightScalesFigure } from '../../lib/figures/model-figures';
import { activityHeatmapFigure, imageGridFigure, jaccardVersusNullFigure, kOneAblationFigure } from '../../lib/figures/study-figures';
import type { PlotlyFigure } from '../../lib/figures/types';
import { createStream } from '../../lib/random/streams';

after(() => closeFigureBrowser());

const INITS = ['he-normal', 'he-uniform', 'xavier-normal', 'xavier-uniform'];
const SEEDS = [135, 630, 924];

function row(model: string, init: string, seed: number, nll: number, active = 50): RunRow {
  const activityTrain = Array.from({ length: 50 }, (_, u) => (u < active ? 0.5 : 1e-4));
  return {
    id: `${model}-k1-${init}-s${seed}`,
    model, k: 1, init, seed, epochs: 4,
    activeUnitsTrain: active, activeUnitsTest: active,
    trainLoss: nll + 2, testLoss: nll + 1, testStudyLoss: nll, testRecon: nll - 20, testKL: 20,
    finalBound: nll + 0.5, nll, finalK: 500, activityTrain,
  };
}

/**
 * k = 1 runs as the quick grid makes them: the init moves the NLL by up to 20 nats (a spread that
 * pairing cancels), while the closed-form VAE is 1-2 nats below the sampled-KL VAE in every pair and
 * IWAE k=1 equals the sampled-KL VAE.
 */
function ablationRows(): RunRow[] {
  const rows: RunRow[] = [];
  INITS.forEach((init, i) => SEEDS.forEach((seed, j) => {
    const level = 160 + 6 * i + (seed % 7);
    const gap = 1 + ((i + j) % 3) * 0.5;
    rows.push(row('vae', init, seed, level - gap), row('vae-sampled-kl', init, seed, level), row('iwae', init, seed, level));
  }));
  return rows;
}

const traces = (figure: PlotlyFigure, axis: string) => figure.data.filter((t) => (t.yaxis ?? 'y') === axis);

test('the k = 1 ablation figure shows paired differences: its intervals are the paired test’s, not the spread between inits', () => {
  const ablation = kOneAblation(ablationRows());
  const figure = kOneAblationFigure(ablation, 'quick profile');
  const c = ablation.closedVsSampled;
  assert.ok(c);
  const nll = traces(figure, 'y');
  // Per pairing: one trace of pair differences, one of the mean with its interval.
  const [points, mean] = nll;
  assert.deepEqual(points.y, c.pairs.map((p) => p.a - p.b));
  assert.equal((points.y as number[]).length, INITS.length * SEEDS.length);
  assert.deepEqual(mean.y, [c.test.meanDifference]);
  const bar = mean.error_y as { array: number[]; arrayminus: number[] };
  const [low, high] = [c.test.meanDifference - bar.arrayminus[0], c.test.meanDifference + bar.array[0]];
  assert.ok(Math.abs(low - c.test.ci95[0]) < 1e-9 && Math.abs(high - c.test.ci95[1]) < 1e-9, 'the bar is the 95% paired-t interval');
  // The interval agrees with the paired test: it clears 0, and p < 0.05; the unpaired spread of the
  // closed-form VAE's NLL over inits and seeds (what the old figure drew) is far wider than the gap.
  assert.ok(c.test.tPValue < 0.05 && high < 0, `interval [${low}, ${high}] excludes 0 with p = ${c.test.tPValue}`);
  const vae = c.pairs.map((p) => p.a);
  assert.ok(Math.max(...vae) - Math.min(...vae) > 10 * Math.abs(c.test.meanDifference));
  // Identical models: every difference 0, an interval [0, 0], and p = 1 in the label.
  const [same, sameMean] = nll.slice(2, 4);
  assert.ok((same.y as number[]).every((d) => d === 0));
  assert.deepEqual(sameMean.y, [0]);
  const labels = (figure.layout.annotations as Array<{ text: string }>).map((a) => a.text);
  assert.ok(labels.some((t) => /Wilcoxon p = 1\.000/.test(t)));
  assert.equal(traces(figure, 'y2').length, 6, 'the active-unit panel has the same three pairings');
});

test('label counts: each split as a share of itself, so the 400 validation images are as visible as the 60,000 training ones', () => {
  const train = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
  const validation = [38, 43, 42, 39, 41, 33, 43, 43, 38, 40];
  const figure = labelCountsFigure({ train, 'validation (last 400)': validation });
  for (const trace of figure.data) {
    const shares = trace.y as number[];
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 100) < 1e-9, `${trace.name}: shares add up to 100%`);
    assert.ok(Math.min(...shares) > 5, `${trace.name}: every bar is visible on the shared axis`);
  }
  assert.deepEqual(figure.data[1].customdata, validation, 'the counts stay available (hover)');
  assert.match(String(figure.data[1].name), /400 images/);
});

/**
 * Draws `figure` in headless Chromium as the export does and returns every piece of text that reaches
 * outside the figure, and any overlap of the title with the legend or the annotations.
 */
async function layoutProblems(figure: PlotlyFigure): Promise<string[]> {
  const width = Number(figure.layout.width);
  const height = Number(figure.layout.height);
  return withFigurePage(process.env, async (page) => {
    await page.setViewportSize({ width, height });
    return page.evaluate(async (fig) => {
      const g = globalThis as unknown as {
        Plotly: { newPlot(el: unknown, data: unknown, layout: unknown, config: unknown): Promise<unknown> };
        document: { getElementById(id: string): { querySelectorAll(s: string): ArrayLike<{ textContent: string | null; getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number } }> } };
      };
      // tsx names functions through a `__name` helper that does not exist in the page.
      (globalThis as unknown as { __name: unknown }).__name = (f: unknown) => f;
      const el = g.document.getElementById('figure');
      await g.Plotly.newPlot(el, fig.data, fig.layout, { staticPlot: true });
      const w = Number(fig.layout.width);
      const h = Number(fig.layout.height);
      const problems: string[] = [];
      const box = (selector: string) => Array.from(el.querySelectorAll(selector)).map((n) => ({ text: n.textContent ?? '', r: n.getBoundingClientRect() }));
      for (const { text, r } of box('svg text')) {
        if (!text.trim() || r.width === 0) continue;
        if (r.left < -1 || r.top < -1 || r.right > w + 1 || r.bottom > h + 1) problems.push(`cut off: "${text.slice(0, 60)}" at [${Math.round(r.left)}, ${Math.round(r.right)}] x [${Math.round(r.top)}, ${Math.round(r.bottom)}] in ${w}x${h}`);
      }
      const [title] = box('.gtitle');
      for (const other of [...box('.legend .traces'), ...box('.annotation')]) {
        const a = title.r;
        const b = other.r;
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) problems.push(`title overlaps "${other.text.slice(0, 40)}"`);
      }
      return problems;
    }, figure);
  });
}

test('long titles, legends, labels and colour bars stay inside the figure, clear of the title', { timeout: 120_000 }, async () => {
  const rows: RunRow[] = [];
  for (const model of ['iwae', 'vae']) for (const init of INITS) for (const seed of SEEDS) rows.push({ ...row(model, init, seed, 100, 30 + (seed % 5)), k: 5 });
  const stability = seedStability(rows, createStream(0, 'overlap-null'), { draws: 200 });
  const images = new Float32Array(35 * 784).fill(0.5);
  const who = 'IWAE k=5, truncated-normal, seed 135, epoch 3280 · paper profile: 3280 epochs, 60k images, 5 seeds, k up to 50';
  const figures: Record<string, PlotlyFigure> = {
    // The subtitle the traversal figure used to carry, with its rows labelled.
    traversals: imageGridFigure(images, 35, 7, 'Latent traversals of the 5 most active units (one unit z_u swept per row)', `unit 5 (A_u 0.88), unit 4 (A_u 0.86), unit 0 (A_u 0.69); ${who}`, {
      rows: ['unit 5 · A_u 0.88', 'unit 4 · A_u 0.86', 'unit 0 · A_u 0.69', 'unit 11 · A_u 0.68', 'unit 23 · A_u 0.65'],
      columns: ['z_u = -3', 'z_u = -2', 'z_u = -1', 'z_u = 0', 'z_u = 1', 'z_u = 2', 'z_u = 3'],
    }),
    heatmap: activityHeatmapFigure(rows, 'quick profile: 4 epochs, 5k images, 3 seeds'),
    jaccard: jaccardVersusNullFigure(stability, 'quick profile: 4 epochs, 5k images, 3 seeds'),
    ablation: kOneAblationFigure(kOneAblation(ablationRows()), 'quick profile: 4 epochs, 5k images, 3 seeds'),
    labelCounts: labelCountsFigure({ train: new Array(10).fill(6000), test: new Array(10).fill(1000), 'validation (last 400)': new Array(10).fill(40) }),
    weightScales: weightScalesFigure(
      ['xavier-uniform', 'truncated-normal'].flatMap((init) => ['encoder 784→200', 'decoder 200→784'].map((layer) => ({ init: init as 'xavier-uniform', layer, fanIn: 200, fanOut: 784, expectedStd: 0.05, empiricalStd: 0.05 }))),
      'seed 135, study architecture',
    ),
  };
  for (const [name, figure] of Object.entries(figures)) {
    assert.ok(Number(figure.layout.width) <= 900, `${name}: at most 900 px wide (JupyterLab's output area at 1400 px)`);
    assert.deepEqual(await layoutProblems(figure), [], name);
  }
});
