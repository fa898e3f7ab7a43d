import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO_ROOT, withoutTensorFlowBanner } from '../helpers/cli';

/**
 * Runs the CLI with stdout a pipe whose reading end is closed before the CLI starts (what `| head` does
 * once it has its lines), so every write the CLI makes hits EPIPE.
 */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'iwae.js'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.destroy();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stderr: withoutTensorFlowBanner(stderr) })));
}

test('a reader that closes the pipe early (`iwae ... | head`) ends the CLI quietly: exit 141, nothing on stderr', async () => {
  // `iwae results | head`, the case users hit: a results directory listing 300 (claimed, untrained) runs.
  const results = mkdtempSync(join(tmpdir(), 'iwae-pipe-'));
  for (let seed = 0; seed < 300; seed++) mkdirSync(join(results, `iwae-k5-he-normal-s${seed}-e80-0123abcd`));
  after(() => rmSync(results, { recursive: true, force: true }));
  for (const args of [['grid', '--list', '--profile', 'paper', '--extras'], ['--help'], ['results', '--results', results]]) {
    const r = await runIntoClosedPipe(args);
    assert.equal(r.stderr.trim(), '', `${args.join(' ')}: no stack trace, no message`);
    assert.equal(r.code, 141, `${args.join(' ')}: the status of a Unix tool stopped by SIGPIPE`);
  }
});
