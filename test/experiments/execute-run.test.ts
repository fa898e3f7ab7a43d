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
import { readCheckpoint, writeCheckpoint } from '../../lib/training/checkpoint';
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

class Interrupt extends Error {}

test('a run that diverges in a stack gets its outcome at once, while the others train on to theirs', async () => {
  const data = await loadMnist({ cacheDir: resolve(REPO_ROOT, 'data', 'mnist') });
  const root = mkdtempSync(join(tmpdir(), 'iwae-execute-'));
  const configs = [3, 4].map((seed) => parseRunConfig({ ...config, seed, epochs: 2 }));
  const dirs = configs.map((c) => join(root, runId(c)));
  try {
    // Both train their first epoch, then the process is stopped; a NaN poisoned into run 0's checkpoint
    // makes it diverge at the first step of epoch 2 (as a diverging run would).
    await assert.rejects(executeStack(configs, dirs, data, { onEpoch: (_run, m) => { if (m.epoch === 1) throw new Interrupt(); } }), Interrupt);
    const path = join(dirs[0], 'checkpoint.bin');
    const checkpoint = readCheckpoint(path);
    checkpoint.parameters[0] = NaN;
    writeCheckpoint(path, checkpoint);

    const seen: string[] = [];
    const results = await executeStack(configs, dirs, data, {
      onFailure: (run, failure) => {
        assert.equal(run, 0);
        assert.equal(failure.epoch, 2);
        const outcome = readRunOutcome(dirs[0], runId(configs[0]));
        assert.ok(outcome?.status === 'failed', 'status.json is written before the hook');
        assert.deepEqual(outcome.failure, failure);
        seen.push('failed');
      },
      onEpoch: (run, m) => seen.push(`run ${run} epoch ${m.epoch}`),
    });
    assert.deepEqual(seen, ['failed', 'run 1 epoch 2'], 'the outcome came before the other run finished its epoch');
    assert.deepEqual(results.map((r) => 'outcome' in r && r.outcome.status), ['failed', 'completed']);
    assert.equal(readRunOutcome(dirs[0], runId(configs[0]))?.status, 'failed');

    // An earlier attempt that recorded the failure but not the outcome (killed between the two): the
    // failure is reported, its outcome written, as the stack opens.
    rmSync(runFile(dirs[0], 'status'));
    const reported: number[] = [];
    await executeStack(configs, dirs, data, {
      onFailure: (run) => {
        reported.push(run);
        assert.equal(readRunOutcome(dirs[0], runId(configs[0]))?.status, 'failed');
      },
    });
    assert.deepEqual(reported, [0]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
