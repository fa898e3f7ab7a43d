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

interface FigureBrowser {
  browser: Browser;
  page: Page;
  executablePath: string;
}

/**
 * One headless Chromium per process, started on first use and reused by every export: starting it costs
 * 2-3 s, drawing a figure into the already open page a few hundred ms. A notebook kernel keeps it for
 * its lifetime; a command-line process calls `closeFigureBrowser` before it exits (an open browser
 * keeps Node's event loop alive). Renders are queued, so two figures never share the page at once.
 */
let shared: Promise<FigureBrowser> | undefined;
let queue: Promise<unknown> = Promise.resolve();
let launches = 0;

/** How many browsers this process has started (one, normally: the reuse the tests check). */
export function figureBrowserLaunches(): number {
  return launches;
}

async function launch(executablePath: string): Promise<FigureBrowser> {
  const { chromium } = await import('playwright-core');
  launches += 1;
  // handleSIGINT off: Playwright's own handler closes every browser and then exits the process (code
  // 130), so Kernel > Interrupt after any figure would kill the notebook kernel. Ctrl-C in a terminal
  // still reaches Chromium, which is in the same process group.
  const browser = await chromium.launch({ executablePath, args: LAUNCH_ARGS, headless: true, handleSIGINT: false });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0"><div id="figure"></div></body></html>');
    await page.addScriptTag({ content: plotlySource() });
    // A crashed or killed browser is replaced on the next use instead of failing every later figure.
    browser.on('disconnected', () => {
      shared = undefined;
    });
    return { browser, page, executablePath };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

async function sharedBrowser(env: NodeJS.ProcessEnv): Promise<FigureBrowser> {
  const executablePath = requireChromium(env);
  const current = shared ? await shared.catch(() => undefined) : undefined;
  if (current && current.executablePath === executablePath && current.browser.isConnected()) return current;
  if (current) await current.browser.close().catch(() => undefined);
  shared = launch(executablePath);
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

/**
 * Runs `work` with the process's figure page (plotly.js loaded, ready for `Plotly.newPlot`), after any
 * render already in progress.
 */
export function withFigurePage<T>(env: NodeJS.ProcessEnv, work: (page: Page) => Promise<T>): Promise<T> {
  const run = queue.then(async () => work((await sharedBrowser(env)).page));
  queue = run.catch(() => undefined);
  return run;
}

/** Closes the shared browser if one is open (the next export starts a new one). */
export async function closeFigureBrowser(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current.catch(() => undefined))?.browser.close().catch(() => undefined);
}

let cachedPlotly: string | undefined;
function plotlySource(): string {
  cachedPlotly ??= readFileSync(require.resolve('plotly.js-dist'), 'utf8');
  return cachedPlotly;
}
