import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli';

/** The Slurm array script as Slurm would start task `id` of `--array=min-max` (only listing its runs). */
function slurmTask(id: number, min: number, max: number): string[] {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'slurm-grid.sh'), '--list'], {
    cwd: REPO_ROOT,
    env: { ...process.env, IWAE_PROFILE: 'smoke', SLURM_ARRAY_TASK_ID: String(id), SLURM_ARRAY_TASK_MIN: String(min), SLURM_ARRAY_TASK_MAX: String(max) },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean);
}

test('the Slurm array script splits the grid into disjoint shards that cover it (array 0-2)', () => {
  const all = runCli(['grid', '--profile', 'smoke', '--list']).stdout.trim().split('\n');
  const shards = [0, 1, 2].map((id) => slurmTask(id, 0, 2));
  const union = shards.flat();
  assert.equal(new Set(union).size, union.length, 'no run in two shards');
  assert.deepEqual([...union].sort(), [...all].sort());
  assert.ok(shards.every((s) => s.length > 0));
});

test('the Slurm script outside an array task: one clear line, exit 2', () => {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'slurm-grid.sh')], {
    cwd: REPO_ROOT,
    env: { ...process.env, SLURM_ARRAY_TASK_ID: '' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), /^slurm-grid: not an array task; submit with sbatch --array=1-N/);
});
