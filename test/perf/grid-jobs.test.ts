import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { prepare } from '../../lib/perf/grid-jobs';
import type { GridJob } from '../../lib/perf/grid-bench';

// The grid bench's worker jobs (tiny sizes): each runs, reports positive seconds, and leaves no tensors behind.
test('the grid bench jobs (training stack, per-epoch passes, final bound) time their work and leave tf memory flat', () => {
  const jobs: GridJob[] = [
    { kind: 'train', setting: { objective: 'iwae', k: 5, batch: 20, seed: 3, runs: 2 }, warmupSteps: 1 },
    { kind: 'passes', runs: 2, objective: 'iwae', k: 5, testImages: 30, trainImages: 40, seed: 3 },
    { kind: 'final', runs: 2, images: 3, k: 60, seed: 3 },
  ];
  for (const job of jobs) {
    const before = tf.memory().numTensors;
    const prepared = prepare(job);
    for (let i = 0; i < 2; i++) {
      const seconds = prepared.go(2);
      assert.equal(seconds.length, job.kind === 'passes' ? 2 : 1, job.kind);
      assert.ok(seconds.every((s) => Number.isFinite(s) && s > 0), `${job.kind}: ${seconds}`);
    }
    prepared.dispose();
    assert.equal(tf.memory().numTensors, before, `${job.kind}: tensors after dispose`);
  }
});
