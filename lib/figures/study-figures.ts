import type { SeedStability } from '../analysis/experiment2';
import type { KOneAblation } from '../analysis/claims';
import { modelLabel, type RunRow } from '../analysis/run-table';
import { meanAndStandardError } from '../analysis/statistics';
import type { SummaryRow } from '../analysis/summaries';
import type { RunRecord } from '../experiments/results';
import { axisStyle, baseLayout, MODEL_COLORS } from './style';
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
    };
  });
}

export function lossCurvesFigure(records: readonly RunRecord[], profileLabel: string): PlotlyFigure {
  return {
    data: perEpochLines(records, 'testLoss'),
    layout: baseLayout('Test loss per epoch (mean ± SE over seeds and inits)', profileLabel, {
      x: 'epoch',
      y: 'test loss [nats] (VAE: −ELBO, IWAE: −L_k)',
    }),
  };
}

export function activeUnitsOverEpochsFigure(records: readonly RunRecord[], profileLabel: string): PlotlyFigure {
  return {
    data: perEpochLines(records, 'activeUnitsTrain'),
    layout: baseLayout('Active units per epoch, training set (mean ± SE over seeds and inits)', profileLabel, {
      x: 'epoch',
      y: 'active units (A_u > 0.01)',
    }),
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
      ...baseLayout(`Experiment 2: activity of each latent unit per seed (active: log10 A_u > ${Math.log10(threshold)})`, profileLabel, {
        x: 'latent unit',
      }),
      height: Math.max(440, 120 + 14 * y.length),
      width: 980,
      margin: { l: 300, r: 30, t: 80, b: 60 },
      yaxis: axisStyle(undefined, { autorange: 'reversed', tickfont: { size: 9 } }),
    },
  };
}

/** Experiment 2: observed mean pairwise Jaccard of active sets per setting, against the random-choice null. */
export function jaccardVersusNullFigure(stability: readonly SeedStability[], profileLabel: string): PlotlyFigure {
  const labels = stability.map((s) => `${modelLabel(s.model, s.k)} · ${s.init}`);
  return {
    data: [
      {
        type: 'bar',
        name: 'observed (mean pairwise Jaccard across seeds)',
        x: labels,
        y: stability.map((s) => s.overlap.observed),
        marker: { color: stability.map((s) => colorFor(s.model)) },
        text: stability.map((s) => (s.overlap.pValue < 0.001 ? 'p<0.001' : `p=${s.overlap.pValue.toFixed(3)}`)),
        textposition: 'outside',
      },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'expected if units were chosen at random',
        x: labels,
        y: stability.map((s) => s.overlap.expectedUnderNull),
        marker: { symbol: 'line-ew-open', size: 26, color: '#222', line: { width: 3 } },
      },
    ],
    layout: {
      ...baseLayout('Experiment 2: do seeds pick the same active units? Jaccard overlap vs chance', profileLabel, { y: 'Jaccard index' }),
      yaxis: axisStyle('Jaccard index', { range: [0, 1.1] }),
      xaxis: axisStyle(undefined, { tickangle: -40, tickfont: { size: 9 } }),
      height: 520,
      width: 980,
      margin: { l: 70, r: 30, t: 80, b: 190 },
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
        colorscale: 'Blues',
        text: s.jaccard.map((row) => row.map((v) => v.toFixed(2))),
        texttemplate: '%{text}',
        colorbar: { title: { text: 'Jaccard' } },
      },
    ],
    layout: {
      ...baseLayout(
        `Active-set overlap between seeds: ${modelLabel(s.model, s.k)}, ${s.init}`,
        `${profileLabel}; random-choice expectation ${s.overlap.expectedUnderNull.toFixed(2)}, p = ${s.overlap.pValue.toFixed(3)}`,
      ),
      width: 560,
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

/** The k = 1 ablation: closed-form-KL VAE, sampled-KL VAE and IWAE k=1, mean ± SE over paired runs. */
export function kOneAblationFigure(rows: readonly RunRow[], ablation: KOneAblation, profileLabel: string): PlotlyFigure {
  const models = ['vae', 'vae-sampled-kl', 'iwae'];
  const stats = (metric: 'nll' | 'activeUnitsTrain') =>
    models.map((m) => meanAndStandardError(rows.filter((r) => r.model === m && r.k === 1).map((r) => r[metric])));
  const nll = stats('nll');
  const active = stats('activeUnitsTrain');
  const names = models.map((m) => modelLabel(m, 1));
  const se = (s: { se: number }) => (Number.isFinite(s.se) ? s.se : 0);
  return {
    data: [
      // Points, not bars: the differences are a few nats on top of ~100, which bars from zero would hide.
      { type: 'scatter', mode: 'markers', name: 'NLL (−L_k, final)', x: names, y: nll.map((s) => s.mean), error_y: { type: 'data', array: nll.map(se) }, marker: { color: models.map(colorFor), size: 12 }, xaxis: 'x', yaxis: 'y' },
      { type: 'bar', name: 'active units', x: names, y: active.map((s) => s.mean), error_y: { type: 'data', array: active.map(se) }, marker: { color: models.map(colorFor), opacity: 0.6 }, xaxis: 'x2', yaxis: 'y2' },
    ],
    layout: {
      ...baseLayout('k = 1 ablation: does the KL estimator explain VAE k=1 vs IWAE k=1?', profileLabel),
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: axisStyle(),
      yaxis: axisStyle('NLL [nats]'),
      xaxis2: axisStyle(),
      yaxis2: axisStyle('active units'),
      showlegend: false,
      annotations: [{ text: wrapText(ablation.sentence, 120), xref: 'paper', yref: 'paper', x: 0, y: -0.2, yanchor: 'top', showarrow: false, align: 'left', font: { size: 10 } }],
      margin: { l: 70, r: 30, t: 80, b: 130 },
      width: 900,
    },
  };
}

/** A grid of 28×28 grayscale images (Bernoulli means or bits in [0, 1]), as one heatmap. */
export function imageGridFigure(images: Float32Array, count: number, columns: number, title: string, subtitle: string, side = 28): PlotlyFigure {
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
  return {
    data: [{ type: 'heatmap', z, colorscale: 'Greys', reversescale: false, zmin: 0, zmax: 1, showscale: false, hoverinfo: 'skip' }],
    layout: {
      ...baseLayout(title, subtitle),
      width: Math.max(420, width * cell + 60),
      height: height * cell + 120,
      margin: { l: 30, r: 30, t: 80, b: 20 },
      xaxis: { visible: false, constrain: 'domain' },
      yaxis: { visible: false, autorange: 'reversed', scaleanchor: 'x' },
    },
  };
}

/** Breaks `text` into lines of at most `width` characters at spaces (plotly annotations do not wrap). */
function wrapText(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('<br>');
}
