import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { leftOutWarning, readResults, type RunRecord } from '../../experiments/results';
import { formatNats } from '../../report/results-markdown';
import { UserError } from '../errors';
import { PROFILES } from '../../experiments/profiles';
import { DEFAULT_RESULTS_DIR, defaultResultsDir } from '../paths';


export function registerResultsCommand(program: Command): void {
  program
    .command('results')
    .description('list the runs in a results directory (status, last epoch, final NLL and active units)')
    .option('--results <dir>', 'results root (default: <repo>/data/runs)')
    .option('--json', 'print one JSON array of {id, config, status, epochs, final}')
    .addHelpText('after', '\nColumns: epochs done of planned; test loss, the last epoch\'s test objective at the training k (IWAE: -L_k;\nVAE: the negative ELBO); NLL, -L_finalK of the final evaluation; active units (final evaluation, else the last\nepoch\'s test set).')
    .action((flags: { results?: string; json?: boolean }) => {
      const dir = resolve(flags.results ?? DEFAULT_RESULTS_DIR);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        // A fresh clone has trained nothing yet: point at the runs it ships.
        const shipped = flags.results === undefined ? ` (the shipped paper-scale runs: --results ${relative(process.cwd(), defaultResultsDir(PROFILES.paper)) || '.'})` : '';
        throw new UserError(`no results directory at ${dir}${shipped}`);
      }
      const records = readResults(dir);
      for (const record of records) {
        const warning = leftOutWarning(record);
        if (warning) process.stderr.write(`iwae: warning: ${warning}\n`);
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(records)}\n`);
        return;
      }
      if (records.length === 0) {
        process.stdout.write(`no runs in ${dir}\n`);
        return;
      }
      // The run column fits the longest id (sampled-KL ids are 50 characters), so the columns line up.
      const idWidth = Math.max(46, ...records.map((r) => r.id.length));
      process.stdout.write(`${'run'.padEnd(idWidth)} ${'status'.padEnd(10)} ${'epochs'.padStart(7)} ${'test loss'.padStart(10)} ${'NLL'.padStart(9)} ${'active'.padStart(6)}\n`);
      for (const record of records) process.stdout.write(`${row(record, idWidth)}\n`);
    });
}

function row(record: RunRecord, idWidth: number): string {
  const last = record.epochs[record.epochs.length - 1];
  const epochs = `${record.epochs.length}/${record.config?.epochs ?? '?'}`;
  const testLoss = last ? formatNats(last.testLoss) : '-';
  const nll = record.final ? formatNats(record.final.nll) : '-';
  const active = record.final ? String(record.final.activeUnits) : last ? String(last.activeUnitsTest) : '-';
  const line = `${record.id.padEnd(idWidth)} ${record.status.padEnd(10)} ${epochs.padStart(7)} ${testLoss.padStart(10)} ${nll.padStart(9)} ${active.padStart(6)}`;
  if (record.failure) return `${line}  ${record.failure.message}`;
  return record.problem ? `${line}  ${record.problem}` : line;
}
