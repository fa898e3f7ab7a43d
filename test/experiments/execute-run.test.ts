import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig, type RunConfig } from '../../lib/config/run-config';
import { loadMnist, type MnistData } from '../../lib/data/mnist';
import { executeStack, type ExecuteHooks, type ExecuteOptions } from '../../lib/experiments/execute-run';
import { readRunOutcome, runFile, type RunOutcome } from '../../lib/experiments/run-dir';
import { runId } from '../../lib/experiments/run-id';
import { REPO_ROOT } from '../helpers/cli';
import { withoutVolatileFields } from './grid-helpers';

const config = parseRunConfig({
  model: 'iwae',
  k: 5,
  init: 'xavier-normal',
  seed: 3,
  epochs: 1,
  trainSize: 100,
  testSize: 40,
  evaluation: { finalK: 20, finalTestSize: 30 },
});

/** One run through executeStack (a stack of one): its outcome, or its error thrown. */
async function executeRun(run: RunConfig, d: MnistData, dir: string, hooks: ExecuteHooks = {}, options: ExecuteOptions = {}): Promise<RunOutcome> {
  const [result] = await executeStack([run], [dir], d, hooks, options);
  if ('error' in result) throw result.error;
  return result.outcome;
}

test('executeRun resumes at every stage: a kill during the final evaluation redoes only the evaluation', async () => {
  const data = await loadMnist({ cacheDir: resolve(REPO_ROOT, 'data', 'mnist') });
  const dir = mkdtempSync(join(tmpdir(), 'iwae-execute-'));
  try {
    const outcome = await executeRun(config, data, dir);
    assert.equal(outcome.status, 'completed');
    const final = JSON.parse(readFileSync(runFile(dir, 'final'), 'utf8'));
    assert.equal(final.finalK, 20);
    assert.equal(final.testImages, 30);
    assert.ok(Number.isFinite(final.nll) && final.nll > 0);
    // The bound ladder on the same images: -L_1 >= -L_5 >= -L_20 = NLL estimate.
    const ladder = final.negativeBounds as Array<{ k: number; value: number }>;
    assert.deepEqual(ladder.map((b) => b.k), [1, 5, 20]);
    assert.ok(ladder[0].value > ladder[1].value && ladder[1].value > ladder[2].value, JSON.stringify(ladder));
    assert.equal(ladder[2].value, final.nll);
    assert.equal(final.activity.length, 50);
    const checkpointTime = statSync(join(dir, 'checkpoint.bin')).mtimeMs;

    // Killed during the final evaluation: no final.json, no status.json.
    rmSync(runFile(dir, 'final'));
    rmSync(runFile(dir, 'status'));
    let steps = 0;
    let evaluations = 0;
    const redo = await executeRun(config, data, dir, { onStep: () => steps++, onEvaluation: () => evaluations++ });
    assert.equal(redo.status, 'completed');
    assert.equal(steps, 0, 'training is not redone');
    assert.ok(evaluations > 0, 'the evaluation is redone');
    assert.equal(statSync(join(dir, 'checkpoint.bin')).mtimeMs, checkpointTime);
    assert.deepEqual(withoutVolatileFields(JSON.parse(readFileSync(runFile(dir, 'final'), 'utf8'))), withoutVolatileFields(final));

    // Killed between final.json and status.json: only the status is written.
    rmSync(runFile(dir, 'status'));
    evaluations = 0;
    assert.equal((await executeRun(config, data, dir, { onEvaluation: () => evaluations++ })).status, 'completed');
    assert.equal(evaluations, 0);
    assert.equal(readRunOutcome(dir, runId(config))?.status, 'completed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
