import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig } from '../../lib/config/run-config';
import { describeFileSystemError, fileWriteError } from '../../lib/io/fs-errors';
import { readSealedJson, writeSealedJson } from '../../lib/io/sealed-json';
import { REPO_ROOT, runCli, withoutTensorFlowBanner, type CliResult } from '../helpers/cli';

/**
 * What a user sees when the run files' surroundings go wrong: a run being trained twice, a full disk, a
 * read-only or misplaced directory, an impossible k, a bad recorded outcome, a missing subcommand. Each
 * is one `iwae: ...` line and a non-zero exit, with nothing half-written.
 *
 * Full disks and read-only directories are real: a small or read-only tmpfs mounted in a private mount
 * namespace of the command's process (`unshare -m`), so nothing outside it ever sees the mount. Where
 * mounting is not permitted those tests are skipped with that reason; the same mapping is then still
 * covered by the unprivileged cases (a file where a directory should be, /dev/full).
 */

const root = mkdtempSync(join(tmpdir(), 'iwae-faults-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const TINY = ['--model', 'iwae', '--k', '2', '--init', 'he-normal', '--seed', '3', '--train-size', '100', '--test-size', '50'];
const BIN = resolve(REPO_ROOT, 'bin', 'iwae.js');

/** Our lines on stderr (TensorFlow's banner dropped), without the trailing empty line. */
function stderrLines(r: { stderr: string }): string[] {
  return withoutTensorFlowBanner(r.stderr).split('\n').filter((line) => line !== '');
}

function assertOneLine(r: CliResult, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, r.stderr);
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** Every file under `dir`, recursively, with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else entries[path.slice(dir.length + 1)] = `${stat.size}@${stat.mtimeMs}`;
    }
  };
  walk(dir);
  return entries;
}

const tempFilesUnder = (dir: string) => Object.keys(snapshot(dir)).filter((f) => f.endsWith('.tmp'));

