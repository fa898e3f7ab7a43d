import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INIT_NAMES } from '../../lib/config/run-config';
import { outputBiasSpec, parameterLayout, STUDY_ARCHITECTURE } from '../../lib/model/architecture';
import { dataMeanOutputBias, distributionStd, initialParameters, weightDistribution } from '../../lib/model/init';
import { createStream } from '../../lib/random/streams';

const layout = parameterLayout(STUDY_ARCHITECTURE);

test('the study layout: 784-200-200-(50+50) encoder, 50-200-200-784 decoder, one flat vector', () => {
  const weights = layout.specs.filter((s) => s.role === 'weight').map((s) => `${s.name} ${s.fanIn}x${s.fanOut}`);
  assert.deepEqual(weights, [
    'encoder.0.weight 784x200',
    'encoder.1.weight 200x200',
    'encoder.2.weight 200x100',
    'decoder.0.weight 50x200',
    'decoder.1.weight 200x200',
    'decoder.2.weight 200x784',
  ]);
  // 217,300 encoder + 207,984 decoder parameters: every weight matrix end to end, then every bias, then
  // 12 zeros to a whole number of 64-byte rows (so the weights split off without copies).
  assert.equal(layout.weightsSize + layout.biasesSize, 425_284);
  assert.equal(layout.biasesSize, 200 + 200 + 100 + 200 + 200 + 784);
  assert.equal(layout.size, 425_296);
  const ordered = [...layout.specs.filter((s) => s.role === 'weight'), ...layout.specs.filter((s) => s.role === 'bias')];
  ordered.forEach((s, i) => assert.equal(s.offset, i === 0 ? 0 : ordered[i - 1].offset + ordered[i - 1].size, s.name));
  for (const s of layout.specs) if (s.role === 'weight') assert.equal(s.offset % 16, 0, `${s.name} starts on a 64-byte boundary`);
});

test("PyTorch's formulas: Xavier uses fan_in + fan_out, He (kaiming, a=0, fan_in) uses fan_in", () => {
  assert.deepEqual(weightDistribution('xavier-uniform', 784, 200), { kind: 'uniform', bound: Math.sqrt(6 / 984) });
  assert.deepEqual(weightDistribution('xavier-normal', 784, 200), { kind: 'normal', std: Math.sqrt(2 / 984) });
  assert.deepEqual(weightDistribution('he-uniform', 784, 200), { kind: 'uniform', bound: Math.sqrt(6 / 784) });
  assert.deepEqual(weightDistribution('he-normal', 784, 200), { kind: 'normal', std: Math.sqrt(2 / 784) });
  assert.deepEqual(weightDistribution('truncated-normal', 784, 200), { kind: 'truncated-normal', std: 1, cut: 2 });
  // Known value: the std of N(0,1) truncated to [-2, 2] is 0.8796.
  assert.ok(Math.abs(distributionStd({ kind: 'truncated-normal', std: 1, cut: 2 }) - 0.87962566) < 1e-7);
});

for (const init of INIT_NAMES) {
  test(`${init}: every layer's empirical std and range match the formula; biases are zero`, () => {
    const flat = initialParameters(layout, init, createStream(3, 'init'));
    for (const spec of layout.specs) {
      const values = flat.subarray(spec.offset, spec.offset + spec.size);
      if (spec.role === 'bias') {
        assert.ok(values.every((v) => v === 0), `${spec.name} is zero`);
        continue;
      }
      const d = weightDistribution(init, spec.fanIn, spec.fanOut);
      const n = values.length;
      let sum = 0;
      let sumSquares = 0;
      let maxAbs = 0;
      for (const v of values) {
        sum += v;
        sumSquares += v * v;
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }
      const mean = sum / n;
      const std = Math.sqrt(sumSquares / n - mean * mean);
      const expected = distributionStd(d);
      // The sample std of n draws has relative SE ~ sqrt(kurtosis-ish / 2n) <= 1/sqrt(n); 5 SE tolerance.
      const tolerance = 5 / Math.sqrt(n);
      assert.ok(Math.abs(std / expected - 1) < tolerance, `${spec.name}: std ${std}, expected ${expected}`);
      assert.ok(Math.abs(mean) < (5 * expected) / Math.sqrt(n), `${spec.name}: mean ${mean}`);
      if (d.kind === 'uniform') {
        assert.ok(maxAbs <= d.bound, `${spec.name}: |w| ${maxAbs} > bound ${d.bound}`);
        assert.ok(maxAbs > 0.99 * d.bound, `${spec.name}: the range is filled`);
      } else if (d.kind === 'truncated-normal') {
        assert.ok(maxAbs <= d.cut && maxAbs > 0.99 * d.cut, `${spec.name}: max |w| ${maxAbs}`);
      } else {
        assert.ok(maxAbs > 3 * d.std, `${spec.name}: normal tails present (max |w| ${maxAbs})`);
      }
    }
  });
}

test('init draws only from the given stream: same seed, same weights; another seed, other weights', () => {
  const a = initialParameters(layout, 'he-normal', createStream(5, 'init'));
  const b = initialParameters(layout, 'he-normal', createStream(5, 'init'));
  const c = initialParameters(layout, 'he-normal', createStream(6, 'init'));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('data-mean output bias: the logit of each pixel mean, clipped for constant pixels (Burda)', () => {
  const pixels = 3;
  // Pixel 0 always 0, pixel 1 half 255, pixel 2 always 255.
  const images = Uint8Array.from([0, 255, 255, 0, 0, 255]);
  const bias = dataMeanOutputBias(images, 2, pixels);
  assert.ok(Math.abs(bias[0] - Math.log(1e-3 / (1 - 1e-3))) < 1e-5);
  assert.ok(Math.abs(bias[1]) < 1e-7);
  assert.ok(Math.abs(bias[2] + bias[0]) < 1e-5);
  const tiny = parameterLayout({ input: 3, hidden: [2], latent: 1 });
  const flat = initialParameters(tiny, 'xavier-uniform', createStream(1, 'init'), { outputBias: bias });
  const spec = outputBiasSpec(tiny);
  assert.deepEqual(Array.from(flat.subarray(spec.offset, spec.offset + spec.size)), Array.from(bias));
});
