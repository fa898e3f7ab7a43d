import type { Command } from 'commander';
import { environmentReport } from '../../env/versions';
import { REPO_ROOT } from '../paths';


export function registerEnvCommand(program: Command): void {
  program
    .command('env')
    .description('print versions: node, tfjs-node backend, TensorFlow, Python venv, Jupyter, Chromium')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const report = environmentReport(REPO_ROOT, process.env);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const rows: Array<[string, string | null]> = [
        ['node', report.node],
        ['tfjs-node', report.tfjsNode],
        ['tfjs backend', report.tfjsBackend],
        ['TensorFlow', report.tensorflow],
        ['python venv', report.pythonVenv && `${report.pythonVenv} (${report.python})`],
        ['jupyter', report.jupyter],
        ['chromium', report.chromium],
      ];
      for (const [key, value] of rows) process.stdout.write(`${key.padEnd(13)} ${value ?? 'missing'}\n`);
      for (const problem of report.problems) process.stdout.write(`! ${problem}\n`);
    });
}
