import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli';

// scripts/setup.sh rebuilds a .venv whose scripts were made for another path (a moved or copied
// repository would otherwise run the original's jupyter, kernel and data). The detection is
// scripts/venv-location.sh, sourced by setup; here it runs on fake venvs in a scratch directory.
const scratch = mkdtempSync(join(tmpdir(), 'iwae-venv-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** `venv_foreign_reason VENV` as setup runs it: the reason printed, or null when the venv is usable. */
function foreignReason(venv: string): string | null {
  const result = spawnSync('bash', ['-c', 'set -euo pipefail; source "$1"; if reason="$(venv_foreign_reason "$2")"; then echo "$reason"; else echo OK; fi', 'bash', join(REPO_ROOT, 'scripts', 'venv-location.sh'), venv], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const out = result.stdout.trim();
  return out === 'OK' ? null : out;
}

/** A venv at `repo/.venv` whose bin/jupyter starts with `header`. */
function fakeVenv(repo: string, header: string): string {
  const venv = join(repo, '.venv');
  mkdirSync(join(venv, 'bin'), { recursive: true });
  writeFileSync(join(venv, 'bin', 'jupyter'), `${header}\n# -*- coding: utf-8 -*-\nimport sys\n`);
  return venv;
}

test('a venv whose scripts run its own python is kept, also behind a symlink or in a path with spaces', () => {
  const repo = join(scratch, 'repo');
  assert.equal(foreignReason(fakeVenv(repo, `#!${repo}/.venv/bin/python`)), null);
  symlinkSync(repo, join(scratch, 'link'));
  assert.equal(foreignReason(join(scratch, 'link', '.venv')), null, 'the same venv reached through a symlink');
  // pip's form for a long path or one with spaces: a sh header that execs the interpreter.
  const spaced = join(scratch, 'my repo');
  const venv = fakeVenv(spaced, `#!/bin/sh\n'''exec' "${spaced}/.venv/bin/python" "$0" "$@"\n' '''`);
  assert.equal(foreignReason(venv), null);
});

test('a copied repository’s venv (scripts naming the original’s python) is rebuilt, with the reason', () => {
  // The real .venv's jupyter, copied as `cp -a` of the repository would copy it.
  const copy = join(scratch, 'copy');
  mkdirSync(join(copy, '.venv', 'bin'), { recursive: true });
  copyFileSync(join(REPO_ROOT, '.venv', 'bin', 'jupyter'), join(copy, '.venv', 'bin', 'jupyter'));
  const original = readFileSync(join(REPO_ROOT, '.venv', 'bin', 'jupyter'), 'utf8').split('\n')[0].slice(2);
  assert.equal(foreignReason(join(copy, '.venv')), `its scripts run ${original}, made for another path`);
  // The sh-header form pointing elsewhere, and a venv moved away from a path that no longer exists.
  const moved = fakeVenv(join(scratch, 'moved'), `#!/bin/sh\n'''exec' "/gone/old repo/.venv/bin/python" "$0" "$@"\n' '''`);
  assert.match(foreignReason(moved) ?? '', /scripts run \/gone\/old repo\/\.venv\/bin\/python, made for another path/);
});

test('a half-built venv (no bin/jupyter) is rebuilt; no venv at all is left to the normal install', () => {
  const broken = join(scratch, 'broken', '.venv');
  mkdirSync(join(broken, 'bin'), { recursive: true });
  assert.match(foreignReason(broken) ?? '', /no bin\/jupyter/);
  assert.equal(foreignReason(join(scratch, 'none', '.venv')), null);
});
