// The stacked trainer (issue 14): runs trained together as one batched model give, run for run, exactly
// the numbers and files of each run trained alone; one run's failure leaves the others' numbers as they
// were; a grid of stacks killed mid-training and rerun ends with the results of an uninterrupted grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../lib/config/run-config';
import { readCheckpoint } from '../../lib/training/checkpoint';
import { readMetricsFile, runFiles } from '../../lib/training/run-dir';
import { trainRun, trainStack, type EpochMetrics } from '../../lib/training/train';
import { EXIT_RUNS_FAILED } from '../../lib/cli/commands/grid';
import { groupGone, killGroup, spawnGrid } from '../experiments/grid-helpers';
import { mnistData } from '../helpers/mnist';
import { runCli } from '../helpers/cli';

const data = mnistData;

/**
 * Tiny but real: 10 steps per epoch on real MNIST, the default (study) network, so that the
 * truncated-normal init (std 1) diverges as it does at paper scale.
 */
const config = (extra: Partial<RunConfigInput> = {}): RunConfig =>
  parseRunConfig({
    model: 'iwae',
    k: 3,
    init: 'xavier-uniform',
    seed: 11,
    epochs: 2,
    trainSize: 200,
    testSize: 50,
    evaluation: { finalK: 10, finalTestSize: 30 },
    ...extra,
  });

