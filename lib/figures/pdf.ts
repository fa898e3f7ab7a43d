import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file';
import { closeFigureBrowser } from './browser';
import { renderFigures, type RenderFormat } from './render';
import type { PlotlyFigure } from './types';

export interface ExportOptions {
  /** Where to look for Chromium (CHROME_PATH); defaults to the process environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * Keep the process's shared Chromium open afterwards (notebook kernels, which export again soon).
   * Default: close it, so a command-line process can exit (an open browser keeps Node's loop alive).
   */
  keepBrowser?: boolean;
}

/** One figure and where each of its renderings goes (a vector PDF, a PNG, or both). */
export interface FigureFiles {
  figure: PlotlyFigure;
  pdf?: string;
  png?: string;
}

const FORMATS: RenderFormat[] = ['pdf', 'png'];

/** Renders every figure through the process's headless Chromium and writes the requested files; returns their paths. */
export async function exportFigures(outputs: readonly FigureFiles[], options: ExportOptions = {}): Promise<string[]> {
  const formats = FORMATS.filter((format) => outputs.some((o) => o[format] !== undefined));
  let rendered: Array<Partial<Record<RenderFormat, Buffer>>>;
  try {
    rendered = await renderFigures(outputs.map((o) => o.figure), formats, options.env ?? process.env);
  } finally {
    if (!options.keepBrowser) await closeFigureBrowser();
  }
  const written: string[] = [];
  outputs.forEach((output, i) => {
    for (const format of formats) {
      const path = output[format];
      if (path === undefined) continue;
      writeFileAtomic(path, rendered[i][format] as Buffer);
      written.push(path);
    }
  });
  return written;
}

/** Figures by file stem, each written to `<dir>/<stem>.pdf` (and `.png` with `png`); returns the paths. */
export async function exportFigureSet(figures: Record<string, PlotlyFigure>, dir: string, options: ExportOptions & { png?: boolean } = {}): Promise<string[]> {
  const outputs = Object.entries(figures).map(([stem, figure]) => ({
    figure,
    pdf: join(dir, `${stem}.pdf`),
    png: options.png ? join(dir, `${stem}.png`) : undefined,
  }));
  return outputs.length === 0 ? [] : exportFigures(outputs, options);
}

/** Exports one figure as a vector PDF at `outPath`. */
export async function exportFigurePdf(figure: PlotlyFigure, outPath: string, options: ExportOptions = {}): Promise<string> {
  await exportFigures([{ figure, pdf: outPath }], options);
  return outPath;
}
