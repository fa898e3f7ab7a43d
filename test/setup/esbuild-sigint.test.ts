import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli';

const WRAPPER = join(REPO_ROOT, 'scripts', 'esbuild-ignoring-sigint.sh');

/**
 * A stand-in kernel in its own process group: it compiles with esbuild (as tsx does for lib/*.ts), is
 * interrupted the way Jupyter interrupts a kernel (SIGINT to the whole group), then compiles again.
 */
function compileAcrossInterrupt(binaryPath: string | undefined): Promise<string> {
  const script = `
    const esbuild = require(${JSON.stringify(join(REPO_ROOT, 'node_modules', 'esbuild'))});
    process.on('SIGINT', () => {});
    (async () => {
      await esbuild.transform('let a: number = 1', { loader: 'ts' });
      process.kill(-process.pid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      try { process.stdout.write((await esbuild.transform('let b: number = 2', { loader: 'ts' })).code.trim()); }
      catch (e) { process.stdout.write('failed: ' + e.message); }
      process.exit(0);
    })();`;
  const env = { ...process.env };
  delete env.ESBUILD_BINARY_PATH;
  if (binaryPath) env.ESBUILD_BINARY_PATH = binaryPath;
  const child = spawn(process.execPath, ['-e', script], { env, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', () => resolve(out)));
}

test("Kernel > Interrupt does not kill the kernel's esbuild service (imports after an interrupt still compile)", async () => {
  assert.equal(await compileAcrossInterrupt(undefined), 'failed: The service is no longer running', 'the failure this guards against');
  assert.equal(await compileAcrossInterrupt(WRAPPER), 'let b = 2;');
  const kernel = JSON.parse(readFileSync(join(REPO_ROOT, '.venv', 'share', 'jupyter', 'kernels', 'iwae-lab', 'kernel.json'), 'utf8'));
  assert.equal(kernel.env.ESBUILD_BINARY_PATH, WRAPPER, 'the project kernel uses it');
});
