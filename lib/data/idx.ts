import { DataFileError } from './errors';

/**
 * The IDX format of the MNIST files: a 4-byte magic number (two zero bytes, a type code, the number of
 * dimensions), one big-endian uint32 per dimension, then the values in row-major order. MNIST uses only
 * unsigned bytes (type 0x08), so that is the only type this reader accepts.
 */
export const IDX_UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  dims: number[];
  /** The body, a view into the file's bytes (no copy). */
  values: Uint8Array;
}

/** What a file must look like; `null` in `dims` means any size along that axis. */
export interface IdxExpectation {
  /** Shown in errors, e.g. "images" or "labels". */
  what: string;
  dims: Array<number | null>;
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Reads an unsigned-byte IDX file, checking the magic number, the dimensions and the file length before
 * trusting any of them (a header claiming 60,000 images over a truncated body is an error, not a short
 * read). `file` names the file in errors.
 */
export function parseIdx(bytes: Uint8Array, file: string, expected: IdxExpectation): IdxArray {
  const ndims = expected.dims.length;
  const expectedMagic = (IDX_UNSIGNED_BYTE << 8) | ndims;
  if (bytes.length < 4) {
    throw new DataFileError(file, `not an IDX file: only ${bytes.length} bytes`, 'format');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new DataFileError(
      file,
      `bad magic number ${hex8(magic)}, expected ${hex8(expectedMagic)} (IDX unsigned bytes, ${ndims} dimensions, ${expected.what})`,
      'format',
    );
  }
  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new DataFileError(file, `truncated header: ${bytes.length} bytes, the header alone needs ${headerLength}`, 'format');
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  expected.dims.forEach((want, d) => {
    if (want !== null && dims[d] !== want) {
      throw new DataFileError(
        file,
        `wrong ${d === 0 ? 'count' : 'size'}: header says ${dims.join('x')}, expected ${expected.dims.map((x) => x ?? 'N').join('x')} ${expected.what}`,
        'format',
      );
    }
  });
  const bodyLength = dims.reduce((a, b) => a * b, 1);
  const expectedLength = headerLength + bodyLength;
  if (bytes.length < expectedLength) {
    throw new DataFileError(
      file,
      `truncated: header promises ${dims.join('x')} ${expected.what} (${expectedLength} bytes), file has ${bytes.length} bytes`,
      'format',
    );
  }
  if (bytes.length > expectedLength) {
    throw new DataFileError(
      file,
      `${bytes.length - expectedLength} unexpected bytes after the ${dims.join('x')} ${expected.what} the header declares`,
      'format',
    );
  }
  return { dims, values: bytes.subarray(headerLength, expectedLength) };
}

/** Writes an unsigned-byte IDX file (for synthetic test data and for re-exporting subsets). */
export function encodeIdx(dims: number[], values: Uint8Array): Uint8Array {
  const bodyLength = dims.reduce((a, b) => a * b, 1);
  if (values.length !== bodyLength) {
    throw new Error(`encodeIdx: ${values.length} values do not fill dims ${dims.join('x')}`);
  }
  const headerLength = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLength + bodyLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, (IDX_UNSIGNED_BYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(values, headerLength);
  return out;
}
