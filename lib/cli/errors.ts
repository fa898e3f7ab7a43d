/**
 * An error the user can fix (bad flag, missing file, corrupt input). The CLI prints its message as one
 * line, without a stack trace, and exits with `exitCode`.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad command line: exit code 2, like commander's own usage errors. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
