import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-node';
import { MODEL_NAMES } from '../../lib/config/run-config';
import { MODEL_ESTIMATORS } from '../../lib/model/objectives';
import { disposeModel, initModel, readParameters } from '../../lib/model/model';
import { createStream } from '../../lib/random/streams';
import { lossAndGradient } from '../../lib/model/reference-gradient';
import { asTensor2d, asTensor3d, randomImages, randomNoise, testStream } from './fixtures';
import { referenceObjective } from './reference-model';

const TINY = { input: 7, hidden: [5], latent: 3 };

/**
 * Autograd (float32, through the flat parameter vector) against central finite differences of a float64
 * implementation, with fixed noise. In float64 with h = 1e-6 the difference quotient is accurate to ~1e-9,
 * so the tolerance only has to cover float32 rounding of the tfjs gradient (measured worst ~1e-7): 1e-5
 * relative to 1 + |gradient|. The gradient estimators (STL, DReG) are not their loss's gradient: they are
 * checked against finite differences of their surrogates in test/model/estimators-gradient.test.ts.
 */
for (const objective of MODEL_NAMES.filter((m) => MODEL_ESTIMATORS[m].gradient === 'full')) {
  test(`${objective}: gradient of every parameter matches finite differences`, () => {
    const model = initModel(TINY, 'xavier-normal', createStream(21, 'init'));
    // Non-zero biases too, so their gradients are checked away from the symmetric point.
    const flat64 = Float64Array.from(readParameters(model), (v) => v);
    const biasStream = testStream(22, 'bias');
    for (const spec of model.layout.specs) {
      if (spec.role === 'bias') for (let i = 0; i < spec.size; i++) flat64[spec.offset + i] = Math.fround(0.3 * (biasStream.uniform() - 0.5));
    }
    model.params.assign(tf.tensor1d(Float32Array.from(flat64)));
    const xs = randomImages(3, TINY.input, 23);
    const noise = randomNoise(3, 4, TINY.latent, 24);

    const { values, gradient } = lossAndGradient(model, objective, asTensor2d(xs), asTensor3d(noise));
    const autograd = gradient.dataSync();
    const loss = values.dataSync()[0];
    values.dispose();
    gradient.dispose();

    const ref = (p: Float64Array) => referenceObjective(objective, p, model.layout, xs, noise).loss;
    assert.ok(Math.abs(loss - ref(flat64)) < 1e-4 * Math.max(1, Math.abs(loss)), `loss ${loss} vs ${ref(flat64)}`);
    const h = 1e-6;
    let worst = 0;
    for (let i = 0; i < flat64.length; i++) {
      const saved = flat64[i];
      flat64[i] = saved + h;
      const up = ref(flat64);
      flat64[i] = saved - h;
      const down = ref(flat64);
      flat64[i] = saved;
      const numeric = (up - down) / (2 * h);
      const error = Math.abs(autograd[i] - numeric) / (1 + Math.abs(numeric));
      worst = Math.max(worst, error);
      if (!(error < 1e-5)) {
        const name = model.layout.specs.find((s) => i >= s.offset && i < s.offset + s.size)?.name ?? 'padding';
        assert.fail(`${name}[${i}]: autograd ${autograd[i]}, numeric ${numeric}`);
      }
    }
    assert.ok(worst > 0, 'compared something');
    disposeModel(model);
  });
}
