/**
 * The one place that talks to tslab's display channel. tslab's public `display.html()` sends a single
 * mime type; its internal writer takes a whole bundle (several mime types, a display id for live
 * updates), which is what rich outputs need: HTML for JupyterLab, plain text for everything else.
 */
export interface MimeBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

export type DisplayWriter = (content: MimeBundle & { transient: Record<string, unknown> }, update: boolean) => void;

/** The running tslab cell's display writer, or undefined outside a notebook kernel (terminal, tests). */
export function kernelDisplayWriter(): DisplayWriter | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData?: DisplayWriter | null };
    return jupyter.lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** Shows a bundle in the notebook (true), or does nothing outside a kernel (false). */
export function displayBundle(bundle: MimeBundle, options: { displayId?: string; update?: boolean } = {}): boolean {
  const write = kernelDisplayWriter();
  if (!write) return false;
  write({ ...bundle, transient: options.displayId ? { display_id: options.displayId } : {} }, options.update ?? false);
  return true;
}
