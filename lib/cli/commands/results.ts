import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { leftOutWarning, readResults, type RunRecord } from '../../experiments/results';
import { UserError } from '../errors';
import { DEFAULT_RESULTS_DIR } from '../paths';


export function registerResultsCommand(program: Command): void {
  program
    .command('results')
    .description('list the runs in a results directory (status, last epoch, final NLL and active units)')
    .option('--results <dir>', 'results root (default: <repo>/data/runs)')
    .option('--json', 'print one JSON array of {id, config, status, epochs, final}')
    .action((flags: { results?: string; json?: boolean }) => {
      const dir = resolve(flags.results ?? DEFAULT_RESULTS_DIR);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`no results directory at ${dir}`);
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
      process.stdout.write(`${'run'.padEnd(46)} ${'status'.padEnd(10)} ${'epochs'.padStart(7)} ${'test loss'.padStart(10)} ${'NLL'.padStart(9)} ${'active'.padStart(6)}\n`);
      for (const record of records) process.stdout.write(`${row(record)}\n`);
    });
}

function row(record: RunRecord): string {
  const last = record.epochs[record.epochs.length - 1];
  const epochs = `${record.epochs.length}/${record.config?.epochs ?? '?'}`;
  const testLoss = last ? last.testLoss.toFixed(2) : '-';
  const nll = record.final ? record.final.nll.toFixed(2) : '-';
  const active = record.final ? String(record.final.activeUnits) : last ? String(last.activeUnitsTest) : '-';
  const line = `${record.id.padEnd(46)} ${record.status.padEnd(10)} ${epochs.padStart(7)} ${testLoss.padStart(10)} ${nll.padStart(9)} ${active.padStart(6)}`;
  if (record.failure) return `${line}  ${record.failure.message}`;
  return record.problem ? `${line}  ${record.problem}` : line;
}
