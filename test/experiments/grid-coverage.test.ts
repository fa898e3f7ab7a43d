import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverageSentence, gridCoverage } from '../../lib/experiments/grid-coverage';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILES } from '../../lib/experiments/profiles';
import type { RunRecord } from '../../lib/experiments/results';

const runs = gridRuns(PROFILES.paper, { extras: true });
const record = (id: string, status: RunRecord['status']): RunRecord => ({ id, dir: `/r/${id}`, config: null, status, epochs: [], final: null });

test('grid coverage counts outcomes per setting; running, resumable and damaged runs are missing', () => {
  const iwaeK1He = runs.filter((r) => r.config.model === 'iwae' && r.config.k === 1 && r.config.init === 'he-normal');
  const truncated = runs.filter((r) => r.config.model === 'iwae' && r.config.k === 1 && r.config.init === 'truncated-normal');
  assert.equal(iwaeK1He.length, 5);
  const records = [
    ...iwaeK1He.slice(0, 3).map((r) => record(r.id, 'completed')),
    record(iwaeK1He[3].id, 'running'),
    record(iwaeK1He[4].id, 'corrupt'),
    ...truncated.map((r) => record(r.id, 'failed')),
    record('iwae-k5-he-normal-s1-e1-00000000', 'completed'), // not of this grid: ignored
  ];
  const coverage = gridCoverage(runs, records);
  assert.deepEqual({ total: coverage.total, completed: coverage.completed, failed: coverage.failed, missing: coverage.missing }, { total: 120, completed: 3, failed: 5, missing: 112 });
  assert.equal(coverage.settings.length, 24);
  assert.deepEqual(coverage.settings.find((r) => r.model === 'iwae' && r.k === 1 && r.init === 'he-normal'), { model: 'iwae', k: 1, init: 'he-normal', runs: 5, completed: 3, failed: 0, missing: 2 });
  const sentence = coverageSentence(coverage, 'paper', 'iwae grid --profile paper');
  assert.match(sentence, /^8 of 120 runs of the paper grid have finished \(3 completed, 5 diverged\); 112 are missing, in 23 settings: iwae k=1 he-normal \(2\), /);
  assert.match(sentence, /\(2 of 24 settings have some\)/);
  assert.match(coverageSentence(gridCoverage(runs, [record(iwaeK1He[0].id, 'completed')]), 'paper', 'x'), /\(1 of 24 settings has some\)/);
  assert.match(sentence, /To train the missing runs: iwae grid --profile paper\.$/);
  assert.match(coverageSentence(gridCoverage(runs, runs.map((r) => record(r.id, 'completed'))), 'paper', 'x'), /^120 of 120 runs .*: the grid is complete\.$/);
});
