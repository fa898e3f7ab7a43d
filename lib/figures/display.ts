import { writeFileAtomic } from '../io/atomic-file';
import { displayBundle, kernelDisplayWriter, type MimeBundle } from '../notebook/kernel';
import { exportFigures } from './pdf';
import { renderFigures, type RenderFormat } from './render';
import { figureTitle } from './style';
import type { PlotlyFigure } from './types';

export type { MimeBundle } from '../notebook/kernel';
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/**
 * The display bundle of a figure. JupyterLab picks the plotly JSON and draws it interactively at once.
 * The static image rides in text/html, not image/png: JupyterLab's plotly renderer shows an image/png
 * instead of the plot until the mouse passes over it, while viewers without plotly (GitHub, nbviewer,
 * nbconvert's HTML) fall back to the HTML image. text/plain is the title (terminals, tests).
 */
export function figureMimeBundle(figure: PlotlyFigure, png?: Buffer): MimeBundle {
  const title = figureTitle(figure);
  const data: Record<string, unknown> = {
    [PLOTLY_MIME]: { data: figure.data, layout: figure.layout, config: { displaylogo: false, responsive: true } },
    'text/plain': `<figure: ${title}>`,
  };
  if (png) {
    const alt = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    data['text/html'] = `<img src="data:image/png;base64,${png.toString('base64')}" alt="${alt}" style="max-width:100%">`;
  }
  return { data, metadata: {} };
}

export interface ShowOptions {
  /** Also export the figure as a vector PDF here (e.g. figures/quick/loss-curves.pdf). */
  pdf?: string;
  /** Skip the static image fallback (faster; the output then renders only where plotly is available). */
  staticFallback?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Displays a figure in the running notebook cell (interactive, with a static fallback) and optionally
 * exports a PDF. Both go through the kernel's one shared headless Chromium, kept open between figures.
 * Outside a notebook kernel it only exports (and says so), so lib code and tests can call it too.
 */
export async function show(figure: PlotlyFigure, options: ShowOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  if (!kernelDisplayWriter()) {
    if (options.pdf) await exportFigures([{ figure, pdf: options.pdf }], { env });
    console.log(`<figure: ${figureTitle(figure)}>${options.pdf ? ` -> ${options.pdf}` : ''}`);
    return;
  }
  const formats: RenderFormat[] = [];
  if (options.staticFallback !== false) formats.push('png');
  if (options.pdf) formats.push('pdf');
  const [rendered] = formats.length ? await renderFigures([figure], formats, env) : [{} as Partial<Record<RenderFormat, Buffer>>];
  displayBundle(figureMimeBundle(figure, rendered.png));
  if (options.pdf && rendered.pdf) writeFileAtomic(options.pdf, rendered.pdf);
}
