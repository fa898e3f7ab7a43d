import type { SeedStability } from '../analysis/experiment2';
import type { KOneAblation } from '../analysis/claims';
import type { ModelComparison } from '../analysis/experiment1';
import { modelLabel, type RunRow } from '../analysis/run-table';
import { meanAndStandardError } from '../analysis/statistics';
import type { SummaryRow } from '../analysis/summaries';
import type { RunRecord } from '../experiments/results';
import { axisStyle, baseLayout, MODEL_COLORS, titleMargin, wrapText } from './style';
import type { PlotlyFigure } from './types';

/** Line dash per k, so model (color) and k (dash) read independently. */
const K_DASH: Record<number, string> = { 1: 'dot', 5: 'solid', 50: 'dash' };
const dashFor = (k: number) => K_DASH[k] ?? 'dashdot';
const colorFor = (model: string) => MODEL_COLORS[model] ?? '#555';

type EpochMetricName = 'trainLoss' | 'testLoss' | 'activeUnitsTrain' | 'activeUnitsTest' | 'testKL' | 'testRecon';

/** Mean ± SE across runs (seeds and inits) of one per-epoch metric, one line per (model, k). */
function perEpochLines(records: readonly RunRecord[], metric: EpochMetricName): Array<Record<string, unknown>> {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    if (!r.config || r.epochs.length === 0) continue;
    const key = `${r.config.model}|${r.config.k}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.keys()].sort().map((key) => {
    const runs = groups.get(key) as RunRecord[];
    const { model, k } = runs[0].config as { model: string; k: number };
    const maxEpoch = Math.max(...runs.map((r) => r.epochs.length));
    const x: number[] = [];
    const y: number[] = [];
    const se: number[] = [];
    for (let e = 1; e <= maxEpoch; e++) {
      const values = runs.flatMap((r) => r.epochs.filter((m) => m.epoch === e).map((m) => m[metric]));
      if (values.length === 0) continue;
      const s = meanAndStandardError(values);
      x.push(e);
      y.push(s.mean);
      se.push(Number.isFinite(s.se) ? s.se : 0);
    }
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: `${modelLabel(model, k)} (n=${runs.length})`,
      x,
      y,
      error_y: { type: 'data', array: se, visible: true, thickness: 1 },
      line: { color: colorFor(model), dash: dashFor(k), width: 2 },
      marker: { color: colorFor(model), size: 5 },
      hovertemplate: `${modelLabel(model, k)}<br>epoch %{x}: %{y:.2f} ± %{error_y.array:.2f}<extra></extra>`,
    };
  });
}

/** Whole-epoch ticks only (no 1.5, 2.5), at most ~10 of them. */
function epochAxis(records: readonly RunRecord[]): Record<string, unknown> {
  const maxEpoch = Math.max(1, ...records.map((r) => r.epochs.length));
  return axisStyle('epoch', { tickmode: 'linear', tick0: 1, dtick: Math.max(1, Math.ceil(maxEpoch / 10)) });
}

export function lossCurvesFigure(records: readonly RunRecord[], profileLabel: string): PlotlyFigure {
  return {
    data: perEpochLines(records, 'testLoss'),
    layout: {
      ...baseLayout('Test loss per epoch (mean ± SE over seeds and inits)', profileLabel, {
        y: 'test loss [nats] (VAE: −ELBO, IWAE: −L_k)',
      }),
      xaxis: epochAxis(records),
    },
  };
}

export function activeUnitsOverEpochsFigure(records: readonly RunRecord[], profileLabel: string): PlotlyFigure {
  return {
    data: perEpochLines(records, 'activeUnitsTrain'),
    layout: {
      ...baseLayout('Active units per epoch, training set (mean ± SE over seeds and inits)', profileLabel, {
        y: 'active units (A_u > 0.01)',
      }),
      xaxis: epochAxis(records),
      // From 0 to all 50 units: a narrow autorange (48.5-50) would make one unit look like a big change.
      yaxis: axisStyle('active units (A_u > 0.01), of 50', { range: [0, 51] }),
    },
  };
}

/** Experiment 1: active units per init, grouped by (model, k), with standard-error bars across seeds. */
export function experiment1BarsFigure(summary: readonly SummaryRow[], profileLabel: string, metric: 'activeUnitsTrain' | 'activeUnitsTest' = 'activeUnitsTrain'): PlotlyFigure {
  const inits = [...new Set(summary.map((s) => s.init))].sort();
  const settings = [...new Set(summary.map((s) => `${s.model}|${s.k}`))].sort();
  const data = settings.map((setting) => {
    const [model, kText] = setting.split('|');
    const k = Number(kText);
    const rows = inits.map((init) => summary.find((s) => s.model === model && s.k === k && s.init === init));
    return {
      type: 'bar',
      name: modelLabel(model, k),
      x: inits,
      y: rows.map((r) => (r ? r.mean[metric] : null)),
      error_y: { type: 'data', array: rows.map((r) => (r && Number.isFinite(r.se[metric]) ? r.se[metric] : 0)), visible: true },
      marker: { color: colorFor(model), opacity: k === 1 ? 0.55 : 1, pattern: k === 1 ? { shape: '/' } : undefined },
    };
  });
  return {
    data,
    layout: {
      ...baseLayout(`Experiment 1: active units by weight init (${metric === 'activeUnitsTrain' ? 'training' : 'test'} set, mean ± SE over seeds)`, profileLabel, {
        x: 'weight initialization',
        y: 'active units',
      }),
      barmode: 'group',
    },
  };
}

/** Experiment 2: log10 A_u of every unit (columns) for every seed (rows) of one (model, k, init) per panel row. */
export function activityHeatmapFigure(rows: readonly RunRow[], profileLabel: string, threshold = 1e-2): PlotlyFigure {
  const sorted = [...rows].sort((a, b) => a.model.localeCompare(b.model) || a.k - b.k || a.init.localeCompare(b.init) || a.seed - b.seed);
  const units = sorted[0]?.activityTrain.length ?? 0;
  const z = sorted.map((r) => r.activityTrain.map((a) => Math.log10(Math.max(a, 1e-8))));
  const y = sorted.map((r) => `${modelLabel(r.model, r.k)} · ${r.init} · seed ${r.seed}`);
  const heatmapLayout = baseLayout(`Experiment 2: activity of each latent unit per seed (active: log10 A_u > ${Math.log10(threshold)})`, profileLabel, {
    x: 'latent unit',
    width: 900,
  });
  return {
    data: [
      {
        type: 'heatmap',
        z,
        x: Array.from({ length: units }, (_, i) => i),
        y,
        colorscale: 'Viridis',
        zmin: -6,
        zmax: 1,
        colorbar: { title: { text: 'log10 A_u' } },
        hovertemplate: 'unit %{x}<br>%{y}<br>log10 A_u = %{z:.2f}<extra></extra>',
      },
    ],
    layout: {
      ...heatmapLayout,
      height: Math.max(440, 120 + 14 * y.length),
      // Row labels are ~40 characters of 9 px text: 230 px, and the colour bar keeps its title inside 900 px.
      margin: { l: 230, r: 40, t: titleMargin(heatmapLayout), b: 60 },
      yaxis: axisStyle(undefined, { autorange: 'reversed', tickfont: { size: 9 } }),
    },
  };
}

/** Experiment 2: observed mean pairwise Jaccard of active sets per setting, against the random-choice null. */
export function jaccardVersusNullFigure(stability: readonly SeedStability[], profileLabel: string): PlotlyFigure {
  const labels = stability.map((s) => `${modelLabel(s.model, s.k)} · ${s.init}`);
  const jaccardLayout = baseLayout('Experiment 2: do seeds pick the same active units? Jaccard overlap vs chance', profileLabel, { width: 900 });
  return {
    data: [
      // One bar trace per model, so each legend entry has its bars' colour.
      ...[...new Set(stability.map((s) => s.model))].sort().map((model) => {
        const mine = stability.filter((s) => s.model === model);
        return {
          type: 'bar',
          name: `${model.toUpperCase()}: observed mean pairwise Jaccard (label: permutation p)`,
          x: mine.map((s) => `${modelLabel(s.model, s.k)} · ${s.init}`),
          y: mine.map((s) => s.overlap.observed),
          marker: { color: colorFor(model) },
          text: mine.map((s) => (s.overlap.pValue < 0.001 ? 'p<0.001' : `p=${s.overlap.pValue.toFixed(3)}`)),
          textposition: 'outside',
          textfont: { size: 12 },
          hovertemplate: '%{x}<br>Jaccard %{y:.3f}, %{text}<extra></extra>',
        };
      }),
      {
        type: 'scatter',
        mode: 'markers',
        name: 'expected if units were chosen at random',
        x: labels,
        y: stability.map((s) => s.overlap.expectedUnderNull),
        marker: { symbol: 'line-ew-open', size: 26, color: '#222', line: { width: 3 } },
        hovertemplate: '%{x}<br>random-choice expectation %{y:.3f}<extra></extra>',
      },
    ],
    layout: {
      ...jaccardLayout,
      yaxis: axisStyle('Jaccard index', { range: [0, 1.15] }),
      xaxis: axisStyle(undefined, { tickangle: -40, tickfont: { size: 10 }, categoryorder: 'array', categoryarray: labels }),
      barmode: 'overlay', // the models' bars sit on different categories
      height: 560,
      // Legend in one row above the plot: its long names then never compete with the bars for width.
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0)' },
      margin: { l: 70, r: 30, t: titleMargin(jaccardLayout) + 30, b: 170 },
    },
  };
}

/** The Jaccard matrix of one setting's seeds. */
export function jaccardMatrixFigure(s: SeedStability, profileLabel: string): PlotlyFigure {
  const labels = s.seeds.map((seed) => `seed ${seed}`);
  return {
    data: [
      {
        type: 'heatmap',
        z: s.jaccard,
        x: labels,
        y: labels,
        zmin: 0,
        zmax: 1,
        // Reversed: plotly's Blues is darkest at 0; full overlap should read as the strongest colour.
        colorscale: 'Blues',
        reversescale: true,
        text: s.jaccard.map((row) => row.map((v) => v.toFixed(2))),
        texttemplate: '%{text}',
        colorbar: { title: { text: 'Jaccard' } },
      },
    ],
    layout: {
      ...baseLayout(
        `Active-set overlap between seeds: ${modelLabel(s.model, s.k)}, ${s.init}`,
        `${profileLabel}; random-choice expectation ${s.overlap.expectedUnderNull.toFixed(2)}, p = ${s.overlap.pValue.toFixed(3)}`,
        { width: 560 },
      ),
      height: 500,
      yaxis: axisStyle(undefined, { autorange: 'reversed' }),
    },
  };
}

/** Histogram of log10 A_u over all units of all runs, per model: active and inactive units separate cleanly. */
export function activityHistogramFigure(rows: readonly RunRow[], profileLabel: string, threshold = 1e-2): PlotlyFigure {
  const models = [...new Set(rows.map((r) => r.model))].sort();
  return {
    data: models.map((model) => ({
      type: 'histogram',
      name: model.toUpperCase(),
      x: rows.filter((r) => r.model === model).flatMap((r) => r.activityTrain.map((a) => Math.log10(Math.max(a, 1e-8)))),
      opacity: 0.6,
      marker: { color: colorFor(model) },
      xbins: { size: 0.25 },
    })),
    layout: {
      ...baseLayout('Distribution of unit activity log10 A_u (all units of all runs)', profileLabel, {
        x: 'log10 A_u',
        y: 'units',
      }),
      barmode: 'overlay',
      shapes: [
        {
          type: 'line',
          x0: Math.log10(threshold),
          x1: Math.log10(threshold),
          yref: 'paper',
          y0: 0,
          y1: 1,
          line: { color: '#222', dash: 'dash' },
        },
      ],
      annotations: [
        { x: Math.log10(threshold), yref: 'paper', y: 1, text: 'threshold 0.01', showarrow: false, xanchor: 'left', yanchor: 'bottom' },
      ],
    },
  };
}

/** The three pairings of the k = 1 ablation, in reading order. */
const ABLATION_PAIRS = ['closedVsSampled', 'sampledVsIwae', 'closedVsIwae'] as const;

const fmtP = (p: number) => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/**
 * One panel of the ablation: for each pairing a − b, the difference of every (seed, init) pair (grey
 * points) and the mean difference with its 95% paired-t interval (black). These are the quantities the
 * paired tests use, so an interval that excludes 0 is a paired t p < 0.05; the seed-to-seed and
 * init-to-init spread, which pairing cancels, is not in the bars.
 */
function pairedDifferencePanel(comparisons: Array<ModelComparison | null>, axis: '' | '2', unit: string): { data: Array<Record<string, unknown>>; annotations: Array<Record<string, unknown>> } {
  const data: Array<Record<string, unknown>> = [];
  const annotations: Array<Record<string, unknown>> = [];
  comparisons.forEach((c, i) => {
    if (!c) return;
    const d = c.pairs.map((p) => p.a - p.b);
    const n = d.length;
    // Deterministic spread of the points around their category, so equal differences stay visible.
    const xs = d.map((_, j) => i - 0.18 + (n > 1 ? (0.36 * j) / (n - 1) : 0.18));
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: xs,
      y: d,
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
      marker: { color: '#9a9a9a', size: 6 },
      text: c.pairs.map((p) => `seed ${p.seed}, ${p.init}`),
      hovertemplate: `%{text}<br>difference %{y:.2f} ${unit}<extra></extra>`,
    });
    const { meanDifference: mean, ci95 } = c.test;
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: [i],
      y: [mean],
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
      marker: { color: '#111', size: 11, symbol: 'diamond' },
      error_y: { type: 'data', symmetric: false, array: [ci95[1] - mean], arrayminus: [mean - ci95[0]], color: '#111', thickness: 2, width: 8 },
      hovertemplate: `mean difference %{y:.2f} ${unit}<br>95% CI [${ci95[0].toFixed(2)}, ${ci95[1].toFixed(2)}]<extra></extra>`,
    });
    annotations.push({
      text: `Wilcoxon ${fmtP(c.test.wilcoxonPValue)}<br>paired t ${fmtP(c.test.tPValue)}, n = ${n}`,
      xref: `x${axis}`,
      yref: `y${axis} domain`,
      x: i,
      y: 1,
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 10 },
    });
  });
  return { data, annotations };
}

/**
 * The k = 1 ablation as paired differences (closed-form-KL VAE, sampled-KL VAE, IWAE k=1), for the final
 * NLL and the active-unit count: what the ablation's paired tests compare, per (seed, init) pair.
 */
export function kOneAblationFigure(ablation: KOneAblation, profileLabel: string): PlotlyFigure {
  const label = (c: ModelComparison | null, key: (typeof ABLATION_PAIRS)[number]) => {
    const [a, b] = c ? [c.a, c.b] : key === 'closedVsSampled' ? ['vae', 'vae-sampled-kl'] : key === 'sampledVsIwae' ? ['vae-sampled-kl', 'iwae'] : ['vae', 'iwae'];
    return `${modelLabel(a, 1)}<br>− ${modelLabel(b, 1)}`;
  };
  const nll = pairedDifferencePanel(ABLATION_PAIRS.map((key) => ablation[key]), '', 'nats');
  const active = pairedDifferencePanel(ABLATION_PAIRS.map((key) => ablation.activeUnits[key]), '2', 'units');
  const categories = {
    tickmode: 'array',
    tickvals: ABLATION_PAIRS.map((_, i) => i),
    ticktext: ABLATION_PAIRS.map((key) => label(ablation[key], key)),
    range: [-0.5, ABLATION_PAIRS.length - 0.5],
    showgrid: false,
    tickfont: { size: 10 },
  };
  const zero = (axis: '' | '2') => ({ type: 'line', xref: `x${axis} domain`, x0: 0, x1: 1, yref: `y${axis}`, y0: 0, y1: 0, line: { color: '#444', dash: 'dash', width: 1 } });
  const width = 900;
  const layout = baseLayout('k = 1 ablation: does the KL estimator explain VAE k=1 vs IWAE k=1?', `${profileLabel}; paired by seed and init`, { width });
  const legend = 'Grey points: one (seed, init) pair each; diamond and bar: mean paired difference with its 95% CI (paired t).';
  return {
    data: [...nll.data, ...active.data],
    layout: {
      ...layout,
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: axisStyle(undefined, { ...categories, domain: [0, 0.45] }),
      yaxis: axisStyle('final NLL difference [nats] (< 0: first lower)'),
      xaxis2: axisStyle(undefined, { ...categories, domain: [0.55, 1] }),
      yaxis2: axisStyle('active-unit difference (> 0: first more)'),
      showlegend: false,
      shapes: [zero(''), zero('2')],
      annotations: [
        ...nll.annotations,
        ...active.annotations,
        { text: wrapText(`${legend} ${ablation.sentence}`, 140).join('<br>'), xref: 'paper', yref: 'paper', x: 0, y: -0.3, yanchor: 'top', xanchor: 'left', showarrow: false, align: 'left', font: { size: 10 } },
      ],
      height: 520,
      margin: { l: 70, r: 30, t: titleMargin(layout) + 40, b: 150 },
    },
  };
}

/** Labels for an image grid's rows (left of each row) and columns (under each column). */
export interface GridLabels {
  rows?: string[];
  columns?: string[];
}

/** A grid of 28×28 grayscale images (Bernoulli means or bits in [0, 1]), as one heatmap. */
export function imageGridFigure(images: Float32Array, count: number, columns: number, title: string, subtitle: string, labels: GridLabels = {}, side = 28): PlotlyFigure {
  const rows = Math.ceil(count / columns);
  const pad = 2;
  const width = columns * (side + pad) - pad;
  const height = rows * (side + pad) - pad;
  const z: Array<Array<number | null>> = Array.from({ length: height }, () => new Array<number | null>(width).fill(null));
  for (let i = 0; i < count; i++) {
    const r0 = Math.floor(i / columns) * (side + pad);
    const c0 = (i % columns) * (side + pad);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) z[r0 + y][c0 + x] = images[i * side * side + y * side + x];
  }
  const cell = Math.max(2, Math.min(6, Math.floor(720 / width)));
  const left = labels.rows ? 130 : 30;
  const bottom = labels.columns ? 40 : 20;
  const figureWidth = Math.max(420, width * cell + left + 30);
  const layout = baseLayout(title, subtitle, { width: figureWidth });
  const centre = (index: number) => index * (side + pad) + (side - 1) / 2;
  const annotations = [
    // Anchored to the axis domains, not to data outside the ranges (plotly hides off-range annotations).
    ...(labels.rows ?? []).map((text, r) => ({ text, xref: 'x domain', yref: 'y', x: 0, y: centre(r), xanchor: 'right', xshift: -6, showarrow: false, font: { size: 11 } })),
    ...(labels.columns ?? []).map((text, c) => ({ text, xref: 'x', yref: 'y domain', x: centre(c), y: 0, yanchor: 'top', yshift: -4, showarrow: false, font: { size: 11 } })),
  ];
  return {
    // Ink (1) black on white, as notebook 01 draws digits (plotly's Greys runs from black at 0).
    data: [{ type: 'heatmap', z, colorscale: 'Greys', reversescale: true, zmin: 0, zmax: 1, showscale: false, hoverinfo: 'skip' }],
    layout: {
      ...layout,
      height: height * cell + titleMargin(layout) + bottom,
      margin: { l: left, r: 30, t: titleMargin(layout), b: bottom },
      // Fixed ranges: the images fill the plot area exactly (square pixels), with no autorange padding.
      xaxis: { visible: false, range: [-0.5, width - 0.5], constrain: 'domain' },
      yaxis: { visible: false, range: [height - 0.5, -0.5], scaleanchor: 'x', constrain: 'domain' },
      annotations,
    },
  };
}
