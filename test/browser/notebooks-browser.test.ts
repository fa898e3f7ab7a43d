import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { requireChromium } from '../../lib/figures/chromium';
import { REPO_ROOT } from '../helpers/cli';
import { startJupyterLab, type LabServer } from './jupyterlab';

// A new user's path, in a real browser: JupyterLab from the project's .venv, Debian's Chromium driven by
// playwright-core, a notebook opened from the file tree URL, Run All, and what the user then sees.
// The smoke profile and scratch results/figures dirs reach the kernels through the server's environment.
// Screenshots go to IWAE_BROWSER_SCREENSHOTS (default data/tmp/browser, git-ignored).
const scratch = mkdtempSync(join(tmpdir(), 'iwae-browser-'));
const screenshots = process.env.IWAE_BROWSER_SCREENSHOTS ?? join(REPO_ROOT, 'data', 'tmp', 'browser');
mkdirSync(screenshots, { recursive: true });

let lab: LabServer;
let browser: Browser;
const trackedNotebooks = () =>
  readdirSync(join(REPO_ROOT, 'notebooks'))
    .filter((name) => name.endsWith('.ipynb'))
    .map((name) => [name, readFileSync(join(REPO_ROOT, 'notebooks', name), 'utf8')]);
const notebooksBefore = trackedNotebooks();

before(async () => {
  lab = await startJupyterLab(
    { IWAE_PROFILE: 'smoke', IWAE_RESULTS_DIR: join(scratch, 'runs'), IWAE_FIGURES_DIR: join(scratch, 'figures'), TF_CPP_MIN_LOG_LEVEL: '2' },
    scratch,
  );
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: requireChromium(process.env),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await lab?.stop();
});

interface OpenNotebook {
  page: Page;
  kernelSeconds: number;
}

type LabWindow = {
  jupyterapp: {
    commands: { execute(id: string): Promise<unknown> };
    shell: { currentWidget: unknown };
  };
};

interface NotebookWidget {
  sessionContext: { session?: { kernel?: { id: string; status: string; name: string } } };
  content: { widgets: Array<{ model: { type: string; executionCount?: number | null } }> };
}

/** Opens a notebook by URL and waits for its kernel (named in the notebook's metadata, no dialog). */
async function openNotebook(name: string): Promise<OpenNotebook> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const opened = Date.now();
  await page.goto(`${lab.url}/lab/tree/notebooks/${name}?token=${lab.token}&reset`);
  await page.waitForFunction(
    () => {
      const app = (window as unknown as Partial<LabWindow>).jupyterapp;
      const kernel = (app?.shell.currentWidget as NotebookWidget | null)?.sessionContext?.session?.kernel;
      return kernel?.name === 'iwae-lab' && kernel.status === 'idle';
    },
    undefined,
    { timeout: 120_000, polling: 250 },
  );
  return { page, kernelSeconds: (Date.now() - opened) / 1000 };
}

/** Starts a JupyterLab command; does not wait for it (Run All's promise settles only when every cell has run). */
async function command(page: Page, id: string): Promise<void> {
  await page.evaluate((cmd) => {
    void (window as unknown as LabWindow).jupyterapp.commands.execute(cmd);
  }, id);
}

/**
 * Waits until the kernel executes requests again: after a failed (or interrupted) cell, tslab answers
 * "abort" to every request for a moment, to drop the rest of a Run All; a Run All sent then would do
 * nothing. Probes with an empty request until one is answered "ok".
 */
