import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-node';
import { parseRunConfig, type RunConfigInput } from '../../lib/config/run-config';
import { removeStaleTempFiles } from '../../lib/io/atomic-file';
import { trainRun } from '../../lib/training/train';
import { mnistData } from '../helpers/mnist';

const data = mnistData;

/** Two steps per epoch on a narrow network: what matters here is what a run leaves behind, not its numbers. */
const config = (extra: Partial<RunConfigInput> = {}) =>
  parseRunConfig({
    model: 'iwae',
    k: 2,
    init: 'xavier-uniform',
    seed: 5,
    epochs: 1,
    trainSize: 40,
    testSize: 20,
    architecture: { hidden: [12], latent: 4 },
    ...extra,
  });

const root = mkdtempSync(join(tmpdir(), 'iwae-run-resources-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('trainRun frees every tensor it makes: the count is the same before and after two runs', async () => {
  const mnistData = await data();
  const before = tf.memory().numTensors;
  for (const seed of [1, 2]) {
    const result = await trainRun(config({ seed }), mnistData, join(root, `leak-${seed}`));
    assert.equal(result.status, 'completed');
  }
  // tfjs-node's cached TensorBoard writer used to keep 5 tensors per run directory (a grid worker: 5, 10, ... 40).
  assert.equal(tf.memory().numTensors, before, 'tensors left behind by two runs');
});

/** A pid that is certainly not running: a child that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  assert.equal(child.status, 0);
  return child.pid!;
}

test("opening a run for resume removes the temps of interrupted atomic writes by dead processes (another host's once old), never a live process's", async () => {
  const mnistData = await data();
  const dir = join(root, 'temps');
  await trainRun(config({ epochs: 1 }), mnistData, dir);
  const host = hostname().replace(/[^A-Za-z0-9-]/g, '-');
  const dead = deadPid();
  const planted = {
    deadCheckpoint: join(dir, `checkpoint.bin.${dead}@${host}.0a1b2c3d.tmp`),
    deadImage: join(dir, 'images', `prior-samples-epoch-001.png.${dead}@${host}.0a1b2c3e.tmp`),
    // Written before temp names carried the host: judged as this host's.
    deadLegacy: join(dir, `metrics.jsonl.${dead}.0a1b2c3f.tmp`),
    live: join(dir, `final.json.${process.pid}@${host}.1a2b3c4d.tmp`),
    // Another host's pids mean nothing here: a fresh temp may belong to a write in progress there,
    otherHost: join(dir, `status.json.${dead}@some-other-node.2a3b4c5d.tmp`),
    // but one two hours old is left over (a node killed at its time limit).
    otherHostOld: join(dir, `final.json.${dead}@some-other-node.3a4b5c6d.tmp`),
    notOurs: join(dir, 'notes.tmp'),
  };
  mkdirSync(join(dir, 'images'), { recursive: true });
  for (const path of Object.values(planted)) writeFileSync(path, 'half a checkpoint');
  const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
  utimesSync(planted.otherHostOld, twoHoursAgo, twoHoursAgo);

  const resumed = await trainRun(config({ epochs: 2 }), mnistData, dir);
  assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1, 2]);
  for (const gone of [planted.deadCheckpoint, planted.deadImage, planted.deadLegacy, planted.otherHostOld]) assert.ok(!existsSync(gone), `${gone} removed`);
  for (const kept of [planted.live, planted.otherHost, planted.notOurs]) assert.ok(existsSync(kept), `${kept} kept`);
});

test('removeStaleTempFiles leaves lock temps and files that only look similar alone', () => {
  const dir = join(root, 'lookalikes');
  mkdirSync(dir, { recursive: true });
  const dead = deadPid();
  const names = [`run.lock.${'7'.repeat(16)}.tmp`, `config.json.${dead}.tmp`, `config.json.${dead}.0a1b2c3g.tmp`, `config.json.${dead}@host.with.dots.0a1b2c3d.tmp`];
  for (const name of names) writeFileSync(join(dir, name), '');
  assert.deepEqual(removeStaleTempFiles(dir), []);
  assert.deepEqual(removeStaleTempFiles(join(dir, 'missing')), []);
});
