import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gridRuns } from '../../lib/experiments/grids';
import { PROFILE_NAMES, PROFILES, STUDY_INITS, STUDY_SEEDS } from '../../lib/experiments/profiles';

test('the paper profile is the study: 4 inits x 2 models x k in {1,5} x 5 seeds, 80 epochs on all data', () => {
  const runs = gridRuns(PROFILES.paper, { experiment: '1' });
  assert.equal(runs.length, 80);
  const combos = new Set(runs.map((r) => `${r.config.init}/${r.config.model}/${r.config.k}/${r.config.seed}`));
  assert.equal(combos.size, 80);
  for (const run of runs) {
    assert.ok(STUDY_INITS.includes(run.config.init));
    assert.ok(STUDY_SEEDS.includes(run.config.seed));
    assert.equal(run.config.epochs, 80);
    assert.equal(run.config.trainSize, 60_000);
    assert.equal(run.config.testSize, 10_000);
    assert.equal(run.config.evaluation.finalK, 5000);
    assert.equal(run.config.evaluation.finalTestSize, 10_000);
  }
});

test('experiment 2 is the same runs as experiment 1 (shared ids, never trained twice)', () => {
  for (const name of PROFILE_NAMES) {
    const one = gridRuns(PROFILES[name], { experiment: '1' }).map((r) => r.id);
    const two = gridRuns(PROFILES[name], { experiment: '2' }).map((r) => r.id);
    const all = gridRuns(PROFILES[name], { experiment: 'all' });
    assert.ok(two.every((id) => one.includes(id)), `${name}: experiment 2 outside experiment 1`);
    assert.deepEqual(all.map((r) => r.id), one, name);
    assert.ok(all.filter((r) => two.includes(r.id)).every((r) => r.parts.includes('experiment-1') && r.parts.includes('experiment-2')));
  }
});

test('extras add truncated-normal and sampled-KL runs, only when asked', () => {
  const plain = gridRuns(PROFILES.paper);
  const extras = gridRuns(PROFILES.paper, { extras: true });
  assert.ok(plain.every((r) => r.config.init !== 'truncated-normal' && r.config.model !== 'vae-sampled-kl'));
  const added = extras.filter((r) => r.parts.includes('extras'));
  assert.equal(added.filter((r) => r.config.init === 'truncated-normal').length, 20);
  assert.equal(added.filter((r) => r.config.model === 'vae-sampled-kl').length, 20);
  assert.equal(extras.length, 120);
});

test('runs are sorted by id and every profile has a label', () => {
  for (const name of PROFILE_NAMES) {
    const ids = gridRuns(PROFILES[name], { extras: true }).map((r) => r.id);
    assert.deepEqual(ids, [...ids].sort());
    assert.match(PROFILES[name].label, new RegExp(`^${name} profile: `));
  }
  assert.ok(gridRuns(PROFILES.smoke).length <= 8, 'smoke stays small');
});

test("the study's grids ('all', with and without extras) are the runs they were before Experiment 3", () => {
  // sha256 of the newline-joined ids, computed before Experiment 3 and the gradient SNR were added.
  const before = { smoke: '0d6f82b7b2edf87d', quick: '06f0792aaedc6bef', paper: '568381691fcf7c4c' };
  for (const name of PROFILE_NAMES) {
    const ids = gridRuns(PROFILES[name], { extras: true }).map((r) => r.id);
    assert.equal(createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16), before[name], name);
    assert.ok(ids.every((id) => !gridRuns(PROFILES[name], { experiment: '3' }).some((r) => r.id === id)), `${name}: experiment 3 has runs of its own`);
  }
  assert.equal(gridRuns(PROFILES.paper, { extras: true }).length, 120);
});

test('experiment 3: estimators x k x seeds at he-normal, every run measuring the gradient SNR; only when selected', () => {
  const expected = { smoke: 8, quick: 30, paper: 20 };
  for (const name of PROFILE_NAMES) {
    const runs = gridRuns(PROFILES[name], { experiment: '3' });
    assert.equal(runs.length, expected[name], name);
    assert.ok(runs.every((r) => r.parts.length === 1 && r.parts[0] === 'experiment-3'));
    assert.ok(runs.every((r) => r.config.init === 'he-normal' && r.config.k >= 5));
    for (const run of runs) {
      const snr = run.config.evaluation.gradientSnr;
      assert.ok(snr, `${run.id} measures the SNR`);
      assert.equal(snr.epochs.at(-1), run.config.epochs, 'the last epoch is measured');
      assert.equal(snr.images, run.config.batchSize, 'on one training batch');
    }
    assert.ok(gridRuns(PROFILES[name], { extras: true }).every((r) => r.config.evaluation.gradientSnr === undefined), `${name}: the study's runs do not`);
  }
  const paper = gridRuns(PROFILES.paper, { experiment: '3' });
  assert.deepEqual([...new Set(paper.map((r) => r.config.model))].sort(), ['iwae', 'iwae-dreg', 'iwae-stl', 'vae-stl']);
  assert.deepEqual([...new Set(paper.map((r) => r.config.k))], [5]);
  assert.deepEqual([...new Set(paper.map((r) => r.config.seed))].sort((a, b) => a - b), [...STUDY_SEEDS].sort((a, b) => a - b));
  assert.ok(gridRuns(PROFILES.smoke, { experiment: '3' }).length <= 8, 'smoke stays small (the notebooks test trains it)');
});
