import type { PlotlyFigure } from './types';

/** One color per objective, used by every figure so a model reads the same everywhere. */
export const MODEL_COLORS: Record<string, string> = {
  vae: '#1f77b4',
  iwae: '#d62728',
  'vae-sampled-kl': '#2ca02c',
  // Experiment 3's gradient estimators.
  'iwae-stl': '#ff7f0e',
  'iwae-dreg': '#9467bd',
  'vae-stl': '#17becf',
};
/** A neutral sequence for anything that is not a model (inits, seeds, units). */
export const SERIES_COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860', '#da8bc3', '#8c8c8c'];

export const FIGURE_WIDTH = 760;
export const FIGURE_HEIGHT = 440;

/** Average glyph widths (px) of the title (17 px) and of its subtitle line (<sup>), measured on rendered figures. */
const TITLE_CHAR_PX = 7.8;
const SUBTITLE_CHAR_PX = 5.6;
/** Extra top margin per wrapped title or subtitle line. */
const LINE_PX = 16;

/**
 * The house layout: white background, readable fonts, a title that says what is shown and under which
 * profile (e.g. "Active units per init — quick profile: 3 epochs, 5k images"). Title and subtitle are
 * wrapped to the figure's `width` (plotly clips a title wider than the figure), with the top margin
 * grown to hold the extra lines. Hover labels show trace names in full (plotly cuts them at 15 chars).
 */
export function baseLayout(title: string, subtitle?: string, options: { x?: string; y?: string; width?: number } = {}): Record<string, unknown> {
  const width = options.width ?? FIGURE_WIDTH;
  const usable = width * 0.96 - 10; // the title starts at x = 0.02 of the width
  const titleLines = wrapText(title, Math.floor(usable / TITLE_CHAR_PX));
  const subtitleLines = subtitle ? wrapText(subtitle, Math.floor(usable / SUBTITLE_CHAR_PX)) : [];
  const text = [titleLines.join('<br>'), ...subtitleLines.map((line) => `<sup>${line}</sup>`)].join('<br>');
  const extraLines = titleLines.length - 1 + Math.max(0, subtitleLines.length - 1);
  return {
    // Pinned to the top edge (the first line's top ends up ~22 px down): extra title lines, a legend or
    // labels above the plot grow the margin below it, never push the title out of the figure.
    title: { text, x: 0.02, xanchor: 'left', yref: 'container', y: 1, yanchor: 'top', pad: { t: 34 }, font: { size: 17 } },
    width,
    height: FIGURE_HEIGHT,
    font: { family: 'Helvetica, Arial, sans-serif', size: 12, color: '#222' },
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    margin: { l: 70, r: 30, t: (subtitle ? 80 : 60) + LINE_PX * extraLines, b: 60 },
    xaxis: axisStyle(options.x),
    yaxis: axisStyle(options.y),
    legend: { bgcolor: 'rgba(255,255,255,0.8)' },
    hoverlabel: { namelength: -1 },
  };
}

/** The top margin baseLayout gave the title (figures that set their own margin keep it). */
export function titleMargin(layout: Record<string, unknown>): number {
  return (layout.margin as { t: number }).t;
}

/** Breaks `text` into lines of at most `width` characters at spaces (plotly does not wrap titles or annotations). */
export function wrapText(text: string, width: number): string[] {
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
  return lines;
}

/** The figure's title text without markup, used for text fallbacks and tests. */
export function figureTitle(figure: PlotlyFigure): string {
  const title = figure.layout.title as { text?: string } | string | undefined;
  const text = typeof title === 'string' ? title : title?.text ?? '';
  // Lines in <sup> are the subtitle; the others the (wrapped) title.
  const lines = text.split('<br>');
  const plain = (parts: string[]) => parts.map((l) => l.replace(/<[^>]+>/g, '')).join(' ');
  const subtitle = plain(lines.filter((l) => l.startsWith('<sup>')));
  const main = plain(lines.filter((l) => !l.startsWith('<sup>')));
  return subtitle ? `${main} — ${subtitle}` : main;
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
