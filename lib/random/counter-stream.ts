import { statelessDraw } from '../model/raw-ops';
import { counterKey, type CounterStreamName } from './streams';

/*
 * The counter-based streams of the registry (lib/random/streams.ts) as TensorFlow draws: a module of its
 * own so that the registry and the sequential streams load without TensorFlow.
 */

/** Largest counter value: TensorFlow's seed pair is two int32s, [key, counter]. */
export const MAX_COUNTER = 2 ** 31 - 1;

/**
 * A counter-based stream: draw `counter` is TensorFlow's Philox output for the pair [key, counter],
 * the key a hash of (seed, name). Call inside tf.tidy or dispose what it returns.
 */
export class CounterStream {
  constructor(
    readonly name: string,
    readonly key: number,
  ) {}

  /** [shape] uniforms in [0, 1). */
  uniform(shape: number[], counter: number) {
    return statelessDraw('uniform', shape, [this.key, checkedCounter(counter, this.name)]);
  }

  /** [shape] standard normals. */
  normal(shape: number[], counter: number) {
    return statelessDraw('normal', shape, [this.key, checkedCounter(counter, this.name)]);
  }
}

/** Counter of draw `index` within a numbered group (an epoch, a batch of images): both must fit. */
export function groupCounter(group: number, index: number, groupSize: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= groupSize) throw new RangeError(`draw ${index} outside its group of ${groupSize}`);
  return checkedCounter(group * groupSize + index, `group ${group}`);
}

function checkedCounter(counter: number, name: string): number {
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) throw new RangeError(`stream ${name}: counter ${counter} outside 0..${MAX_COUNTER}`);
  return counter;
}

/** The counter-based stream `name` (part `part`) of `seed` (names: the registry in streams.ts). */
export function counterStream(seed: number | string, name: CounterStreamName, part?: number | string): CounterStream {
  const { name: full, key } = counterKey(seed, name, part);
  return new CounterStream(full, key);
}
