import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { batchMatMul, rawOps } from '../../lib/model/raw-ops';
import { countTensorFlowOps } from '../../lib/perf/op-count';

test('countTensorFlowOps sees tfjs kernels and raw ops alike, times each kind, and restores the backend', () => {
  const backend = tf.backend() as unknown as { executeSingleOutput: unknown; executeMultipleOutputs: unknown };
  const [single, multiple] = [backend.executeSingleOutput, backend.executeMultipleOutputs];
  const a = tf.ones([1, 4, 3]) as tf.Tensor3D;
  const b = tf.ones([1, 3, 2]) as tf.Tensor3D;
  const tally = countTensorFlowOps(() => {
    tf.tidy(() => {
      const c = batchMatMul(a, b); // raw BatchMatMulV2
      rawOps.split(rawOps.add(c, c), [1, 1], 2); // raw AddV2, SplitV (two outputs, one op)
      tf.exp(c); // a tfjs kernel
    });
  });
  assert.equal(tally.ops, 4);
  assert.deepEqual([...tally.byName.entries()].sort(), [['AddV2', 1], ['BatchMatMulV2', 1], ['Exp', 1], ['SplitV', 1]]);
  assert.deepEqual([...tally.msByName.keys()].sort(), ['AddV2', 'BatchMatMulV2', 'Exp', 'SplitV']);
  assert.ok(tally.msInOps > 0);
  assert.ok(Math.abs([...tally.msByName.values()].reduce((x, y) => x + y, 0) - tally.msInOps) < 1e-9);
  assert.equal(backend.executeSingleOutput, single);
  assert.equal(backend.executeMultipleOutputs, multiple);
  a.dispose();
  b.dispose();
});

test('rawOps compute what the tfjs ops compute (broadcasting, reductions, tiling, shapes)', () => {
  tf.tidy(() => {
    const x = tf.tensor2d([[1, -2, 3], [0.5, 4, -1]]);
    const row = tf.tensor1d([10, 20, 30]);
    const close = (got: tf.Tensor, want: tf.Tensor) => {
      assert.deepEqual(got.shape, want.shape);
      const [g, w] = [got.dataSync(), want.dataSync()];
      g.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= 1e-6 * Math.max(1, Math.abs(w[i])), `${v} vs ${w[i]}`));
    };
    close(rawOps.add(x, row), tf.add(x, row));
    close(rawOps.sub(x, row), tf.sub(x, row));
    close(rawOps.mul(x, tf.scalar(0.5)), tf.mul(x, 0.5));
    close(rawOps.exp(x), tf.exp(x));
    close(rawOps.log(tf.abs(x)), tf.log(tf.abs(x)));
    close(rawOps.sigmoid(x), tf.sigmoid(x));
    close(rawOps.tanh(x), tf.tanh(x));
    close(rawOps.square(x), tf.square(x));
    close(rawOps.sum(x, 0), tf.sum(x, 0));
    close(rawOps.sum(x, 1), tf.sum(x, 1));
    close(rawOps.tile(x, [2, 1]), tf.tile(x, [2, 1]));
    close(rawOps.reshape(x, [-1]), tf.reshape(x, [-1]));
    const [left, right] = rawOps.split(x, [1, 2], 1);
    close(left, tf.slice(x, [0, 0], [2, 1]));
    close(right, tf.slice(x, [0, 1], [2, 2]));
    close(rawOps.concat([left, right], 1), x);
  });
});
