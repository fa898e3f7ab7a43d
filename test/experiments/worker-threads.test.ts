import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorflowThreadsPerWorker, workerEnvironment } from '../../lib/experiments/worker-threads';

test('grid workers share the cores out: one TensorFlow thread each when there are as many workers as cores', () => {
  assert.equal(tensorflowThreadsPerWorker(2, 2), 1);
  assert.equal(tensorflowThreadsPerWorker(1, 2), 2);
  assert.equal(tensorflowThreadsPerWorker(3, 2), 1, 'more workers than cores: still one thread each');
  assert.equal(tensorflowThreadsPerWorker(3, 8), 2);
  assert.equal(tensorflowThreadsPerWorker(1, 0), 1, 'an unknown core count still gives a thread');
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => tensorflowThreadsPerWorker(bad, 2), RangeError);
});

test("a worker's environment: the thread share by default; the user's TF_NUM_INTRAOP_THREADS and extra settings win", () => {
  const base = workerEnvironment(1, { PATH: '/bin' });
  assert.equal(base.TF_NUM_INTRAOP_THREADS, '1');
  assert.equal(base.TF_NUM_INTEROP_THREADS, '1');
  assert.equal(base.PATH, '/bin');
  assert.equal(workerEnvironment(1, { TF_NUM_INTRAOP_THREADS: '4' }).TF_NUM_INTRAOP_THREADS, '4');
  assert.equal(workerEnvironment(1, { TF_NUM_INTRAOP_THREADS: '4' }, { TF_NUM_INTRAOP_THREADS: '3' }).TF_NUM_INTRAOP_THREADS, '3');
  assert.equal(workerEnvironment(2, {}).TF_NUM_INTRAOP_THREADS, '2');
});
