/** What went wrong with a data file: decides whether a retry, a re-download or `--no-verify` can help. */
export type DataFileProblem = 'missing' | 'format' | 'checksum' | 'download';

/**
 * A data file that cannot be trusted or read. The message is one line, `<file>: <what is wrong>`, so the
 * CLI can print it as is; no stack trace is needed to act on it.
 */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly kind: DataFileProblem,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DataFileError';
  }
}
