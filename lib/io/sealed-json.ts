import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file';
import { canonicalJson, sha256Hex } from './digest';

/**
 * A file that cannot be trusted: it does not parse, its seal or checksum does not match its content, or
 * it belongs to another run. Readers report it (one line naming the file) and never turn it into numbers.
 */
export class DamagedFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'DamagedFileError';
  }
}

/** The key under which a sealed JSON object carries the SHA-256 of the rest of its content. */
export const SEAL_KEY = 'sha256';

/**
 * Writes `value` (an object) as JSON with a seal: the SHA-256 of its canonical JSON, so any changed byte
 * that changes a value is detected on reading (a flipped digit in a loss is still valid JSON).
 */
export function writeSealedJson(path: string, value: object): void {
  const content = withoutSeal(value as Record<string, unknown>);
  writeFileAtomic(path, `${JSON.stringify({ ...content, [SEAL_KEY]: sha256Hex(canonicalJson(content)) }, null, 2)}\n`);
}

/**
 * The sealed object at `path` (seal removed), or null when there is no file. Throws DamagedFileError if
 * it does not parse, is not an object, or its seal does not match.
 */
export function readSealedJson<T extends object>(path: string): T | null {
  const bytes = readBytesIfExists(path);
  return bytes === null ? null : parseSealedJson<T>(path, bytes.toString('utf8'));
}

/** The bytes of `path`, or null when there is no file; any other read error is a DamagedFileError. */
export function readBytesIfExists(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DamagedFileError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** `text` (read from `path`) as a sealed object: see readSealedJson. */
export function parseSealedJson<T extends object>(path: string, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DamagedFileError(path, 'not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DamagedFileError(path, 'not a JSON object');
  const record = value as Record<string, unknown>;
  const seal = record[SEAL_KEY];
  if (typeof seal !== 'string') throw new DamagedFileError(path, 'no integrity seal (written by an older version, or not by iwae-lab)');
  const content = withoutSeal(record);
  if (sha256Hex(canonicalJson(content)) !== seal) throw new DamagedFileError(path, 'content does not match its integrity seal (damaged or edited)');
  return content as T;
}

function withoutSeal(value: Record<string, unknown>): Record<string, unknown> {
  const { [SEAL_KEY]: _seal, ...rest } = value;
  return rest;
}
