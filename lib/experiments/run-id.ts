import { parseRunConfig, type RunConfig } from '../config/run-config';
import { canonicalJson, sha256Hex } from '../io/digest';

export { canonicalJson } from '../io/digest';

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
  const hash = sha256Hex(canonicalJson(full)).slice(0, HASH_DIGITS);
  return `${full.model}-k${full.k}-${full.init}-s${full.seed}-e${full.epochs}-${hash}`;
}

/** Run ids are used as directory names: this is their shape (also guards against path tricks). */
export const RUN_ID_PATTERN = /^[a-z0-9-]+-k\d+-[a-z0-9-]+-s\d+-e\d+-[0-9a-f]{8}$/;
