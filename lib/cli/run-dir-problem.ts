import { CheckpointError } from '../training/checkpoint';
import { RunDirError } from '../training/errors';
import { DamagedFileError } from '../io/sealed-json';
import { UsageError, UserError } from './errors';

/**
 * Run-dir and checkpoint problems as one line: a bad directory argument is a usage error (exit 2); a
 * damaged file names itself and what can be done about it.
 */
export function runDirProblem(err: unknown, restartHint = false): never {
  if (err instanceof RunDirError) throw new UsageError(err.message);
  if (err instanceof CheckpointError) throw new UserError(restartHint ? `${err.message} (--restart-bad-checkpoint trains the run again from scratch)` : err.message);
  if (err instanceof DamagedFileError) throw new UserError(err.message);
  throw err;
}
