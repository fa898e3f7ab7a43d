import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gridRuns } from '../../lib/experiments/grids';
import { tryClaimLock } from '../../lib/experiments/lock';
import { PROFILES } from '../../lib/experiments/profiles';
import { runDirPath, runFile, writeRunOutcome } from '../../lib/experiments/run-dir';
import { REPO_ROOT, runCli, withoutTensorFlowBanner } from '../helpers/cli';

const SCRIPT = join(REPO_ROOT, 'scripts', 'slurm-grid.sh');

/** The array as Slurm describes it to each task: `--array=1,3` is min 1, max 3, count 2. */
interface SlurmArray {
  id: number;
  min: number;
  max: number;
  count: number;
}

const contiguous = (id: number, min: number, max: number): SlurmArray => ({ id, min, max, count: max - min + 1 });

/**
 * The environment of a Slurm batch task submitted with `--export=NONE`: nothing of the submitter's
 * environment but a PATH that finds node (and what Slurm itself sets), plus `extra`.
 */
function batchEnv(array: SlurmArray, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: process.env.HOME,
    SLURM_SUBMIT_DIR: REPO_ROOT,
    SLURM_JOB_ID: '77',
    SLURM_ARRAY_TASK_ID: String(array.id),
    SLURM_ARRAY_TASK_MIN: String(array.min),
    SLURM_ARRAY_TASK_MAX: String(array.max),
    SLURM_ARRAY_TASK_COUNT: String(array.count),
    ...extra,
  };
}

function runScript(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync('bash', [SCRIPT, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: withoutTensorFlowBanner(r.stderr).trim() };
}

const SMOKE = ['--profile', 'smoke', '--results', join(tmpdir(), 'iwae-slurm-never-written')];

/** The runs a task lists (the script passes `--list` on to `iwae grid`). */
function slurmTask(array: SlurmArray, args: string[] = []): string[] {
  const r = runScript([...SMOKE, ...args, '--list'], batchEnv(array));
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean);
}

function gridShard(shard: string): string[] {
  return runCli(['grid', '--profile', 'smoke', '--list', '--shard', shard]).stdout.trim().split('\n').filter(Boolean);
}

test('the Slurm array script splits the grid into disjoint shards that cover it (array 0-2)', () => {
  const all = runCli(['grid', '--profile', 'smoke', '--list']).stdout.trim().split('\n');
  const shards = [0, 1, 2].map((id) => slurmTask(contiguous(id, 0, 2)));
  const union = shards.flat();
  assert.equal(new Set(union).size, union.length, 'no run in two shards');
  assert.deepEqual([...union].sort(), [...all].sort());
  assert.ok(shards.every((s) => s.length > 0));
});

