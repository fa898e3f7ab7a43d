import type { InitName } from '../config/run-config';
import { createStream } from '../random/streams';
import { parameterLayout, type Architecture } from './architecture';
import { distributionStd, initialParameters, weightDistribution } from './init';

/** One weight matrix right after init: the formula's standard deviation next to the drawn one. */
export interface WeightScale {
  init: InitName;
  layer: string;
  fanIn: number;
  fanOut: number;
  expectedStd: number;
  empiricalStd: number;
}

/**
 * Initial weight scales of every layer under each init, drawn exactly as a run with `seed` draws them
 * (the run's 'init' stream). Shows why the inits could matter: He draws ~1.4-2x wider than Xavier on the
 * wide layers, while the output layers differ most between fan-in and fan-sum rules.
 */
export function initialWeightScales(architecture: Architecture, inits: readonly InitName[], seed: number): WeightScale[] {
  const layout = parameterLayout(architecture);
  const rows: WeightScale[] = [];
  for (const init of inits) {
    const flat = initialParameters(layout, init, createStream(seed, 'init'));
    for (const spec of layout.specs.filter((s) => s.role === 'weight')) {
      const values = flat.subarray(spec.offset, spec.offset + spec.size);
      let sum = 0;
      let sumSquares = 0;
      for (const v of values) {
        sum += v;
        sumSquares += v * v;
      }
      const mean = sum / values.length;
      rows.push({
        init,
        layer: `${spec.network} ${spec.fanIn}→${spec.fanOut}`,
        fanIn: spec.fanIn,
        fanOut: spec.fanOut,
        expectedStd: distributionStd(weightDistribution(init, spec.fanIn, spec.fanOut)),
        empiricalStd: Math.sqrt(sumSquares / values.length - mean * mean),
      });
    }
  }
  return rows;
}
