import { CheckpointError } from '../training/checkpoint';
import { RunDirError } from '../training/errors';
import { UsageError, UserError } from './errors';

/** Run-dir and checkpoint problems as one line: a bad directory argument is a usage error (exit 2). */
export function runDirProblem(err: unknown): never {
  if (err instanceof RunDirError) throw new UsageError(err.message);
  if (err instanceof CheckpointError) throw new UserError(err.message);
  throw err;
}
