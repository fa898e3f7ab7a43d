import { estimatorLabel, type BlockSnrSummary, type EstimatorSummary, type Experiment3Run, type SnrCurve } from '../analysis/experiment3';
import type { NetworkName } from '../model/architecture';
import { axisStyle, baseLayout, MODEL_COLORS, titleMargin } from './style';
import type { PlotlyFigure } from './types';

/** Line dash per k, as the study's figures draw it (k = 5 solid, 50 dashed). */
const K_DASH: Record<number, string> = { 1: 'dot', 5: 'solid', 50: 'dash' };
const dashFor = (k: number) => K_DASH[k] ?? 'dashdot';
const colorFor = (model: string) => MODEL_COLORS[model] ?? '#555';
const settingLabel = (model: string, k: number) => `${estimatorLabel(model)} k=${k}`;
const finiteOr0 = (v: number) => (Number.isFinite(v) ? v : 0);

/**
 * Experiment 3's question in one figure: active units (training set, bars from 0 to all units) and final
 * NLL (markers: a bar from 0 would hide differences of a nat) per estimator, grouped by k, mean ± SE
 * over seeds, each seed's run as a point beside its mean.
 */
export function experiment3UnitsFigure(summary: readonly EstimatorSummary[], runs: readonly Experiment3Run[], profileLabel: string): PlotlyFigure {
  const models = [...new Set(summary.map((s) => s.model))];
  const ks = [...new Set(summary.map((s) => s.k))].sort((a, b) => a - b);
  const categories = ks.map((k) => `k = ${k}`);
  const panel = (metric: 'activeUnitsTrain' | 'nll', axis: '' | '2') =>
    models.flatMap((model) => {
      const rows = ks.map((k) => summary.find((s) => s.model === model && s.k === k));
      const seeds = runs.filter((r) => r.model === model);
      const bars = metric === 'activeUnitsTrain';
      return [
        {
          type: bars ? 'bar' : 'scatter',
          ...(bars ? {} : { mode: 'markers' }),
          name: estimatorLabel(model),
          legendgroup: model,
          showlegend: axis === '',
          x: categories,
          y: rows.map((r) => (r ? r[metric].mean : null)),
          error_y: { type: 'data', array: rows.map((r) => (r ? finiteOr0(r[metric].se) : 0)), visible: true },
          marker: bars ? { color: colorFor(model) } : { color: colorFor(model), size: 12, symbol: 'diamond' },
          offsetgroup: model,
          xaxis: `x${axis}`,
          yaxis: `y${axis}`,
          hovertemplate: `${estimatorLabel(model)} %{x}: %{y:.2f} ± %{error_y.array:.2f}<extra></extra>`,
        },
        {
          type: 'scatter',
          mode: 'markers',
          name: `${estimatorLabel(model)}: one seed each`,
          legendgroup: model,
          showlegend: false,
          x: seeds.map((r) => `k = ${r.k}`),
          y: seeds.map((r) => r[metric]),
          text: seeds.map((r) => `seed ${r.seed}`),
          offsetgroup: model,
          marker: { color: '#222', size: 5, opacity: 0.7 },
          xaxis: `x${axis}`,
          yaxis: `y${axis}`,
          hovertemplate: `${estimatorLabel(model)} %{x}, %{text}: %{y:.2f}<extra></extra>`,
        },
      ];
    });
  const layout = baseLayout('Experiment 3: active units and NLL by gradient estimator (mean ± SE over seeds; points: seeds)', profileLabel, { width: 900 });
  // The NLL axis spans the values with a margin (plotly's autorange here would reach down to 0).
  const nlls = [...runs.map((r) => r.nll), ...summary.flatMap((s) => [s.nll.mean - finiteOr0(s.nll.se), s.nll.mean + finiteOr0(s.nll.se)])].filter(Number.isFinite);
  const pad = Math.max(0.5, 0.1 * (Math.max(...nlls) - Math.min(...nlls)));
  const nllRange = nlls.length > 0 ? [Math.min(...nlls) - pad, Math.max(...nlls) + pad] : undefined;
  return {
    data: [...panel('activeUnitsTrain', ''), ...panel('nll', '2')],
    layout: {
      ...layout,
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: axisStyle(undefined, { domain: [0, 0.44] }),
      yaxis: axisStyle('active units (train, A_u > 0.01)', { rangemode: 'tozero' }),
      xaxis2: axisStyle(undefined, { domain: [0.56, 1] }),
      yaxis2: axisStyle('NLL, −L_finalK [nats]', nllRange ? { range: nllRange } : {}),
      barmode: 'group',
      scattermode: 'group',
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0)' },
      margin: { l: 70, r: 30, t: titleMargin(layout) + 30, b: 60 },
    },
  };
}