test('the Slurm script outside an array task: one clear line, exit 2', () => {
  const r = runScript([], { ...process.env, SLURM_ARRAY_TASK_ID: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^slurm-grid: not an array task; submit with sbatch --array=1-N scripts\/slurm-grid\.sh --profile NAME --results DIR$/);
});

test('an array with gaps (--array=1,3) or a lone resubmitted task (--array=3) is refused unless --shards says the split', () => {
  for (const array of [{ id: 1, min: 1, max: 3, count: 2 }, contiguous(3, 3, 3)]) {
    const r = runScript([...SMOKE, '--list'], batchEnv(array));
    assert.equal(r.code, 2, `${JSON.stringify(array)}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 1);
    assert.match(r.stderr, /^slurm-grid: .*pass the shard count: sbatch --array=.* --shards N/);
  }
  // With the split given, the array ids are shard numbers: each task runs exactly its shard of the split.
  assert.deepEqual(slurmTask({ id: 1, min: 1, max: 3, count: 2 }, ['--shards', '3']), gridShard('1/3'));
  assert.deepEqual(slurmTask({ id: 3, min: 1, max: 3, count: 2 }, ['--shards', '3']), gridShard('3/3'));
  assert.deepEqual(slurmTask(contiguous(3, 3, 3), ['--shards', '4']), gridShard('3/4'));
});

test('--shards N: a task id outside 1..N is refused; the log says which shards the array leaves out', () => {
  const outside = runScript([...SMOKE, '--shards', '2', '--list'], batchEnv(contiguous(3, 1, 3)));
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /^slurm-grid: array task id 3 is not a shard of 1\.\.2 /);
  const part = runScript([...SMOKE, '--shards', '4', '--list'], batchEnv(contiguous(3, 3, 3)));
  assert.equal(part.code, 0, part.stderr);
  assert.match(part.stderr, /shard 3\/4 \(--shards 4; this array has 1 of the 4 shards, the others are not run by it\)/);
});

test('in a batch job without --profile/--results (sbatch --export=NONE dropped them): one line, exit 2, nothing run', () => {
  const r = runScript(['--list'], batchEnv(contiguous(1, 1, 2)));
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '', 'did not fall back to a default grid');
  assert.equal(r.stderr, 'slurm-grid: no profile and no results directory given: pass --profile NAME --results DIR to the script, or set IWAE_PROFILE and IWAE_RESULTS_DIR (sbatch --export=NONE drops the environment)');
  const onlyProfile = runScript(['--list'], batchEnv(contiguous(1, 1, 2), { IWAE_PROFILE: 'smoke' }));
  assert.equal(onlyProfile.code, 2);
  assert.match(onlyProfile.stderr, /^slurm-grid: no results directory given/);
  // As script arguments they survive --export=NONE; the environment still works too.
  assert.deepEqual(slurmTask(contiguous(2, 1, 2)), gridShard('2/2'));
  const fromEnv = runScript(['--list'], batchEnv(contiguous(2, 1, 2), { IWAE_PROFILE: 'smoke', IWAE_RESULTS_DIR: '/tmp/iwae-slurm-never-written' }));
  assert.deepEqual(fromEnv.stdout.trim().split('\n'), gridShard('2/2'));
});

test('task logs go to logs/, a directory the repository ships (sbatch does not create it) and git ignores', () => {
  const output = /^#SBATCH --output=(.+)$/m.exec(readFileSync(SCRIPT, 'utf8'))?.[1];
  assert.ok(output, 'the script sets its log path');
  const log = output.replace('%A', '1234').replace('%a', '7');
  assert.equal(dirname(log), 'logs');
  assert.ok(existsSync(join(REPO_ROOT, 'logs', '.gitkeep')), 'logs/ exists in a fresh clone');
  // The repository's .gitignore, in a scratch repository: the log is ignored, the kept directory is not.
  const scratch = mkdtempSync(join(tmpdir(), 'iwae-gitignore-'));
  try {
    spawnSync('git', ['init', '-q'], { cwd: scratch });
    copyFileSync(join(REPO_ROOT, '.gitignore'), join(scratch, '.gitignore'));
    mkdirSync(join(scratch, 'logs'));
    writeFileSync(join(scratch, log), 'task output\n');
    writeFileSync(join(scratch, 'logs', '.gitkeep'), '');
    const ignored = (path: string) => spawnSync('git', ['check-ignore', '-q', path], { cwd: scratch }).status === 0;
    assert.ok(ignored(log), `${log} is ignored`);
    assert.equal(ignored('logs/.gitkeep'), false);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('recorded NaN failures only: `iwae grid` exits 3; the Slurm task maps that to 0 and says so', () => {
  const results = mkdtempSync(join(tmpdir(), 'iwae-slurm-failed-'));
  try {
    const [only] = gridShard('1/8');
    // A run that ended in NaN, as the grid records it (no training needed to get there): its config, then its outcome.
    mkdirSync(runDirPath(results, only), { recursive: true });
    const run = gridRuns(PROFILES.smoke).find((r) => r.id === only)!;
    writeFileSync(join(runDirPath(results, only), 'config.json'), JSON.stringify(run.config));
    writeRunOutcome(runDirPath(results, only), only, { status: 'failed', failure: { epoch: 1, step: 3, term: 'bound', message: 'non-finite bound at epoch 1, step 3' } });
    const grid = runCli(['grid', '--profile', 'smoke', '--shard', '1/8', '--results', results]);
    assert.equal(grid.code, 3, grid.stderr);
    assert.match(grid.stderr, /^iwae: 1 run failed \(rerun with --retry-failed\)$/m);
    const task = runScript(['--profile', 'smoke', '--results', results, '--shards', '8'], batchEnv(contiguous(1, 1, 8)));
    assert.equal(task.code, 0, task.stderr);
    assert.match(task.stdout, /^failed: iwae-|^failed: vae-/m);
    assert.match(task.stderr, /slurm-grid: task 1 ends with status 0: every run has an outcome; the failed ones above failed numerically \(NaN\/Inf\)/);
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});

test('the Slurm task passes on every status of `iwae grid` but 3 (recorded failures), which becomes 0', () => {
  const fakeBin = mkdtempSync(join(tmpdir(), 'iwae-fake-node-'));
  try {
    // A stand-in for node that exits with $FAKE_STATUS: the script's own handling of the grid's status.
    writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\nexit "$FAKE_STATUS"\n', { mode: 0o755 });
    for (const [status, expected] of [[0, 0], [1, 1], [3, 0], [130, 130]]) {
      const env = batchEnv(contiguous(1, 1, 2), { PATH: `${fakeBin}:/usr/bin:/bin`, FAKE_STATUS: String(status) });
      const r = runScript(SMOKE, env);
      assert.equal(r.code, expected, `grid status ${status}: ${r.stderr}`);
      assert.equal(/ends with status 0: every run has an outcome/.test(r.stderr), status === 3);
    }
  } finally {
    rmSync(fakeBin, { recursive: true, force: true });
  }
});

test('a SIGTERM to the batch shell alone (scancel --batch) reaches the grid, which stops cleanly: exit 143', async () => {
  const results = mkdtempSync(join(tmpdir(), 'iwae-slurm-term-'));
  const [only] = gridShard('1/8');
  mkdirSync(runDirPath(results, only), { recursive: true });
  // This process holds the run, so the task waits on it (deterministically) until it is signalled.
  const claim = tryClaimLock(runFile(runDirPath(results, only), 'lock'));
  assert.ok(claim.claimed);
  try {
    const child = spawn('bash', [SCRIPT, '--profile', 'smoke', '--results', results, '--shards', '8'], {
      cwd: REPO_ROOT,
      env: batchEnv(contiguous(1, 1, 8)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const waiting = new Promise<void>((resolve) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/is held by pid \d+ on this host; waiting for it/.test(stderr)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waiting;
    child.kill('SIGTERM');
    assert.equal(await exited, 143, stderr);
    assert.match(stderr, /iwae: interrupted: 0\/1 runs completed; run the same command to resume/);
    assert.ok(claim.lock.isHeld(), 'the waiting task never touched the held run');
  } finally {
    claim.lock.release();
    rmSync(results, { recursive: true, force: true });
  }
});
