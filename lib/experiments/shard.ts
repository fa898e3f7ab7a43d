/** `--shard i/n`: the i-th of n disjoint parts of a grid (1-based, like Slurm's `--array=1-n`). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses "i/n" with 1 <= i <= n; throws an Error whose message is one line for the user. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new Error(`expected i/n (e.g. 1/4), got '${text}'`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new Error(`shard count must be >= 1, got '${text}'`);
  if (index < 1 || index > count) throw new Error(`shard index must be in 1..${count}, got '${text}'`);
  return { index, count };
}

/**
 * The runs of shard i/n: after sorting by id, the i-th of n contiguous blocks whose sizes differ by at
 * most one (with more shards than runs, shard i has run i). Contiguous, because ids sort by model and k
 * first: a shard's runs then share their model and k and train as stacks (lib/training/train.ts).
 * Depends only on the set of ids, not on their order.
 */
export function selectShard<T extends { id: string }>(runs: readonly T[], shard: Shard): T[] {
  const sorted = [...runs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = sorted.length;
  const base = Math.floor(n / shard.count);
  const larger = n % shard.count; // the first `larger` shards get one run more
  const i = shard.index - 1;
  const start = i * base + Math.min(i, larger);
  return sorted.slice(start, start + base + (i < larger ? 1 : 0));
}

/**
 * The warning for a shard with no runs (more shards than runs, e.g. `--shard 9/9` of an 8-run grid), or
 * null when it has some. Not an error: a job array larger than the grid is harmless, but should say so.
 */
export function emptyShardWarning(shard: Shard, gridRuns: number): string | null {
  if (shard.index <= gridRuns) return null;
  return `shard ${shard.index}/${shard.count} is empty: the grid has ${gridRuns} run${gridRuns === 1 ? '' : 's'}, so only shards 1..${gridRuns} of ${shard.count} have any`;
}