/**
 * The gradient SNR over training: the mean SNR over all entries of the encoder's and the decoder's
 * parameters (log scale), one line per (estimator, k), mean ± SE over seeds at each measured epoch.
 */
export function experiment3SnrFigure(curves: readonly SnrCurve[], profileLabel: string): PlotlyFigure {
  const panels: Array<[NetworkName, '' | '2']> = [
    ['encoder', ''],
    ['decoder', '2'],
  ];
  const data = panels.flatMap(([network, axis]) =>
    curves
      .filter((c) => c.network === network)
      .map((c) => ({
        type: 'scatter',
        mode: 'lines+markers',
        name: settingLabel(c.model, c.k),
        legendgroup: `${c.model}|${c.k}`,
        showlegend: axis === '',
        x: c.epochs,
        y: c.mean,
        error_y: { type: 'data', array: c.se, visible: true, thickness: 1 },
        line: { color: colorFor(c.model), dash: dashFor(c.k), width: 2 },
        marker: { color: colorFor(c.model), size: 6 },
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
        text: c.runs.map((n) => `n=${n}`),
        hovertemplate: `${settingLabel(c.model, c.k)}, ${network}<br>epoch %{x}: SNR %{y:.3g} ± %{error_y.array:.2g} (%{text})<extra></extra>`,
      })),
  );
  const layout = baseLayout('Experiment 3: gradient SNR over training, encoder vs decoder (mean over all entries; mean ± SE over seeds)', profileLabel, { width: 900 });
  // Log epochs (the measured ones spread like the learning-rate phases), ticks at the measured epochs only.
  const epochs = [...new Set(curves.flatMap((c) => c.epochs))].sort((a, b) => a - b);
  const epochAxis = (domain: [number, number], title: string) => axisStyle(title, { domain, type: 'log', tickmode: 'array', tickvals: epochs, ticktext: epochs.map(String) });
  return {
    data,
    layout: {
      ...layout,
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: epochAxis([0, 0.44], 'epoch (encoder)'),
      yaxis: axisStyle('mean SNR |E g| / sd(g)', { type: 'log' }),
      xaxis2: epochAxis([0.56, 1], 'epoch (decoder)'),
      yaxis2: axisStyle(undefined, { type: 'log' }),
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0)' },
      margin: { l: 70, r: 30, t: titleMargin(layout) + 30, b: 60 },
    },
  };
}

/** Per parameter block at the last measured epoch: the median SNR of its entries, one bar group per (estimator, k). */
export function experiment3BlockSnrFigure(blocks: readonly BlockSnrSummary[], profileLabel: string): PlotlyFigure {
  const names = [...new Set(blocks.map((b) => b.block))];
  const settings = [...new Map(blocks.map((b) => [`${b.model}|${b.k}`, { model: b.model, k: b.k }])).values()];
  const epochs = [...new Set(blocks.map((b) => b.epoch))].sort((a, b) => a - b);
  return {
    data: settings.map(({ model, k }) => {
      const mine = names.map((name) => blocks.find((b) => b.model === model && b.k === k && b.block === name));
      return {
        type: 'bar',
        name: settingLabel(model, k),
        x: names,
        y: mine.map((b) => (b ? b.medianSnr.mean : null)),
        error_y: { type: 'data', array: mine.map((b) => (b ? finiteOr0(b.medianSnr.se) : 0)), visible: true },
        marker: { color: colorFor(model), opacity: k === Math.min(...settings.map((s) => s.k)) ? 1 : 0.55, pattern: k === Math.min(...settings.map((s) => s.k)) ? undefined : { shape: '/' } },
        hovertemplate: `${settingLabel(model, k)}<br>%{x}: median SNR %{y:.3g} ± %{error_y.array:.2g}<extra></extra>`,
      };
    }),
    layout: {
      ...baseLayout(`Experiment 3: median gradient SNR per parameter block after epoch ${epochs.join('/')} (mean ± SE over seeds)`, profileLabel, { width: 900 }),
      barmode: 'group',
      xaxis: axisStyle(undefined, { tickangle: -35, tickfont: { size: 10 } }),
      yaxis: axisStyle('median SNR of the block’s entries', { type: 'log' }),
      height: 500,
    },
  };
}
