import { readFileSync } from 'node:fs';
import { parameterLayout, unalignedOffsets, type Architecture } from '../model/architecture';
import type { StreamState } from '../random/streams';
import type { AdamState } from './adam';
import { writeFileAtomic } from '../io/atomic-file';
import type { EpochMetrics } from './metrics';

/**
 * Everything a run needs to continue exactly as if never stopped: weights, Adam state, every random
 * stream's state, and the metrics so far (so metrics.jsonl can be repaired from it after a crash).
 */
export interface Checkpoint {
  /** Completed epochs. */
  epoch: number;
  architecture: Architecture;
  parameters: Float32Array;
  adam: AdamState;
  streams: Record<string, StreamState>;
  metrics: EpochMetrics[];
}

const MAGIC = 'IWAECKPT';
/** 2: the flat vector's weights-then-biases aligned layout (architecture.ts); 1: layer by layer, read and converted. */
const VERSION = 2;

export class CheckpointError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'CheckpointError';
  }
}

interface Header {
  epoch: number;
  architecture: Architecture;
  parameterCount: number;
  adamStep: number;
  streams: Record<string, StreamState>;
  metrics: EpochMetrics[];
}

/**
 * Layout: 8-byte magic, uint32 version, uint32 header length, JSON header, zero padding to a multiple of
 * 4, then parameters, Adam m and Adam v as little-endian float32. Written atomically (temp + rename).
 */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const n = checkpoint.parameters.length;
  if (checkpoint.adam.m.length !== n || checkpoint.adam.v.length !== n) throw new RangeError('Adam state and parameters differ in size');
  const header: Header = {
    epoch: checkpoint.epoch,
    architecture: checkpoint.architecture,
    parameterCount: n,
    adamStep: checkpoint.adam.step,
    streams: checkpoint.streams,
    metrics: checkpoint.metrics,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 16 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const bytes = new Uint8Array(dataStart + 3 * n * 4);
  bytes.set(Buffer.from(MAGIC, 'ascii'), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  [checkpoint.parameters, checkpoint.adam.m, checkpoint.adam.v].forEach((array, i) => {
    const offset = dataStart + i * n * 4;
    for (let j = 0; j < n; j++) view.setFloat32(offset + j * 4, array[j], true);
  });
  writeFileAtomic(path, bytes);
}

export function readCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read checkpoint (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (bytes.length < 16 || bytes.subarray(0, 8).toString('ascii') !== MAGIC) throw new CheckpointError(path, 'not an iwae-lab checkpoint');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION && version !== 1) throw new CheckpointError(path, `checkpoint version ${version}, this code reads 1 and ${VERSION}`);
  const jsonLength = view.getUint32(12, true);
  if (16 + jsonLength > bytes.length) throw new CheckpointError(path, 'truncated header');
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(16, 16 + jsonLength).toString('utf8')) as Header;
  } catch {
    throw new CheckpointError(path, 'corrupt header');
  }
  const n = header.parameterCount;
  const dataStart = Math.ceil((16 + jsonLength) / 4) * 4;
  if (!Number.isInteger(n) || n < 1 || bytes.length !== dataStart + 3 * n * 4) {
    throw new CheckpointError(path, `truncated or corrupt: ${bytes.length} bytes for ${n} parameters`);
  }
  const arrays = [0, 1, 2].map((i) => {
    const out = new Float32Array(n);
    const offset = dataStart + i * n * 4;
    for (let j = 0; j < n; j++) out[j] = view.getFloat32(offset + j * 4, true);
    return out;
  });
  const [parameters, m, v] = version === 1 ? arrays.map((a) => fromUnalignedLayout(path, header.architecture, a)) : arrays;
  return {
    epoch: header.epoch,
    architecture: header.architecture,
    parameters,
    adam: { m, v, step: header.adamStep },
    streams: header.streams,
    metrics: header.metrics,
  };
}

/**
 * A version-1 vector (each layer's weight then bias, no padding) in today's layout: the same numbers in
 * their new places (Adam's moments move with their parameters), so an old run resumes exactly.
 */
function fromUnalignedLayout(path: string, architecture: Architecture, values: Float32Array): Float32Array {
  let layout;
  try {
    layout = parameterLayout(architecture);
  } catch (err) {
    throw new CheckpointError(path, `corrupt header: ${(err as Error).message}`);
  }
  const old = unalignedOffsets(layout);
  if (values.length !== old.size) throw new CheckpointError(path, `version 1 checkpoint with ${values.length} parameters, its architecture has ${old.size}`);
  const out = new Float32Array(layout.size);
  layout.specs.forEach((spec, i) => out.set(values.subarray(old.offsets[i], old.offsets[i] + spec.size), spec.offset));
  return out;
}
