import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFigurePdf } from '../../lib/figures/pdf';
import { baseLayout, MODEL_COLORS } from '../../lib/figures/style';
import { figureMimeBundle, PLOTLY_MIME } from '../../lib/figures/display';
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

test('the notebook display bundle carries interactive plotly JSON, a PNG fallback and a text title', () => {
  const bundle = figureMimeBundle(figure, Buffer.from('png-bytes'));
  assert.deepEqual(Object.keys(bundle.data).sort(), [PLOTLY_MIME, 'image/png', 'text/plain'].sort());
  assert.deepEqual((bundle.data[PLOTLY_MIME] as PlotlyFigure).data, figure.data);
  assert.equal(bundle.data['text/plain'], '<figure: Test loss per epoch — smoke profile: 3 epochs>');
});
