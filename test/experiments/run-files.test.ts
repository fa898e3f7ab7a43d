// Fault injection on a finished run's files: each damage is detected (one line naming the file), repaired
// from the checkpoint where the checkpoint holds the truth, and never turned into different numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../lib/config/run-config';
import { executeStack, type ExecuteHooks, type ExecuteOptions } from '../../lib/experiments/execute-run';
import { runGrid } from '../../lib/experiments/grid-runner';
import { readResults, readRunRecord, scaleGroups, type RunRecord } from '../../lib/experiments/results';
import { readRunOutcome, runFile, type RunOutcome } from '../../lib/experiments/run-dir';
import { runId } from '../../lib/experiments/run-id';
import { PROFILES } from '../../lib/experiments/profiles';
import { createStream } from '../../lib/random/streams';
import { CheckpointError } from '../../lib/training/checkpoint';
import { readRunCheckpoint, runFiles } from '../../lib/training/run-dir';
import { trainRun } from '../../lib/training/train';
import { runCli } from '../helpers/cli';
import { withoutVolatileFields } from './grid-helpers';
import type { MnistData } from '../../lib/data/mnist';
import { MNIST_CACHE, mnistData } from '../helpers/mnist';

const data = mnistData;

/** A small but real run: 5 steps per epoch on real MNIST, a narrow network, a real final L_k. */
const config = (extra: Partial<RunConfigInput> = {}): RunConfig =>
  parseRunConfig({
    model: 'iwae',
    k: 3,
    init: 'he-normal',
    seed: 1,
    epochs: 2,
    trainSize: 100,
    testSize: 40,
    architecture: { hidden: [40, 30], latent: 8 },
    evaluation: { finalK: 10, finalTestSize: 30 },
    ...extra,
  });