async function untilKernelAcceptsRequests(page: Page): Promise<void> {
  await page.evaluate(async () => {
    type Kernel = { requestExecute(c: { code: string; silent: boolean; store_history: boolean }): { done: Promise<{ content: { status: string } }> } };
    const widget = (window as unknown as LabWindow).jupyterapp.shell.currentWidget as { sessionContext: { session: { kernel: Kernel } } };
    for (;;) {
      const reply = await widget.sessionContext.session.kernel.requestExecute({ code: '', silent: true, store_history: false }).done;
      if (reply.content.status === 'ok') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}

/** Runs all cells and waits until every one has run (or one failed); returns the seconds it took. */
async function runAll(page: Page, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await command(page, 'notebook:run-all-cells');
  // Done when every code cell shows an execution count and the kernel is idle again (a failed cell
  // stops Run All, leaving later cells without a count: the test then fails on the count check).
  const done = page.waitForFunction(
    () => {
      const widget = (window as unknown as LabWindow).jupyterapp.shell.currentWidget as NotebookWidget;
      if (widget.sessionContext.session?.kernel?.status !== 'idle') return false;
      // A failed cell stops Run All: stop waiting, the error check below reports it.
      if (document.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')) return true;
      const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')).map((p) => p.textContent ?? '');
      if (prompts.some((p) => p.includes('*'))) return false;
      return widget.content.widgets.filter((c) => c.model.type === 'code').every((c) => typeof c.model.executionCount === 'number');
    },
    undefined,
    { timeout: timeoutMs, polling: 500 },
  );
  // What the page showed when Run All did not finish, for the failure report.
  await done.catch(async (err: unknown) => {
    await page.screenshot({ path: join(screenshots, 'run-all-timeout.png'), fullPage: true }).catch(() => undefined);
    throw err;
  });
  return (Date.now() - started) / 1000;
}

/** What the cells printed on stderr and any error outputs: both must be empty for a clean run. */
async function cellErrors(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(
      document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'),
    ).map((el) => (el.textContent ?? '').slice(0, 400)),
  );
}

async function assertNotebookShows(page: Page, name: string): Promise<void> {
  const stem = name.replace('.ipynb', '');
  const errors = await cellErrors(page);
  if (errors.length) await page.screenshot({ path: join(screenshots, `${stem}-error.png`) });
  assert.deepEqual(errors, [], `${name}: no cell wrote an error`);
  const unrun = await page.evaluate(() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')).filter((p) => !/\[\d+\]/.test(p.textContent ?? '')).length);
  assert.equal(unrun, 0, `${name}: every code cell ran`);
  // A rich HTML table (lib/notebook/table.ts), not a console.table drawing.
  const tables = page.locator('.jp-OutputArea-output table.iwae-table');
  assert.ok((await tables.count()) > 0, `${name}: an HTML table is shown`);
  assert.ok((await tables.first().locator('tbody tr').count()) > 0, `${name}: the table has rows`);
  // Plotly draws the interactive figure at once: its SVG is there and no static image stands in for it.
  // Nothing in this test moves the mouse.
  const plot = page.locator('.jp-RenderedPlotly .plot-container .main-svg').first();
  await plot.waitFor({ state: 'visible', timeout: 60_000 });
  const staticImages = await page.locator('.jp-RenderedPlotly img.plot-img:visible').count();
  assert.equal(staticImages, 0, `${name}: no plotly output shows its static image instead of the plot`);
  // The element itself: Playwright scrolls to it and waits until it is stable (a page screenshot right
  // after scrolling can catch JupyterLab's windowed notebook before it has painted the cell).
  await page.locator('.jp-RenderedPlotly').first().screenshot({ path: join(screenshots, `${stem}-figure.png`) });
  await tables.first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(screenshots, `${stem}-table.png`) });
}

test('notebook 01 runs in JupyterLab: HTML tables, plotly drawn without hovering, no errors, no news popup', { timeout: 300_000 }, async () => {
  const { page, kernelSeconds } = await openNotebook('01_data.ipynb');
  const runSeconds = await runAll(page, 240_000);
  console.log(`01_data: kernel ready in ${kernelSeconds.toFixed(1)} s, Run All took ${runSeconds.toFixed(1)} s`);
  await assertNotebookShows(page, '01_data.ipynb');
  // A new user is not asked about Jupyter news (setup's overrides in the venv): by now, long after the
  // page loaded, JupyterLab would have shown its toast.
  assert.equal(await page.getByText('get notified about official Jupyter news').count(), 0, 'no news popup');
  // The server hands out the overridden defaults (what Settings > Notifications shows as default).
  const settings = (await (await fetch(`${lab.url}/lab/api/settings/@jupyterlab/apputils-extension:notification?token=${lab.token}`)).json()) as {
    schema: { properties: { fetchNews: { default: string }; checkForUpdates: { default: boolean } } };
  };
  const defaults = settings.schema.properties;
  assert.deepEqual({ fetchNews: defaults.fetchNews.default, checkForUpdates: defaults.checkForUpdates.default }, { fetchNews: 'false', checkForUpdates: false });
  await page.close();
});

test('notebook 03: Kernel > Interrupt during training prints one line; Run All again resumes the grid and shows tables and figures', { timeout: 600_000 }, async () => {
  const { page, kernelSeconds } = await openNotebook('03_experiment1_initialization.ipynb');
  await command(page, 'notebook:run-all-cells');
  // Interrupt as soon as the grid's progress display appears: its workers are still starting (1-2 s of
  // TensorFlow start-up before the first of 8 runs), so the interrupt lands while the grid is running.
  const progress = page.locator('.jp-OutputArea-output .iwae-progress');
  await progress.first().waitFor({ state: 'visible', timeout: 240_000 });
  await command(page, 'kernelmenu:interrupt');
  const interrupted = page.locator('.jp-OutputArea-output', { hasText: /^interrupted: \d+ of \d+ runs/m });
  await interrupted.first().waitFor({ state: 'visible', timeout: 60_000 });
  const text = (await interrupted.first().textContent()) ?? '';
  const counts = /^interrupted: (\d+) of (\d+) runs finished, (\d+) resumable \(finished epochs are checkpointed; run the cell again to continue\)$/m.exec(text);
  assert.ok(counts, `one line saying what is left: ${text}`);
  const line = counts[0];
  assert.ok(Number(counts[1]) < Number(counts[2]) && Number(counts[1]) + Number(counts[3]) === Number(counts[2]), line);
  const outputs = (await page.locator('.jp-OutputArea-output').allTextContents()).join('\n');
  assert.doesNotMatch(outputs, /Interrupted asynchronously|\n\s+at /, 'no stack trace');
  assert.match((await progress.first().textContent()) ?? '', /interrupted$/, 'the progress display says interrupted, not done');
  await page.screenshot({ path: join(screenshots, '03_experiment1_initialization-interrupted.png') });

  await untilKernelAcceptsRequests(page);
  const runSeconds = await runAll(page, 540_000);
  console.log(`03_experiment1: kernel ready in ${kernelSeconds.toFixed(1)} s, Run All after the interrupt took ${runSeconds.toFixed(1)} s`);
  await assertNotebookShows(page, '03_experiment1_initialization.ipynb');
  // The grid's progress display ends in its final state: every run accounted for.
  assert.equal(await progress.count(), 1, 'one progress display');
  assert.match((await progress.textContent()) ?? '', /(\d+)\/\1 runs/);
  // The interrupt stopped the grid, not the kernel (a dead kernel is restarted by the server, which logs it).
  assert.doesNotMatch(lab.log(), /restarting kernel|appears to have died/, 'the kernel was never restarted');
  await page.close();
});

test('running the notebooks in JupyterLab leaves the tracked notebooks as they were (the server works on copies)', () => {
  assert.deepEqual(trackedNotebooks(), notebooksBefore);
});
