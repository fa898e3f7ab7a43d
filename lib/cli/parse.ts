import { InvalidArgumentError } from 'commander';

/** Commander argument parsers that reject bad values with one clear line (exit code 2). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got '${value}'`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`must be >= ${min}, got ${n}`);
    return n;
  };
}

export function integerList(min: number): (value: string) => number[] {
  const one = integerAtLeast(min);
  return (value: string) => value.split(',').map((part) => one(part));
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}