const root = mkdtempSync(join(tmpdir(), 'iwae-run-files-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

/** One run through executeStack (a stack of one): its outcome, or its error thrown. */
async function executeRun(run: RunConfig, d: MnistData, dir: string, hooks: ExecuteHooks = {}, options: ExecuteOptions = {}): Promise<RunOutcome> {
  const [result] = await executeStack([run], [dir], d, hooks, options);
  if ('error' in result) throw result.error;
  return result.outcome;
}

/** Finished runs made once, copied for each damage: `results/<id>/`. */
const finished = new Map<string, Promise<string>>();
function finishedRun(run: RunConfig): Promise<string> {
  const id = runId(run);
  if (!finished.has(id)) {
    finished.set(
      id,
      data().then(async (d) => {
        const dir = join(root, 'originals', id);
        assert.equal((await executeRun(run, d, dir)).status, 'completed');
        return dir;
      }),
    );
  }
  return finished.get(id)!;
}

let copies = 0;
/** A results directory holding fresh copies of the given finished runs. */
async function resultsWith(...runs: RunConfig[]): Promise<string> {
  const results = join(root, `results-${++copies}`);
  for (const run of runs) cpSync(await finishedRun(run), join(results, runId(run)), { recursive: true });
  return results;
}

/** The numbers a run's record carries (what every analysis reads). */
function numbers(record: RunRecord) {
  return { status: record.status, config: record.config, epochs: withoutVolatileFields(record.epochs), final: withoutVolatileFields(record.final) };
}

const seedOne = config();
const seedTwo = config({ seed: 2 });

test('a damaged checkpoint is "corrupt checkpoint" naming the file; the run stops, or restarts from scratch when asked, never resumes', async () => {
  const results = await resultsWith(seedOne);
  const dir = join(results, runId(seedOne));
  const checkpointPath = runFiles(dir).checkpoint;
  const bytes = readFileSync(checkpointPath);
  // One weight made NaN, the file's length unchanged: as a flipped disk sector would.
  bytes.writeFloatLE(NaN, bytes.length - 1000);
  writeFileSync(checkpointPath, bytes);
  const longer = { ...seedOne, epochs: 3 };
  await assert.rejects(trainRun(longer, await data(), dir), (err: unknown) => err instanceof CheckpointError && err.message === `${checkpointPath}: corrupt checkpoint: its checksum does not match (damaged or truncated)`);
  assert.ok(readFileSync(checkpointPath).equals(bytes), 'nothing changed');
  // Restart from scratch: the numbers of a run trained from nothing, the bad file kept beside.
  const restarted = await trainRun(longer, await data(), dir, {}, { restartBadCheckpoint: true });
  const fresh = await trainRun(longer, await data(), join(root, 'fresh-3-epochs'));
  assert.deepEqual(withoutVolatileFields(restarted.epochs), withoutVolatileFields(fresh.epochs));
  assert.ok(existsSync(`${checkpointPath}.bad`));
});

test('iwae train on a damaged checkpoint: one line naming the file and the way out, exit 1, nothing changed', async () => {
  const out = join(root, 'cli-train');
  const args = ['train', '--model', 'vae', '--k', '1', '--init', 'he-normal', '--seed', '1', '--train-size', '100', '--test-size', '40', '--out', out];
  assert.equal(runCli([...args, '--epochs', '1']).code, 0);
  const path = runFiles(out).checkpoint;
  const bytes = readFileSync(path);
  bytes[bytes.length - 5000] ^= 0x10;
  writeFileSync(path, bytes);
  const metricsBefore = readFileSync(runFiles(out).metrics);
  const again = runCli([...args, '--epochs', '2']);
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
  assert.equal(again.stderr.trim(), `iwae: ${path}: corrupt checkpoint: its checksum does not match (damaged or truncated) (--restart-bad-checkpoint trains the run again from scratch)`);
  assert.ok(readFileSync(path).equals(bytes) && readFileSync(runFiles(out).metrics).equals(metricsBefore), 'nothing changed');
  const restarted = runCli([...args, '--epochs', '2', '--restart-bad-checkpoint', '--json']);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.equal(JSON.parse(restarted.stdout).epochs.length, 2);
});

test('a run to repair whose checkpoint is bad: the grid stops on it, or with --restart-bad-checkpoint trains it again to the same numbers', async () => {
  const results = await resultsWith(seedOne);
  const dir = join(results, runId(seedOne));
  const original = numbers(readRunRecord(dir, runId(seedOne)));
  rmSync(runFile(dir, 'final'));
  const bytes = readFileSync(runFiles(dir).checkpoint);
  bytes[100] ^= 0x04;
  writeFileSync(runFiles(dir).checkpoint, bytes);
  await assert.rejects(executeRun(seedOne, await data(), dir), (err: unknown) => err instanceof CheckpointError);
  assert.equal(existsSync(runFile(dir, 'status')), true, 'nothing changed');
  assert.equal((await executeRun(seedOne, await data(), dir, {}, { restartBadCheckpoint: true })).status, 'completed');
  assert.deepEqual(numbers(readRunRecord(dir, runId(seedOne))), original);
  assert.ok(existsSync(`${runFiles(dir).checkpoint}.bad`));
});

test("a checkpoint copied from another run's directory is refused, not resumed with the other run's weights", async () => {
  const results = await resultsWith(seedOne, seedTwo);
  const dirOne = join(results, runId(seedOne));
  const dirTwo = join(results, runId(seedTwo));
  cpSync(runFiles(dirOne).checkpoint, runFiles(dirTwo).checkpoint);
  assert.throws(() => readRunCheckpoint(dirTwo, seedTwo), (err: unknown) => err instanceof CheckpointError && /checkpoint of another run \(config field 'seed' differs\)/.test((err as Error).message));
  await assert.rejects(trainRun({ ...seedTwo, epochs: 3 }, await data(), dirTwo), /checkpoint of another run \(config field 'seed' differs\)/);
});

test('a config.json copied from another run: the run is listed as corrupt and left out; eval refuses it', async () => {
  const results = await resultsWith(seedOne, seedTwo);
  cpSync(join(results, runId(seedOne), 'config.json'), join(results, runId(seedTwo), 'config.json'));
  const records = readResults(results);
  assert.equal(records.find((r) => r.id === runId(seedOne))?.status, 'completed');
  const copied = records.find((r) => r.id === runId(seedTwo))!;
  assert.equal(copied.status, 'corrupt');
  assert.match(copied.problem!, new RegExp(`config\\.json: config of run ${runId(seedOne)}, not of ${runId(seedTwo)}`));
  assert.deepEqual([copied.config, copied.epochs, copied.final], [null, [], null], 'a corrupt run carries nothing of the other run');

  const listed = runCli(['results', '--results', results]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${runId(seedOne)} +completed`));
  assert.match(listed.stdout, new RegExp(`${runId(seedTwo)} +corrupt`));
  assert.match(listed.stderr, new RegExp(`iwae: warning: ${runId(seedTwo)} left out: .*config of run ${runId(seedOne)}`));

  const evaluated = runCli(['eval', '--run', join(results, runId(seedTwo)), '--k', '1', '--test-size', '10']);
  assert.notEqual(evaluated.code, 0);
  assert.equal(evaluated.stderr.trim().split('\n').length, 1, evaluated.stderr);
  assert.match(evaluated.stderr, /^iwae: .*(of another run|is the config of run)/);
});

test('iwae report never averages runs of different scales: it names the scales it found and how to pick one', async () => {
  const smoke = parseRunConfig({ ...PROFILES.smoke.settings, model: 'vae', k: 1, init: 'he-normal', seed: 135 });
  const results = await resultsWith(smoke, { ...smoke, trainSize: 300 });
  const groups = scaleGroups(readResults(results));
  assert.deepEqual(groups.map((g) => [g.profile ?? 'other', g.records.length]).sort(), [['other', 1], ['smoke', 1]]);
  const report = runCli(['report', '--results', results, '--figures', join(root, 'figures-mixed')]);
  assert.equal(report.code, 2, report.stderr);
  assert.equal(report.stderr.trim().split('\n').length, 1, report.stderr);
  // The scales are listed in run-id order, which depends on the config hash: match each, in any order.
  assert.match(report.stderr, /holds runs of 2 scales, which one report must not mix \((.*; )?smoke profile: 1 run(; .*)?\); pick one with --profile <name>/);
  assert.match(report.stderr, /which one report must not mix \((.*; )?other settings \(e\.g\. [^)]*\): 1 run(; .*)?\); pick/);
  assert.equal(existsSync(join(root, 'figures-mixed')), false, 'nothing written');
});

test('metrics.jsonl with a line lost or changed, final.json or config.json missing, a restart killed midway: left out with the reason, then rebuilt by the grid', async () => {
  const runs = [seedOne, seedTwo, config({ seed: 3 }), config({ seed: 4 }), config({ seed: 5 })];
  const results = await resultsWith(...runs);
  const original = readResults(results).map(numbers);
  const [lostLine, noFinal, garbage, noConfig, killedRestart] = runs.map((r) => join(results, runId(r)));
  rmSync(join(noConfig, 'config.json'));
  // Killed after a restart from scratch set the bad checkpoint aside, before its first epoch.
  cpSync(runFiles(killedRestart).checkpoint, `${runFiles(killedRestart).checkpoint}.bad`);
  rmSync(runFiles(killedRestart).checkpoint);
  rmSync(runFiles(killedRestart).metrics);
  const metrics = (dir: string) => runFiles(dir).metrics;
  writeFileSync(metrics(lostLine), readFileSync(metrics(lostLine), 'utf8').split('\n').slice(0, 1).join('\n') + '\n');
  rmSync(runFile(noFinal, 'final'));
  const lines = readFileSync(metrics(garbage), 'utf8').split('\n');
  lines.splice(1, 0, '{"epoch": 1.5 garbage');
  writeFileSync(metrics(garbage), lines.join('\n'));

  const damaged = readResults(results);
  assert.deepEqual(damaged.map((r) => r.status), ['corrupt', 'corrupt', 'corrupt', 'corrupt', 'corrupt']);
  assert.match(damaged[0].problem!, /metrics\.jsonl: differs from the 2 epochs the run recorded/);
  assert.match(damaged[1].problem!, /final\.json: missing/);
  assert.match(damaged[2].problem!, /metrics\.jsonl: differs from the 2 epochs the run recorded/);
  assert.match(damaged[3].problem!, /config\.json: missing \(a run with a recorded outcome\)/);
  assert.match(damaged[4].problem!, /metrics\.jsonl: differs from the 2 epochs the run recorded/);
  assert.ok(damaged.every((r) => r.repairable && r.epochs.length === 0 && r.final === null));

  const events: string[] = [];
  const summary = await runGrid({
    runs: runs.map((c) => ({ id: runId(c), config: c })),
    resultsDir: results,
    workers: 1,
    mnist: { mnistCacheDir: MNIST_CACHE },
    onEvent: (e) => e.type === 'damaged' && events.push(e.id),
  });
  assert.deepEqual(summary.completed, runs.map(runId).sort());
  assert.deepEqual(events.sort(), runs.map(runId).sort());
  assert.deepEqual(readResults(results).map(numbers), original, 'rebuilt to exactly the original numbers');
});

test('bad JSON in config.json, status.json, final.json or failure.json flags that run only; a bad status.json is rebuilt by the grid', async () => {
  const runs = [seedOne, seedTwo, config({ seed: 3 }), config({ seed: 4 })];
  const results = await resultsWith(...runs);
  const original = readResults(results).map(numbers);
  const dirs = runs.map((r) => join(results, runId(r)));
  writeFileSync(join(dirs[0], 'config.json'), '{"model": "iwae", ');
  writeFileSync(join(dirs[1], 'status.json'), '{"status": "comp');
  writeFileSync(join(dirs[2], 'final.json'), 'not json');
  const records = readResults(results);
  assert.deepEqual(records.map((r) => r.status), ['corrupt', 'corrupt', 'corrupt', 'completed']);
  assert.match(records[0].problem!, /config\.json: not valid JSON/);
  assert.match(records[1].problem!, /status\.json: not valid JSON/);
  assert.match(records[2].problem!, /final\.json: not valid JSON/);
  assert.deepEqual(numbers(records[3]), original[3]);
  const listed = runCli(['results', '--results', results]);
  assert.equal(listed.code, 0);
  assert.equal(listed.stderr.trim().split('\n').length, 3, listed.stderr);

  // A status.json of another run is refused like a damaged one.
  cpSync(join(dirs[3], 'status.json'), join(dirs[2], 'status.json'));
  assert.match(readRunRecord(dirs[2], runId(runs[2])).problem!, new RegExp(`status of run ${runId(runs[3])}, not of ${runId(runs[2])}`));

  // The grid rebuilds the status (and the final evaluation) from the checkpoint; a broken config.json is an error of that run only.
  const summary = await runGrid({ runs: runs.map((c) => ({ id: runId(c), config: c })), resultsDir: results, workers: 1, mnist: { mnistCacheDir: MNIST_CACHE } });
  assert.deepEqual(summary.completed, [runId(runs[1]), runId(runs[2]), runId(runs[3])].sort());
  assert.deepEqual(summary.errors.map((e) => [e.id, e.kind]), [[runId(runs[0]), 'damaged-files']]);
  assert.deepEqual(readResults(results).slice(1).map(numbers), original.slice(1));

  // failure.json of a failed run: a damaged one is refused, not read as a divergence.
  const diverging = config({ seed: 5, optimizer: { learningRate: 1e30 } });
  const failedDir = join(root, 'failed', runId(diverging));
  const outcome = await executeRun(diverging, await data(), failedDir);
  assert.equal(outcome.status, 'failed');
  writeFileSync(runFiles(failedDir).failure, readFileSync(runFiles(failedDir).failure, 'utf8').replace(/"step": \d+/, '"step": 9999'));
  await assert.rejects(trainRun(diverging, await data(), failedDir), /failure\.json: content does not match its integrity seal/);
});

/** Flip one random byte, or cut the file at a random length. */
function damage(bytes: Buffer, stream: ReturnType<typeof createStream>): Buffer {
  const out = Buffer.from(bytes);
  const u = stream.fillUniform(new Float32Array(3));
  if (u[0] < 0.2) return out.subarray(0, Math.floor(u[1] * out.length));
  const at = Math.min(out.length - 1, Math.floor(u[1] * out.length));
  out[at] ^= 1 << Math.min(7, Math.floor(u[2] * 8));
  return out;
}

test('fuzz: random byte flips and truncations of each file of a finished run give the original numbers or a detection, never other numbers', async (t) => {
  const results = await resultsWith(seedOne);
  const dir = join(results, runId(seedOne));
  const id = runId(seedOne);
  const original = numbers(readRunRecord(dir, id));
  const originalParameters = readRunCheckpoint(dir, seedOne)!.parameters;
  const stream = createStream(2026, 'synthetic-mnist');
  const outcomes: Record<string, { same: number; detected: number }> = {};
  for (const file of ['config.json', 'metrics.jsonl', 'final.json', 'status.json', 'checkpoint.bin']) {
    const path = join(dir, file);
    const good = readFileSync(path);
    const tally = (outcomes[file] = { same: 0, detected: 0 });
    for (let trial = 0; trial < 150; trial++) {
      writeFileSync(path, damage(good, stream));
      if (file === 'checkpoint.bin') {
        try {
          const parameters = readRunCheckpoint(dir, seedOne)!.parameters;
          assert.deepEqual(parameters, originalParameters, 'a checkpoint read after damage is the original');
          tally.same += 1;
        } catch (err) {
          assert.ok(err instanceof CheckpointError, String(err));
          tally.detected += 1;
        }
        continue;
      }
      const record = readRunRecord(dir, id);
      if (record.status === 'corrupt') {
        assert.match(record.problem!, new RegExp(file.replace('.', '\\.')));
        assert.deepEqual([record.epochs, record.final], [[], null], 'a corrupt run carries no numbers');
        tally.detected += 1;
      } else {
        assert.deepEqual(numbers(record), original, `${file}, trial ${trial}: different numbers`);
        tally.same += 1;
      }
    }
    writeFileSync(path, good);
    assert.ok(tally.detected > 100, `${file}: ${JSON.stringify(tally)}`);
  }
  t.diagnostic(`outcomes per file (150 damages each): ${JSON.stringify(outcomes)}`);
  assert.equal(readRunOutcome(dir, id)?.status, 'completed');
});
