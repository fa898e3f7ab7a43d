import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTrainingThreads, defaultPoolEnvironment, intraOpThreads, trainingEnvironment } from '../../lib/env/tensorflow-threads';

test("a training process's environment: one TensorFlow thread unless the user's or the caller's setting says otherwise", () => {
  const base = trainingEnvironment({ PATH: '/bin' });
  assert.equal(base.TF_NUM_INTRAOP_THREADS, '1');
  assert.equal(base.TF_NUM_INTEROP_THREADS, '1');
  assert.equal(base.PATH, '/bin');
  assert.equal(trainingEnvironment({ TF_NUM_INTRAOP_THREADS: '4' }).TF_NUM_INTRAOP_THREADS, '4');
  assert.equal(trainingEnvironment({ TF_NUM_INTRAOP_THREADS: '4' }, { TF_NUM_INTRAOP_THREADS: '3' }).TF_NUM_INTRAOP_THREADS, '3');
});

test('the CLI edge sets the training threads for train, grid and bench only, and never over the user', () => {
  for (const command of ['train', 'grid', 'bench']) {
    const env: NodeJS.ProcessEnv = { HOME: '/h' };
    applyTrainingThreads([command, '--json'], env);
    assert.equal(env.TF_NUM_INTRAOP_THREADS, '1', command);
    assert.equal(env.HOME, '/h');
  }
  for (const args of [['eval', '--run', 'x'], ['report'], [], ['--help']]) {
    const env: NodeJS.ProcessEnv = {};
    applyTrainingThreads(args, env);
    assert.deepEqual(env, {}, `${args.join(' ')}: TensorFlow's default pools`);
  }
  const user: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '2' };
  applyTrainingThreads(['train'], user);
  assert.equal(user.TF_NUM_INTRAOP_THREADS, '2');
});

test('the default-pool environment drops only the thread variables; intraOpThreads reads what TensorFlow will get', () => {
  const env = defaultPoolEnvironment({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1', PATH: '/bin' });
  assert.deepEqual(env, { PATH: '/bin' });
  assert.equal(intraOpThreads(env), null);
  assert.equal(intraOpThreads({ TF_NUM_INTRAOP_THREADS: '3' }), 3);
  assert.equal(intraOpThreads({ TF_NUM_INTRAOP_THREADS: 'x' }), null);
});