const root = mkdtempSync(join(tmpdir(), 'iwae-stack-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const withoutSeconds = (epochs: EpochMetrics[]) => epochs.map(({ seconds, ...rest }) => (assert.ok(seconds >= 0), rest));

/** A run directory's metrics.jsonl (not the returned results: the files are what every reader uses), without wall time. */
const metricsOf = (dir: string) => {
  const { epochs, tornLastLine } = readMetricsFile(dir);
  assert.equal(tornLastLine, false, `${dir}: torn metrics.jsonl`);
  return withoutSeconds(epochs);
};

/** A run directory's final weights and optimizer state, from its checkpoint. */
const stateOf = (dir: string) => {
  const c = readCheckpoint(runFiles(dir).checkpoint);
  return { epoch: c.epoch, parameters: Array.from(c.parameters), m: Array.from(c.adam.m), v: Array.from(c.adam.v), step: c.adam.step };
};

test('a stack of 3 runs (different seeds and inits) gives each run the metrics and checkpoint of that run trained alone', async () => {
  const mnist = await data();
  const runs = [config({ seed: 1, init: 'xavier-uniform' }), config({ seed: 2, init: 'he-normal' }), config({ seed: 3, init: 'xavier-normal' })];
  const stackDirs = runs.map((_, i) => join(root, 'together', `run-${i}`));
  const tensors = tf.memory().numTensors;
  const epochCalls: Array<[number, number]> = [];
  const stacked = await trainStack(runs.map((c, i) => ({ config: c, runDir: stackDirs[i] })), mnist, { onEpoch: (r, m) => epochCalls.push([r, m.epoch]) });
  assert.equal(tf.memory().numTensors, tensors, 'a stack frees its tensors');
  assert.deepEqual(stacked.map((r) => r.status), ['completed', 'completed', 'completed']);
  assert.deepEqual(epochCalls.sort(), [[0, 1], [0, 2], [1, 1], [1, 2], [2, 1], [2, 2]]);

  for (const [i, run] of runs.entries()) {
    const aloneDir = join(root, 'alone', `run-${i}`);
    const alone = await trainRun(run, mnist, aloneDir);
    assert.equal(alone.status, 'completed');
    assert.equal(metricsOf(stackDirs[i]).length, 2);
    assert.deepEqual(metricsOf(stackDirs[i]), metricsOf(aloneDir), `run ${i}: metrics.jsonl of the stack = alone`);
    assert.deepEqual(stateOf(stackDirs[i]), stateOf(aloneDir), `run ${i}: checkpoint of the stack = alone`);
    assert.deepEqual(JSON.parse(readFileSync(runFiles(stackDirs[i]).config, 'utf8')), run);
  }
  // The runs really are different runs (a stack that mixed them up could not pass the above by accident).
  const losses = stackDirs.map((d) => metricsOf(d)[1].testLoss);
  assert.equal(new Set(losses).size, 3, `test losses ${losses}`);
});

test('one run of a stack diverging fails alone (failure.json); the others complete with the numbers of a stack without it', async () => {
  const mnist = await data();
  // Differs from the others only in seed and init: PyTorch's truncated normal (std 1) blows up.
  const diverging = config({ seed: 1, init: 'truncated-normal' });
  const others = [config({ seed: 2, init: 'he-normal' }), config({ seed: 3, init: 'xavier-uniform' })];
  const runs = [others[0], diverging, others[1]];

  // The divergence, trained alone: after a good first epoch (so the run leaves a stack mid-training).
  const aloneDir = join(root, 'diverging-alone');
  const alone = await trainRun(diverging, mnist, aloneDir);
  assert.equal(alone.status, 'failed', 'precondition: this run diverges');
  assert.equal(alone.failure?.epoch, 2, `precondition: it fails in epoch 2 (${alone.failure?.message})`);

  const dirs = runs.map((_, i) => join(root, 'with-failure', `run-${i}`));
  const tensors = tf.memory().numTensors;
  const results = await trainStack(runs.map((c, i) => ({ config: c, runDir: dirs[i] })), mnist);
  assert.equal(tf.memory().numTensors, tensors, 'a stack that loses a run frees its tensors');
  assert.deepEqual(results.map((r) => r.status), ['completed', 'failed', 'completed']);
  const failed = results[1];
  assert.ok(failed.status === 'failed');
  assert.deepEqual(failed.failure, alone.failure, 'the same failure as the run alone');
  assert.ok(existsSync(runFiles(dirs[1]).failure), 'failure.json written');
  assert.deepEqual(metricsOf(dirs[1]), metricsOf(aloneDir), "the failed run's good epoch, as alone");
  assert.equal(stateOf(dirs[1]).epoch, 1, 'its last good checkpoint kept');
  assert.deepEqual(stateOf(dirs[1]), stateOf(aloneDir));
  for (const i of [0, 2]) assert.equal(existsSync(runFiles(dirs[i]).failure), false);

  const withoutDirs = others.map((_, i) => join(root, 'without-failure', `run-${i}`));
  const without = await trainStack(others.map((c, i) => ({ config: c, runDir: withoutDirs[i] })), mnist);
  assert.deepEqual(without.map((r) => r.status), ['completed', 'completed']);
  for (const [o, i] of [[0, 0], [1, 2]]) {
    assert.equal(metricsOf(dirs[i]).length, 2);
    assert.deepEqual(metricsOf(dirs[i]), metricsOf(withoutDirs[o]), `run ${i}: metrics as without the failing run`);
    assert.deepEqual(stateOf(dirs[i]), stateOf(withoutDirs[o]), `run ${i}: checkpoint as without the failing run`);
  }

  // Rerun: the recorded failure and the finished runs return at once.
  const again = await trainStack(runs.map((c, i) => ({ config: c, runDir: dirs[i] })), mnist, { onStep: () => assert.fail('trained again') });
  assert.deepEqual(again.map((r) => r.status), ['completed', 'failed', 'completed']);
});

// The smoke grid with its extras has 4 runs of each shape (he-normal and truncated-normal, 2 seeds), so
// --stack-size 3 trains stacks of 3 (some with a diverging truncated-normal run) and a stack of 1.
const GRID_ARGS = ['--profile', 'smoke', '--extras', '--stack-size', '3', '--workers', '2'];
/** The first run of the grid (by id): the first run of a stack of 3. */
const WATCHED = 'iwae-k1-he-normal-s135-e2-';

function runDirs(results: string): string[] {
  return readdirSync(results).filter((name) => existsSync(join(results, name, 'config.json'))).sort();
}

/** What a run leaves that must not depend on a kill: metrics.jsonl (without wall time), its status and final NLL. */
function runNumbers(results: string, id: string) {
  const dir = join(results, id);
  const final = existsSync(join(dir, 'final.json')) ? JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8')) : null;
  const status = existsSync(join(dir, 'status.json')) ? JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')).status : null;
  const failure = existsSync(runFiles(dir).failure) ? JSON.parse(readFileSync(runFiles(dir).failure, 'utf8')).message ?? true : null;
  return { metrics: metricsOf(dir), status, nll: final?.nll ?? null, failure };
}

test('a grid of stacks SIGKILLed mid-training and rerun ends with the metrics and NLLs of an uninterrupted grid', { timeout: 120_000 }, async (t) => {
  const reference = join(root, 'grid-reference');
  const killed = join(root, 'grid-killed');
  const clean = await spawnGrid([...GRID_ARGS, '--results', reference]).exited;
  // Every run has an outcome; the truncated-normal runs that diverge are recorded failures.
  assert.equal(clean.code, EXIT_RUNS_FAILED, clean.stderr);
  assert.match(clean.stdout + clean.stderr, /stack of 3 \(/, 'the grid trains stacks of 3');

  const grid = spawnGrid([...GRID_ARGS, '--results', killed]);
  let watched: string | null = null;
  // Kill the moment the watched run has finished epoch 1 of 2 (checkpoint written, then its metrics line).
  const timer = setInterval(() => {
    if (!existsSync(killed)) return;
    const id = readdirSync(killed).find((name) => name.startsWith(WATCHED));
    if (!id) return;
    const dir = join(killed, id);
    if (!existsSync(join(dir, 'status.json')) && existsSync(runFiles(dir).metrics) && readFileSync(runFiles(dir).metrics, 'utf8').split('\n').length === 2) {
      watched = id;
      killGroup(grid);
      clearInterval(timer);
    }
  }, 5);
  const r = await grid.exited;
  clearInterval(timer);
  await groupGone(grid.child.pid!);
  assert.equal(r.signal, 'SIGKILL', `expected a kill, got code ${r.code}: ${r.stderr}`);
  assert.ok(watched);
  assert.match(r.stdout + r.stderr, new RegExp(`stack of 3 \\(${watched}`), 'the killed run was training in a stack of 3');
  // The kill races the stack (an epoch here takes ~0.1 s): it lands after epoch 1's files, usually
  // before epoch 2's checkpoint, sometimes during the final evaluation; never after the run's outcome.
  const cut = readCheckpoint(runFiles(join(killed, watched)).checkpoint);
  assert.ok(cut.epoch >= 1, 'killed after its first checkpoint');
  assert.equal(existsSync(join(killed, watched, 'status.json')), false, 'killed before its outcome');
  t.diagnostic(`killed at epoch ${cut.epoch} of 2, with ${runDirs(killed).filter((id) => !existsSync(join(killed, id, 'status.json'))).length} runs without an outcome`);

  const rerun = await spawnGrid([...GRID_ARGS, '--results', killed]).exited;
  assert.equal(rerun.code, clean.code, rerun.stderr);
  const ids = runDirs(reference);
  assert.equal(ids.length, 18);
  assert.deepEqual(runDirs(killed), ids);
  const attempts = readFileSync(join(killed, watched, 'attempts.jsonl'), 'utf8').trim().split('\n').length;
  assert.ok(attempts > 1, `the watched run was resumed (attempts ${attempts})`);
  for (const id of ids) {
    assert.equal(existsSync(join(killed, id, 'run.lock')), false, `${id}: lock left behind`);
    assert.deepEqual(runNumbers(killed, id), runNumbers(reference, id), `${id}: as in the uninterrupted grid`);
  }
  const statuses = ids.map((id) => runNumbers(reference, id).status);
  assert.ok(statuses.includes('completed') && statuses.includes('failed') && statuses.every((s) => s === 'completed' || s === 'failed'), statuses.join(', '));
  for (const id of ids) if (runNumbers(reference, id).status === 'completed') assert.ok(Number.isFinite(runNumbers(reference, id).nll), id);
});

test('`iwae eval --k finalK` on the final images gives exactly final.json of a run evaluated in a stack', async () => {
  const results = join(root, 'grid-eval');
  // The smoke grid trains stacks of 2 (its 2 seeds of each model and k) by default.
  const grid = await spawnGrid(['--profile', 'smoke', '--results', results]).exited;
  assert.equal(grid.code, 0, grid.stderr);
  assert.match(grid.stdout + grid.stderr, /stack of 2 \(/, 'the grid evaluated stacks of 2');
  for (const id of runDirs(results).filter((name) => name.startsWith('iwae-k5-'))) {
    const dir = join(results, id);
    const final = JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8'));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfig;
    // `iwae eval` runs with TensorFlow's default pools (every core); the grid's workers with one thread.
    const evaluated = runCli(['eval', '--run', dir, '--k', `1,${config.k},${config.evaluation.finalK}`, '--test-size', String(config.evaluation.finalTestSize), '--json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout);
    assert.equal(report.nll, final.nll, `${id}: NLL`);
    assert.deepEqual(Object.values(report.bounds).map((b) => -(b as number)), final.negativeBounds.map((b: { value: number }) => b.value), `${id}: the bound ladder`);
    assert.equal(report.activeUnits, final.activeUnits, `${id}: active units`);
  }
});
