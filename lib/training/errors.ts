/**
 * A run directory that cannot be used as asked (another run's files, no checkpoint, not creatable).
 * In its own file so the CLI can recognize it without loading TensorFlow.
 */
export class RunDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunDirError';
  }
}
