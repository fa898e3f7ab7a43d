import type { PlotlyFigure } from './types';

/** One color per objective, used by every figure so a model reads the same everywhere. */
export const MODEL_COLORS: Record<string, string> = {
  vae: '#1f77b4',
  iwae: '#d62728',
  'vae-sampled-kl': '#2ca02c',
};
/** A neutral sequence for anything that is not a model (inits, seeds, units). */
export const SERIES_COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860', '#da8bc3', '#8c8c8c'];

export const FIGURE_WIDTH = 760;
export const FIGURE_HEIGHT = 440;

/**
 * The house layout: white background, readable fonts, a title that says what is shown and under which
 * profile (e.g. "Active units per init — quick profile: 3 epochs, 5k images").
 */
export function baseLayout(title: string, subtitle?: string, axes: { x?: string; y?: string } = {}): Record<string, unknown> {
  return {
    title: {
      text: subtitle ? `${title}<br><sup>${subtitle}</sup>` : title,
      x: 0.02,
      xanchor: 'left',
      font: { size: 17 },
    },
    width: FIGURE_WIDTH,
    height: FIGURE_HEIGHT,
    font: { family: 'Helvetica, Arial, sans-serif', size: 12, color: '#222' },
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    margin: { l: 70, r: 30, t: subtitle ? 80 : 60, b: 60 },
    xaxis: axisStyle(axes.x),
    yaxis: axisStyle(axes.y),
    legend: { bgcolor: 'rgba(255,255,255,0.8)' },
  };
}

/** The figure's title text without markup, used for text fallbacks and tests. */
export function figureTitle(figure: PlotlyFigure): string {
  const title = figure.layout.title as { text?: string } | string | undefined;
  const text = typeof title === 'string' ? title : title?.text ?? '';
  return text.replace(/<br>/g, ' — ').replace(/<[^>]+>/g, '');
}

/** The house axis: a visible line, light grid, outside ticks and an optional title. */
export function axisStyle(title?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    showline: true,
    linecolor: '#444',
    gridcolor: '#e5e5e5',
    zeroline: false,
    ticks: 'outside',
    ...(title ? { title: { text: title } } : {}),
    ...extra,
  };
}
