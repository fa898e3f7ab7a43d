import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { requireChromium } from './chromium';

/**
 * Flags that let Chromium run headless as root on a machine without network: without the
 * background-networking ones it keeps trying (and failing) to reach Google's services.
 */
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface FigurePage {
  page: Page;
  close(): Promise<void>;
}

/** A page with plotly.js loaded, ready for `Plotly.newPlot`. One browser per call: export is not a hot path. */
export async function openFigurePage(env: NodeJS.ProcessEnv): Promise<FigurePage> {
  const executablePath = requireChromium(env);
  const { chromium } = await import('playwright-core');
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath, args: LAUNCH_ARGS, headless: true });
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0"><div id="figure"></div></body></html>');
    await page.addScriptTag({ content: plotlySource() });
    const opened = browser;
    return { page, close: () => opened.close() };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    throw err;
  }
}

let cachedPlotly: string | undefined;
function plotlySource(): string {
  cachedPlotly ??= readFileSync(require.resolve('plotly.js-dist'), 'utf8');
  return cachedPlotly;
}
