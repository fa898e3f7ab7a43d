import { createHash } from 'node:crypto';
import { parseRunConfig, type RunConfig } from '../config/run-config';

/**
 * JSON with object keys sorted at every level, so equal configs give equal text whatever order their
 * keys were written in. Arrays keep their order (it means something, e.g. hidden layer sizes).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** Hex digits of the config hash kept in a run id: 32 bits, collisions are negligible for grids of ~100s. */
const HASH_DIGITS = 8;

/**
 * The run's name, derived from everything that changes its numbers: a readable prefix
 * (`iwae-k5-he-normal-s135-e80`) and a hash of the canonical JSON of the full validated config (defaults
 * filled in), so a config written with or without its defaults names the same run, and any change
 * (data size, optimizer, evaluation) names a different one. Adding a field with a default to RunConfig
 * renames every run: old results are then simply not found, never silently reused.
 */
export function runId(config: RunConfig): string {
  const full = parseRunConfig(config);
  const hash = createHash('sha256').update(canonicalJson(full)).digest('hex').slice(0, HASH_DIGITS);
  return `${full.model}-k${full.k}-${full.init}-s${full.seed}-e${full.epochs}-${hash}`;
}

/** Run ids are used as directory names: this is their shape (also guards against path tricks). */
export const RUN_ID_PATTERN = /^[a-z0-9-]+-k\d+-[a-z0-9-]+-s\d+-e\d+-[0-9a-f]{8}$/;
