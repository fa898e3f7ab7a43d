import type { WeightScale } from '../model/weight-scales';
import { axisStyle, baseLayout, SERIES_COLORS } from './style';
import type { PlotlyFigure } from './types';

/** Grouped bars: initial weight std per layer (x) and init (color); the formula value as a marker. */
export function weightScalesFigure(rows: readonly WeightScale[], subtitle?: string): PlotlyFigure {
  const inits = [...new Set(rows.map((r) => r.init))];
  const layers = [...new Set(rows.map((r) => r.layer))];
  return {
    data: inits.flatMap((init, i) => {
      const mine = layers.map((layer) => rows.find((r) => r.init === init && r.layer === layer)!);
      return [
        {
          type: 'bar',
          name: init,
          x: layers,
          y: mine.map((r) => r.empiricalStd),
          marker: { color: SERIES_COLORS[i % SERIES_COLORS.length] },
          offsetgroup: init,
          hovertemplate: `${init}, %{x}<br>drawn std %{y:.4f}<extra></extra>`,
        },
        {
          type: 'scatter',
          mode: 'markers',
          name: 'formula std',
          showlegend: i === 0,
          legendgroup: 'formula',
          x: layers,
          y: mine.map((r) => r.expectedStd),
          marker: { symbol: 'line-ew-open', size: 14, color: '#222' },
          offsetgroup: init,
          hovertemplate: `${init} formula std %{y:.4f}<extra></extra>`,
        },
      ];
    }),
    layout: {
      ...baseLayout('Initial weight scale per layer and init (bars: drawn, ticks: formula)', subtitle, { width: 900 }),
      barmode: 'group',
      scattermode: 'group',
      xaxis: axisStyle('layer (fan-in → fan-out)'),
      // Labels at 1-2-5 steps only: plotly's default log labels ('0.1, 9, 8, ...') read as a linear axis.
      yaxis: axisStyle('standard deviation of the weights', { type: 'log', tickvals: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2], ticktext: ['0.01', '0.02', '0.05', '0.1', '0.2', '0.5', '1', '2'] }),
    },
  };
}