interface Spawned {
  child: ChildProcess;
  /** Resolves once stderr has a line matching `pattern`. */
  stderrLine(pattern: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function spawnCli(args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of [...waiters]) {
      if (w.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
    child.on('close', (code, signal) => done({ code, signal, stderr })),
  );
  return {
    child,
    exited,
    stderrLine: (pattern) =>
      new Promise<void>((resolveLine, reject) => {
        if (pattern.test(stderr)) return resolveLine();
        waiters.push({ pattern, resolve: resolveLine });
        void exited.then((r) => reject(new Error(`exited (${r.code ?? r.signal}) before printing ${pattern}:\n${r.stderr}`)));
      }),
  };
}

function metricsEpochs(dir: string): number[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { epoch: number }).epoch);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

// ---- item 7: one training of a run directory at a time ---------------------------------------------

test('a second `iwae train` on a run directory being trained refuses with one line naming the holder and writes nothing', async () => {
  const out = join(root, 'locked');
  const epochs = 30;
  const first = spawnCli(['train', ...TINY, '--epochs', String(epochs), '--out', out]);
  // Stopped (SIGSTOP) mid-training, so it holds its lock for as long as the second train takes.
  await first.stderrLine(/^epoch 1\/30 /m);
  const pid = first.child.pid!;
  process.kill(pid, 'SIGSTOP');
  let second: CliResult;
  let before: Record<string, string>;
  try {
    assert.equal(first.child.exitCode, null, 'the first train is still running');
    assert.ok(existsSync(join(out, 'run.lock')), 'the first train holds the run lock');
    before = snapshot(out);
    second = runCli(['train', ...TINY, '--epochs', String(epochs), '--out', out]);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  assertOneLine(second, new RegExp(`^iwae: .*locked is being trained by pid ${pid}@${hostname()}`));
  assert.equal(second.stdout, '');
  assert.deepEqual(snapshot(out), before, 'the refused train changed nothing');
  const done = await first.exited;
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(metricsEpochs(out), range(epochs), 'every epoch trained once');
  assert.ok(!existsSync(join(out, 'run.lock')), 'the lock is released at the end');
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} stops \`iwae train\` with one line and exit ${code}, releasing its lock; rerunning resumes`, async () => {
    const out = join(root, `signal-${signal}`);
    const epochs = 30;
    const run = spawnCli(['train', ...TINY, '--epochs', String(epochs), '--out', out]);
    await run.stderrLine(/^epoch 1\/30 /m);
    run.child.kill(signal);
    const stopped = await run.exited;
    assert.equal(stopped.code, code, stopped.stderr);
    assert.match(stderrLines(stopped).at(-1)!, new RegExp(`^iwae: interrupted \\(${signal}\\): finished epochs are checkpointed in .*; run the same command to resume$`));
    assert.ok(!existsSync(join(out, 'run.lock')), 'lock released');
    assert.deepEqual(tempFilesUnder(out), []);
    const resumed = runCli(['train', ...TINY, '--epochs', String(epochs), '--out', out]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(metricsEpochs(out), range(epochs));
  });
}

// ---- item 8: sizes that cannot fit in memory ----------------------------------------------------------

test('`iwae train` with a k or batch size whose step cannot fit in memory: one line naming the bound, exit 2, nothing written', () => {
  const out = join(root, 'huge-k');
  const base = ['train', '--model', 'iwae', '--init', 'he-normal', '--seed', '1', '--epochs', '1', '--out', out];
  assertOneLine(runCli([...base, '--k', '1000000000']), /^iwae: invalid run config: k: a training step decodes batchSize 20 x k 1000000000 .* over the 4 GiB budget: at batchSize 20, k must be <= \d+$/, 2);
  assertOneLine(runCli([...base, '--k', '1', '--batch-size', '100000000']), /^iwae: invalid run config: batchSize: .* batchSize must be <= \d+ at k 1$/, 2);
  assertOneLine(runCli([...base, '--k', '5000']), /^iwae: invalid run config: k: a training step .* k must be <= \d+$/, 2);
  assert.ok(!existsSync(out), 'no run directory created');
});

test("the study's settings stay within the memory bound, and its k = 5000 evaluation runs", () => {
  // The paper's largest training k, with the default final evaluation at k = 5000.
  const paper = parseRunConfig({ model: 'iwae', k: 50, init: 'he-normal', seed: 1, epochs: 3280 });
  assert.equal(paper.evaluation.finalK, 5000);
  const out = join(root, 'eval-5000');
  const train = runCli(['train', ...TINY, '--epochs', '1', '--out', out]);
  assert.equal(train.code, 0, train.stderr);
  // `iwae eval` decodes k in chunks of at most 5000 rows, so any k fits; 5000 on two images is quick.
  const evaluation = runCli(['eval', '--run', out, '--k', '1,5000', '--test-size', '2', '--json']);
  assert.equal(evaluation.code, 0, evaluation.stderr);
  assert.ok(Number.isFinite(JSON.parse(evaluation.stdout).bounds['5000']));
});

// ---- item 8: file-system errors as one line ------------------------------------------------------------

test('a file-system error names the file and its cause in one line (a real ENOSPC from /dev/full)', () => {
  let enospc: unknown;
  const fd = openSync('/dev/full', 'w');
  try {
    writeSync(fd, Buffer.alloc(16));
  } catch (err) {
    enospc = err;
  } finally {
    closeSync(fd);
  }
  assert.equal((enospc as NodeJS.ErrnoException).code, 'ENOSPC', 'writing /dev/full fails with ENOSPC');
  assert.equal(describeFileSystemError(fileWriteError(enospc, '/runs/r/checkpoint.bin')), 'cannot write /runs/r/checkpoint.bin: no space left on device (ENOSPC)');
  assert.equal(describeFileSystemError(new Error('not a file-system error')), null);
});

/** A regular file, to put where a directory should be (ENOTDIR / EEXIST, even for root). */
function regularFile(name: string): string {
  const path = join(root, name);
  writeFileSync(path, 'not a directory\n');
  return path;
}

test('`iwae train --out` under a regular file: one line, exit 1, the file untouched', () => {
  const file = regularFile('out-file');
  assertOneLine(runCli(['train', ...TINY, '--epochs', '1', '--out', join(file, 'run')]), /^iwae: cannot create directory .*out-file\/run: a part of the path is a file, not a directory \(ENOTDIR\)$/);
  assertOneLine(runCli(['train', ...TINY, '--epochs', '1', '--out', file]), /^iwae: cannot create directory .*out-file: a file of that name is in the way \(EEXIST\)$/);
  assert.equal(readFileSync(file, 'utf8'), 'not a directory\n');
});

test('`iwae grid --results` on or under a regular file: one line before any worker starts, exit 1', () => {
  const file = regularFile('results-file');
  const grid = ['grid', '--profile', 'smoke', '--shard', '1/8', '--workers', '1'];
  assertOneLine(runCli([...grid, '--results', file]), /^iwae: cannot create directory .*results-file: a file of that name is in the way \(EEXIST\)$/);
  assertOneLine(runCli([...grid, '--results', join(file, 'runs')]), /^iwae: cannot create directory .*results-file\/runs: a part of the path is a file, not a directory \(ENOTDIR\)$/);
});

/** A results directory with one completed smoke run (about 3 s), for report and --retry-failed. */
let smokeResults: string | null = null;
function oneRunResults(): string {
  if (smokeResults) return smokeResults;
  const dir = join(root, 'smoke-runs');
  const r = runCli(['grid', '--profile', 'smoke', '--shard', '1/8', '--workers', '1', '--results', dir]);
  assert.equal(r.code, 0, r.stderr);
  smokeResults = dir;
  return dir;
}

test('`iwae report --figures` naming an existing file (or a path under one): one line, exit 1, before any work', () => {
  const results = oneRunResults();
  const file = regularFile('figures-file');
  assertOneLine(runCli(['report', '--results', results, '--figures', file]), /^iwae: cannot create directory .*figures-file: a file of that name is in the way \(EEXIST\)$/);
  assertOneLine(runCli(['report', '--results', results, '--figures', join(file, 'sub')]), /^iwae: cannot create directory .*figures-file\/sub: a part of the path is a file, not a directory \(ENOTDIR\)$/);
});

// ---- item 8: full disks and read-only directories (real mounts, in a private mount namespace) --------

/**
 * Runs `iwae args` with a tmpfs (`options`: 'size=1m', 'ro') mounted at `dir` in a private mount
 * namespace: only that process sees it, and it is gone with it. `filesLeft`: what was on the tmpfs after
 * the command (listed inside the namespace).
 */
function runCliOnTmpfs(dir: string, options: string, args: string[]): CliResult & { filesLeft: string[] } {
  mkdirSync(dir, { recursive: true });
  const script = 'mount -t tmpfs -o "$1" iwae-test "$2" || exit 99; dir=$2; shift 2; "$@"; code=$?; echo ---; find "$dir" -type f; exit $code';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', options, dir, process.execPath, BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  const [stdout, listing = ''] = r.stdout.split('---\n');
  return { code: r.status, stdout, stderr: withoutTensorFlowBanner(r.stderr), filesLeft: listing.split('\n').filter(Boolean).sort() };
}

/** Whether this process may mount a tmpfs in a private mount namespace (root with CAP_SYS_ADMIN). */
function canMountTmpfs(): boolean {
  const dir = mkdtempSync(join(root, 'probe-'));
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=64k iwae-test "$1"', 'sh', dir], { stdio: 'ignore' });
  return r.status === 0;
}
const mountSkip = canMountTmpfs() ? false : 'mounting a tmpfs in a private mount namespace is not permitted here (needs root with CAP_SYS_ADMIN)';

test('`iwae train` on a full disk: one line naming the checkpoint, exit 1, no temp or lock left', { skip: mountSkip }, () => {
  const disk = join(root, 'full-train');
  const out = join(disk, 'run');
  // 1 MiB: config, metrics and TensorBoard events fit; the first checkpoint (~5 MB) does not.
  const r = runCliOnTmpfs(disk, 'size=1m', ['train', ...TINY, '--epochs', '2', '--out', out]);
  assertOneLine(r, new RegExp(`^iwae: cannot write ${out}/checkpoint.bin: no space left on device \\(ENOSPC\\)$`));
  assert.ok(r.filesLeft.includes(join(out, 'config.json')), r.filesLeft.join('\n'));
  assert.deepEqual(r.filesLeft.filter((f) => f.endsWith('.tmp') || f.endsWith('run.lock') || f.endsWith('checkpoint.bin')), []);
});

test('`iwae train --out` on a read-only file system: one line, exit 1', { skip: mountSkip }, () => {
  const disk = join(root, 'ro-train');
  assertOneLine(runCliOnTmpfs(disk, 'ro', ['train', ...TINY, '--epochs', '1', '--out', disk]), new RegExp(`^iwae: cannot write ${disk}/run.lock: read-only file system \\(EROFS\\)$`));
  // Node's recursive mkdir says ENOENT here; the message gives the real cause.
  assertOneLine(runCliOnTmpfs(disk, 'ro', ['train', ...TINY, '--epochs', '1', '--out', join(disk, 'a', 'run')]), new RegExp(`^iwae: cannot create directory ${disk}/a: read-only file system \\(EROFS\\)$`));
});

test('`iwae grid --results` on a read-only file system: one line from the parent, no worker errors, exit 1', { skip: mountSkip }, () => {
  const disk = join(root, 'ro-grid');
  const r = runCliOnTmpfs(disk, 'ro', ['grid', '--profile', 'smoke', '--shard', '1/8', '--workers', '1', '--results', disk]);
  assertOneLine(r, new RegExp(`^iwae: cannot write ${disk}: read-only file system \\(EROFS\\)$`));
  assert.doesNotMatch(r.stderr + r.stdout, /ENOENT/);
});

test('`iwae report --figures` on a read-only file system and on a full disk: one line, exit 1, no temp left', { skip: mountSkip }, () => {
  const results = oneRunResults();
  const readOnly = join(root, 'ro-figures');
  assertOneLine(runCliOnTmpfs(readOnly, 'ro', ['report', '--results', results, '--figures', readOnly]), new RegExp(`^iwae: cannot write ${readOnly}: read-only file system \\(EROFS\\)$`));
  const full = join(root, 'full-figures');
  // 200 KiB: the report's tables and first figures fit, the rest (~600 KB in all) does not.
  const r = runCliOnTmpfs(full, 'size=200k', ['report', '--results', results, '--figures', full]);
  assert.equal(r.code, 1, r.stderr);
  const lines = stderrLines(r);
  assert.match(lines.at(-1)!, new RegExp(`^iwae: cannot write ${full}/\\S+: no space left on device \\(ENOSPC\\)$`));
  assert.ok(lines.slice(0, -1).every((line) => line.startsWith('report: ')), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.ok(r.filesLeft.length > 0, 'some figures fit before the disk was full');
  assert.deepEqual(r.filesLeft.filter((f) => f.endsWith('.tmp')), []);
});

// ---- item 8: a recorded failure without its diagnostic --------------------------------------------------

test('`iwae grid --retry-failed` (and without it) on a status.json that says failed without a failure: one line, no crash', () => {
  const results = oneRunResults(); // the last test to use it
  const [id] = readdirSync(results);
  const statusPath = join(results, id, 'status.json');
  const completed = readSealedJson<Record<string, unknown>>(statusPath)!;
  const { finalSha256: _final, ...common } = completed;
  // Sealed correctly (as a buggy writer would), so only its shape is wrong.
  const cases = [
    ['no failure', undefined, ['--retry-failed']],
    ['a malformed failure', 'oops', ['--retry-failed']],
    ['no failure', undefined, []],
  ] as const;
  for (const [what, failure, retry] of cases) {
    writeSealedJson(statusPath, { ...common, status: 'failed', ...(failure !== undefined && { failure }), finishedTime: '2000-01-01T00:00:00.000Z' });
    const r = runCli(['grid', '--profile', 'smoke', '--shard', '1/8', '--workers', '1', '--results', results, ...retry]);
    assert.equal(r.code, 0, `${what} ${retry.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|TypeError|\n\s+at /, r.stderr);
    const flagged = stderrLines(r).filter((line) => line.includes('status.json'));
    assert.equal(flagged.length, 1, r.stderr);
    assert.match(flagged[0], /status 'failed' without a valid failure diagnostic/);
    // Rebuilt from the run's own files: the run completed, so it is completed again.
    assert.equal(readSealedJson<{ status: string }>(statusPath)!.status, 'completed');
  }
});

// ---- item 10: no subcommand, --no-verify ----------------------------------------------------------------

test('`iwae` and `iwae data` without a subcommand print their help on stderr and exit 2', () => {
  for (const args of [[], ['data']]) {
    const r = runCli(args);
    assert.equal(r.code, 2, `iwae ${args.join(' ')}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^Usage: iwae${args.length ? ` ${args[0]}` : ''} \\[options\\] \\[command\\]`));
    assert.match(r.stderr, /Commands:/);
  }
  // Asking for help is not an error.
  for (const args of [['help'], ['--help'], ['data', '--help']]) {
    const r = runCli(args);
    assert.equal(r.code, 0, `iwae ${args.join(' ')}`);
    assert.match(r.stdout, /^Usage: iwae/);
  }
});

test('README offers --no-verify only where it exists (`iwae data`); the training commands refuse it with one line', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const mentions = readme.split('\n').filter((line) => line.includes('--no-verify'));
  assert.ok(mentions.length > 0);
  for (const line of mentions) assert.match(line, /iwae data/, `README line offers --no-verify beyond \`iwae data\`: ${line}`);
  const info = runCli(['data', 'info', '--no-verify', '--json']);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(JSON.parse(info.stdout).checksumsVerified, false);
  assertOneLine(runCli(['train', ...TINY, '--epochs', '1', '--out', join(root, 'nv'), '--no-verify']), /^iwae: unknown option '--no-verify'$/, 2);
});
