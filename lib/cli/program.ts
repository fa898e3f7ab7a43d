import { Command, CommanderError } from 'commander';
import { describeFileSystemError } from '../io/fs-errors';
import { UserError } from './errors';
import { registerEnvCommand } from './commands/env';
import { registerDataCommand } from './commands/data';
import { registerTrainCommand } from './commands/train';
import { registerEvalCommand } from './commands/eval';
import { registerGridCommand } from './commands/grid';
import { registerResultsCommand } from './commands/results';
import { registerReportCommand } from './commands/report';
import { registerBenchCommand } from './commands/bench';
import { registerVerifyCommand } from './commands/verify';

/** Each later capability adds its command here: one `register…Command(program)` call per file. */
const commands: Array<(program: Command) => void> = [registerEnvCommand, registerDataCommand, registerTrainCommand, registerEvalCommand, registerGridCommand, registerResultsCommand, registerReportCommand, registerBenchCommand, registerVerifyCommand];

export function buildProgram(): Command {
  const program = new Command('iwae')
    .description('Importance Weighted Autoencoders lab: data, training, experiment grids and reports.')
    .showHelpAfterError(false);
  for (const register of commands) register(program);
  quietUsageErrors(program);
  return program;
}

/**
 * Usage errors surface as CommanderError (printed once, by `main`) at every level of subcommand. Help
 * asked for by a missing subcommand (`iwae`, `iwae data`) still goes to stderr.
 */
function quietUsageErrors(command: Command): void {
  command.exitOverride().configureOutput({ outputError: () => undefined });
  command.commands.forEach(quietUsageErrors);
}

/**
 * Runs the CLI; returns the process exit code. Usage errors: one line, exit 2; a missing subcommand: its
 * help on stderr, exit 2; a file-system problem (full disk, read-only directory): one line, exit 1.
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // `iwae help` exits 0; help shown because a subcommand is missing exits non-zero (commander: 1).
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      // commander's messages already start with "error: ".
      process.stderr.write(`iwae: ${err.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`iwae: ${err.message}\n`);
      return err.exitCode;
    }
    const fileSystemProblem = describeFileSystemError(err);
    if (fileSystemProblem) {
      process.stderr.write(`iwae: ${fileSystemProblem}\n`);
      return 1;
    }
    throw err;
  }
}
