import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeFigureBrowser, figureBrowserLaunches } from '../../lib/figures/browser';
import { exportFigurePdf, exportFigures } from '../../lib/figures/pdf';
import { renderFigures } from '../../lib/figures/render';
import { baseLayout, MODEL_COLORS } from '../../lib/figures/style';
import type { PlotlyFigure } from '../../lib/figures/types';
import { pdfText } from '../helpers/pdf-text';

const figure: PlotlyFigure = {
  data: [{ x: [1, 2, 3], y: [90, 88, 87], mode: 'lines', name: 'iwae', line: { color: MODEL_COLORS.iwae } }],
  layout: baseLayout('Test loss per epoch', 'smoke profile: 3 epochs', { x: 'epoch', y: 'loss [nats]' }),
};

test('a figure exports as a one-page vector PDF carrying its title and axis text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-pdf-'));
  const out = join(dir, 'nested', 'loss.pdf');
  await exportFigurePdf(figure, out);
  assert.equal(readFileSync(out).subarray(0, 5).toString('latin1'), '%PDF-');
  const size = statSync(out).size;
  assert.ok(size > 3_000 && size < 2_000_000, `PDF size ${size}`);
  const { pages, text } = await pdfText(out);
  assert.equal(pages, 1);
  assert.match(text, /Test loss per epoch/);
  assert.match(text, /loss \[nats\]/);
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['loss.pdf'], 'no temp file left behind');
});

test('without Chromium the export fails with one clear error naming CHROME_PATH and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iwae-pdf-'));
  const out = join(dir, 'x.pdf');
  await assert.rejects(
    exportFigurePdf(figure, out, { env: { CHROME_PATH: join(dir, 'no-such-chrome') } }),
    (err: Error) => /CHROME_PATH/.test(err.message) && !err.message.includes('\n'),
  );
  assert.equal(existsSync(out), false);
});

test('figures reuse one headless Chromium per process until it is closed', async () => {
  const before = figureBrowserLaunches();
  const [a] = await renderFigures([figure], ['png'], process.env);
  const [b] = await renderFigures([figure], ['png', 'pdf'], process.env);
  assert.equal(figureBrowserLaunches() - before, 1, 'the second figure used the open browser');
  assert.equal(a.png!.subarray(1, 4).toString('latin1'), 'PNG');
  assert.equal(b.pdf!.subarray(0, 5).toString('latin1'), '%PDF-');
  // A batch export (the CLI's path) closes it afterwards, so the process can exit; the next one relaunches.
  const dir = mkdtempSync(join(tmpdir(), 'iwae-pdf-'));
  await exportFigures([{ figure, pdf: join(dir, 'a.pdf') }]);
  assert.equal(figureBrowserLaunches() - before, 1);
  await renderFigures([figure], ['png'], process.env);
  assert.equal(figureBrowserLaunches() - before, 2);
  await closeFigureBrowser();
});

test('the open figure browser leaves SIGINT alone: Kernel > Interrupt after a figure must not end the kernel', async () => {
  // Playwright's default handler closes the browser and exits the process with code 130.
  const before = process.listeners('SIGINT');
  try {
    await renderFigures([figure], ['png'], process.env);
    assert.deepEqual(process.listeners('SIGINT'), before);
  } finally {
    await closeFigureBrowser();
  }
});
