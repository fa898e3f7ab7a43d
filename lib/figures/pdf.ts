import { writeFileAtomic } from '../io/atomic-file';
import { renderFigures } from './render';
import type { PlotlyFigure } from './types';

export interface ExportOptions {
  /** Where to look for Chromium (CHROME_PATH); defaults to the process environment. */
  env?: NodeJS.ProcessEnv;
}

/** Exports each figure as a vector PDF (path -> figure), through one headless Chromium. */
export async function exportFiguresPdf(figures: Record<string, PlotlyFigure>, options: ExportOptions = {}): Promise<string[]> {
  const paths = Object.keys(figures);
  const rendered = await renderFigures(paths.map((p) => figures[p]), ['pdf'], options.env ?? process.env);
  paths.forEach((path, i) => writeFileAtomic(path, rendered[i].pdf as Buffer));
  return paths;
}

/** Exports one figure as a vector PDF at `outPath`. */
export async function exportFigurePdf(figure: PlotlyFigure, outPath: string, options: ExportOptions = {}): Promise<string> {
  await exportFiguresPdf({ [outPath]: figure }, options);
  return outPath;
}
