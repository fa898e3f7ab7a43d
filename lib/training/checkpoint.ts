import { readFileSync } from 'node:fs';
import type { RunConfig } from '../config/run-config';
import type { Architecture } from '../model/architecture';
import type { AdamState } from './adam';
import { writeFileAtomic } from '../io/atomic-file';
import { sha256Hex } from '../io/digest';
import { DamagedFileError } from '../io/sealed-json';
import type { EpochMetrics } from './metrics';

/**
 * Everything a run needs to continue exactly as if never stopped: weights, Adam state (its step count
 * is also where every counter-based stream of the run stands) and the metrics so far (so metrics.jsonl can be repaired from it after a crash), tied
 * to the run it belongs to by its config.
 */
export interface Checkpoint {
  /** The run's config when the checkpoint was written (a run may later be extended to more epochs). */
  config: RunConfig;
  /** Completed epochs. */
  epoch: number;
  architecture: Architecture;
  parameters: Float32Array;
  adam: AdamState;
  metrics: EpochMetrics[];
}

const MAGIC = 'IWAECKPT';
/**
 * 4: runs draw from counter-based streams (lib/random/streams.ts), so a checkpoint holds no stream
 * states; a version 3 run drew differently and cannot be continued with the same numbers. 3 added a
 * SHA-256 of the whole file at its end and the run's config in the header.
 */
export const CHECKPOINT_VERSION = 4;
const DIGEST_BYTES = 32;

/**
 * A checkpoint that cannot be used: unreadable, damaged, of an older version, or of another run. Its own
 * kind of damaged file because, unlike the others, the run can be trained again from scratch.
 */
export class CheckpointError extends DamagedFileError {
  constructor(path: string, reason: string) {
    super(path, reason);
    this.name = 'CheckpointError';
  }
}

interface Header {
  config: RunConfig;
  epoch: number;
  architecture: Architecture;
  parameterCount: number;
  adamStep: number;
  metrics: EpochMetrics[];
}

/**
 * Layout: 8-byte magic, uint32 version, uint32 header length, JSON header, zero padding to a multiple of
 * 4, then parameters, Adam m and Adam v as little-endian float32, then the SHA-256 of every byte before
 * it. Written atomically (temp + rename).
 */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const n = checkpoint.parameters.length;
  if (checkpoint.adam.m.length !== n || checkpoint.adam.v.length !== n) throw new RangeError('Adam state and parameters differ in size');
  const header: Header = {
    config: checkpoint.config,
    epoch: checkpoint.epoch,
    architecture: checkpoint.architecture,
    parameterCount: n,
    adamStep: checkpoint.adam.step,
    metrics: checkpoint.metrics,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = Math.ceil((16 + json.length) / 4) * 4;
  const dataEnd = dataStart + 3 * n * 4;
  const bytes = new Uint8Array(dataEnd + DIGEST_BYTES);
  bytes.set(Buffer.from(MAGIC, 'ascii'), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, CHECKPOINT_VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  [checkpoint.parameters, checkpoint.adam.m, checkpoint.adam.v].forEach((array, i) => {
    const offset = dataStart + i * n * 4;
    for (let j = 0; j < n; j++) view.setFloat32(offset + j * 4, array[j], true);
  });
  bytes.set(Buffer.from(sha256Hex(bytes.subarray(0, dataEnd)), 'hex'), dataEnd);
  writeFileAtomic(path, bytes);
}

/** Reads and verifies a checkpoint: any damaged byte, a truncation or an older version is a CheckpointError. */
export function readCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read checkpoint (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (bytes.length < 16 + DIGEST_BYTES || bytes.subarray(0, 8).toString('ascii') !== MAGIC) throw new CheckpointError(path, 'not an iwae-lab checkpoint');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      path,
      version < CHECKPOINT_VERSION
        ? `checkpoint version ${version}, written by an older iwae-lab that drew its random numbers differently (it cannot be continued with the same numbers); this code reads version ${CHECKPOINT_VERSION} only: train the run again (--restart-bad-checkpoint keeps the old file as checkpoint.bin.bad)`
        : `checkpoint version ${version}, this code reads version ${CHECKPOINT_VERSION} only (written by a newer iwae-lab?)`,
    );
  }
  const dataEnd = bytes.length - DIGEST_BYTES;
  if (sha256Hex(bytes.subarray(0, dataEnd)) !== bytes.subarray(dataEnd).toString('hex')) {
    throw new CheckpointError(path, 'corrupt checkpoint: its checksum does not match (damaged or truncated)');
  }
  // From here the bytes are exactly what was written: a failure below is a bug, still reported, never used.
  const jsonLength = view.getUint32(12, true);
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(16, 16 + jsonLength).toString('utf8')) as Header;
  } catch {
    throw new CheckpointError(path, 'corrupt header');
  }
  const n = header.parameterCount;
  const dataStart = Math.ceil((16 + jsonLength) / 4) * 4;
  if (!Number.isInteger(n) || n < 1 || dataEnd !== dataStart + 3 * n * 4) throw new CheckpointError(path, `inconsistent sizes: ${bytes.length} bytes for ${n} parameters`);
  const [parameters, m, v] = [0, 1, 2].map((i) => {
    const out = new Float32Array(n);
    const offset = dataStart + i * n * 4;
    for (let j = 0; j < n; j++) out[j] = view.getFloat32(offset + j * 4, true);
    return out;
  });
  return {
    config: header.config,
    epoch: header.epoch,
    architecture: header.architecture,
    parameters,
    adam: { m, v, step: header.adamStep },
    metrics: header.metrics,
  };
}
