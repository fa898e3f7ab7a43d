import { existsSync } from 'node:fs';
import { Float16Array } from '@petamoriken/float16';
import type { Architecture } from '../model/architecture';
import { writeFileAtomic } from '../io/atomic-file';
import { sha256Hex } from '../io/digest';
import { DamagedFileError, readBytesIfExists } from '../io/sealed-json';
import { readRunCheckpoint, runFiles } from '../training/run-dir';
import type { RunConfig } from '../config/run-config';
import { fileSha256, readFinalRecord, runFile } from './run-dir';

/**
 * A completed run's final weights in float16 (weights-f16.bin, ~0.85 MB for the study's model against
 * the checkpoint's 5 MB of float32 parameters and Adam moments): small enough to ship with the results,
 * so a fresh clone can show what a paper-scale model generates without training it. Display precision
 * only (3 significant digits): every published number comes from the float32 checkpoint.
 *
 * Tied to its run twice: the header names the run and the SHA-256 of the checkpoint it was rounded from,
 * which must be the checkpoint final.json evaluated; the file ends with the SHA-256 of its bytes.
 */
export interface RunWeights {
  runId: string;
  checkpointSha256: string;
  epoch: number;
  architecture: Architecture;
  /** The flat parameter vector (lib/model/architecture.ts layout), rounded to float16 and back. */
  parameters: Float32Array;
}

/** The seed whose weights ship for every setting (.gitignore keeps the others' out of git): the first of the study's. */
export const SHIPPED_WEIGHTS_SEED = 135;

const MAGIC = 'IWAEF16W';
const VERSION = 1;
const DIGEST_BYTES = 32;

interface Header {
  runId: string;
  checkpointSha256: string;
  epoch: number;
  architecture: Architecture;
  parameterCount: number;
}

/** Layout: magic, uint32 version, uint32 header length, JSON header, zero padding to 8, float16 LE values, SHA-256. */
export function encodeRunWeights(weights: RunWeights): Uint8Array {
  const header: Header = {
    runId: weights.runId,
    checkpointSha256: weights.checkpointSha256,
    epoch: weights.epoch,
    architecture: weights.architecture,
    parameterCount: weights.parameters.length,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = Math.ceil((16 + json.length) / 8) * 8;
  const dataEnd = dataStart + 2 * weights.parameters.length;
  const bytes = new Uint8Array(dataEnd + DIGEST_BYTES);
  bytes.set(Buffer.from(MAGIC, 'ascii'), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  // Float16Array is in the platform's byte order; the file is little-endian like the checkpoint.
  const halves = new Uint16Array(new Float16Array(weights.parameters).buffer);
  for (let j = 0; j < halves.length; j++) view.setUint16(dataStart + 2 * j, halves[j], true);
  bytes.set(Buffer.from(sha256Hex(bytes.subarray(0, dataEnd)), 'hex'), dataEnd);
  return bytes;
}

export function decodeRunWeights(path: string, bytes: Uint8Array): RunWeights {
  if (bytes.length < 16 + DIGEST_BYTES || Buffer.from(bytes.subarray(0, 8)).toString('ascii') !== MAGIC) {
    throw new DamagedFileError(path, 'not an iwae-lab float16 weights file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new DamagedFileError(path, `weights file version ${version}; this code reads version ${VERSION}`);
  const dataEnd = bytes.length - DIGEST_BYTES;
  if (sha256Hex(bytes.subarray(0, dataEnd)) !== Buffer.from(bytes.subarray(dataEnd)).toString('hex')) {
    throw new DamagedFileError(path, 'corrupt weights file: its checksum does not match (damaged or truncated)');
  }
  const jsonLength = view.getUint32(12, true);
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + jsonLength)).toString('utf8')) as Header;
  } catch {
    throw new DamagedFileError(path, 'corrupt header');
  }
  const n = header.parameterCount;
  const dataStart = Math.ceil((16 + jsonLength) / 8) * 8;
  if (!Number.isInteger(n) || n < 1 || dataEnd !== dataStart + 2 * n) throw new DamagedFileError(path, `inconsistent sizes: ${bytes.length} bytes for ${n} parameters`);
  const halves = new Uint16Array(n);
  for (let j = 0; j < n; j++) halves[j] = view.getUint16(dataStart + 2 * j, true);
  return {
    runId: header.runId,
    checkpointSha256: header.checkpointSha256,
    epoch: header.epoch,
    architecture: header.architecture,
    parameters: Float32Array.from(new Float16Array(halves.buffer)),
  };
}

/**
 * Writes weights-f16.bin of a completed run from its checkpoint (the one its final.json evaluated).
 * Returns false, writing nothing, when there is no checkpoint to round from.
 */
export function writeRunWeights(runDir: string, config: RunConfig, id: string): boolean {
  const checkpointPath = runFiles(runDir).checkpoint;
  if (!existsSync(checkpointPath)) return false;
  const checkpointSha256 = fileSha256(checkpointPath);
  const final = readFinalRecord(runDir, id);
  if (!final || final.checkpointSha256 !== checkpointSha256) throw new DamagedFileError(checkpointPath, 'not the checkpoint the final evaluation used');
  const checkpoint = readRunCheckpoint(runDir, config)!;
  writeFileAtomic(
    runFile(runDir, 'weights'),
    encodeRunWeights({ runId: id, checkpointSha256, epoch: checkpoint.epoch, architecture: checkpoint.architecture, parameters: checkpoint.parameters }),
  );
  return true;
}

/** writeRunWeights for a completed run that has a checkpoint and no weights file yet; true when it wrote one. */
export function ensureRunWeights(runDir: string, config: RunConfig, id: string): boolean {
  return !existsSync(runFile(runDir, 'weights')) && writeRunWeights(runDir, config, id);
}

/**
 * A completed run's final parameters for display: the float32 checkpoint when it is there, else the
 * float16 weights file (checked to belong to this run and to the checkpoint final.json evaluated).
 * null when the run has neither (results shipped without its weights).
 */
export function readDisplayParameters(runDir: string, config: RunConfig, id: string): { parameters: Float32Array; architecture: Architecture; precision: 'float32' | 'float16' } | null {
  const checkpoint = readRunCheckpoint(runDir, config);
  if (checkpoint) return { parameters: checkpoint.parameters, architecture: checkpoint.architecture, precision: 'float32' };
  const path = runFile(runDir, 'weights');
  const bytes = readBytesIfExists(path);
  if (bytes === null) return null;
  const weights = decodeRunWeights(path, bytes);
  if (weights.runId !== id) throw new DamagedFileError(path, `weights of run ${String(weights.runId)}, not of ${id}`);
  const final = readFinalRecord(runDir, id);
  if (!final || final.checkpointSha256 !== weights.checkpointSha256) throw new DamagedFileError(path, 'not the weights the final evaluation used');
  return { parameters: weights.parameters, architecture: weights.architecture, precision: 'float16' };
}

/** Whether readDisplayParameters can find weights for the run (without reading them). */
export function hasDisplayWeights(runDir: string): boolean {
  return existsSync(runFiles(runDir).checkpoint) || existsSync(runFile(runDir, 'weights'));
}
