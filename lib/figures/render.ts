import type { Page } from 'playwright-core';
import { withFigurePage } from './browser';
import { FIGURE_HEIGHT, FIGURE_WIDTH } from './style';
import type { PlotlyFigure } from './types';

export type RenderFormat = 'pdf' | 'png';

function figureSize(figure: PlotlyFigure): { width: number; height: number } {
  const width = Number(figure.layout.width ?? FIGURE_WIDTH);
  const height = Number(figure.layout.height ?? FIGURE_HEIGHT);
  return { width, height };
}

async function drawFigure(page: Page, figure: PlotlyFigure): Promise<void> {
  const { width, height } = figureSize(figure);
  await page.setViewportSize({ width, height });
  await page.evaluate(async (fig) => {
    const plotly = (globalThis as unknown as { Plotly: { newPlot(el: unknown, data: unknown, layout: unknown, config: unknown): Promise<unknown> } }).Plotly;
    const el = (globalThis as unknown as { document: { getElementById(id: string): unknown } }).document.getElementById('figure');
    await plotly.newPlot(el, fig.data, fig.layout, { staticPlot: true, displayModeBar: false });
  }, figure);
}

async function capture(page: Page, figure: PlotlyFigure, format: RenderFormat): Promise<Buffer> {
  const { width, height } = figureSize(figure);
  if (format === 'png') {
    return page.screenshot({ type: 'png', clip: { x: 0, y: 0, width, height } });
  }
  // Chrome prints plotly's SVG as vector paths and real text; one page sized to the figure.
  return page.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: '1' });
}

/**
 * Renders each figure in each of `formats` through the process's shared headless Chromium (drawn once
 * per figure, captured once per format). Result: out[i][format] for figures[i].
 */
export function renderFigures(
  figures: PlotlyFigure[],
  formats: RenderFormat[],
  env: NodeJS.ProcessEnv,
): Promise<Array<Partial<Record<RenderFormat, Buffer>>>> {
  return withFigurePage(env, async (page) => {
    const out: Array<Partial<Record<RenderFormat, Buffer>>> = [];
    for (const figure of figures) {
      const rendered: Partial<Record<RenderFormat, Buffer>> = {};
      await drawFigure(page, figure);
      for (const format of formats) rendered[format] = await capture(page, figure, format);
      out.push(rendered);
    }
    return out;
  });
}
