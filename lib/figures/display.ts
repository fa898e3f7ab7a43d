import { renderFigures, type RenderFormat } from './render';
import { figureTitle } from './style';
import type { PlotlyFigure } from './types';
import { writeFileAtomic } from '../io/atomic-file';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export interface MimeBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/**
 * The display bundle of a figure: JupyterLab renders the plotly JSON interactively; viewers without a
 * plotly renderer (GitHub, nbviewer, a PDF of the notebook) show the static PNG; text/plain is the title.
 */
export function figureMimeBundle(figure: PlotlyFigure, png?: Buffer): MimeBundle {
  const data: Record<string, unknown> = {
    [PLOTLY_MIME]: { data: figure.data, layout: figure.layout },
    'text/plain': `<figure: ${figureTitle(figure)}>`,
  };
  if (png) data['image/png'] = png.toString('base64');
  return { data, metadata: {} };
}

type WriteDisplayData = (content: MimeBundle & { transient: Record<string, unknown> }, update: boolean) => void;

/** tslab sends display_data with a single mime type; its writer takes a whole bundle, so use that. */
function tslabDisplayWriter(): WriteDisplayData {
  let jupyter: { lastWriteDisplayData?: WriteDisplayData | null };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jupyter = require('tslab/dist/jupyter');
  } catch {
    throw new Error('show() displays figures inside a tslab notebook kernel; use exportFigurePdf elsewhere');
  }
  const write = jupyter.lastWriteDisplayData;
  if (!write) throw new Error('show() must be called while a notebook cell is running');
  return write;
}

export interface ShowOptions {
  /** Also export the figure as a vector PDF here (e.g. figures/loss-curves.pdf). */
  pdf?: string;
  /** Skip the static PNG fallback (faster; the notebook then renders only where plotly is available). */
  staticFallback?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Displays a figure in the running notebook cell (interactive + static fallback), optionally exporting a PDF. */
export async function show(figure: PlotlyFigure, options: ShowOptions = {}): Promise<void> {
  const write = tslabDisplayWriter();
  const formats: RenderFormat[] = [];
  if (options.staticFallback !== false) formats.push('png');
  if (options.pdf) formats.push('pdf');
  const [rendered] = formats.length ? await renderFigures([figure], formats, options.env ?? process.env) : [{}];
  write({ ...figureMimeBundle(figure, rendered.png), transient: {} }, false);
  if (options.pdf && rendered.pdf) writeFileAtomic(options.pdf, rendered.pdf);
}
