import type { Command } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { coverageSentence, gridCoverage } from '../../experiments/grid-coverage';
import { gridRuns } from '../../experiments/grids';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../experiments/profiles';
import { leftOutWarning, readResults, scaleGroups } from '../../experiments/results';
import { assertWritableDirectory } from '../../io/fs-errors';
import { UserError } from '../errors';
import { oneOf } from '../parse';
import { loadMnistForCli } from '../mnist';
import { DEFAULT_FIGURES_DIR, defaultResultsDir } from '../paths';
import { writeFileAtomic } from '../../io/atomic-file';
import { blockMarkers, markedBlock, replaceMarkedBlock, resultsMarkdown } from '../../report/results-markdown';


interface ReportFlags {
  results?: string;
  figures?: string;
  tables?: string;
  profile?: ProfileName;
  mnistDir?: string;
  png?: boolean;
  readme?: string;
}

/** The figures the README shows per profile (copied by --readme). */
const README_FIGURES = ['active-units-over-epochs', 'experiment1-active-units-by-init', 'k1-ablation'];

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("the study's tables (CSV) and figures (vector PDF) from a results directory, without Jupyter")
    .option('--results <dir>', "results root (default: the profile's shipped results, e.g. <repo>/data/results/paper, else <repo>/data/runs)")
    .option('--figures <dir>', 'where the PDFs go (default: <repo>/figures/<profile> with --profile, else <repo>/figures)')
    .option('--tables <dir>', 'where the CSV tables go (default: <figures>/tables)')
    .option('--profile <name>', `only the runs of this profile's grid (${PROFILE_NAMES.join(', ')}), titled with its label`, oneOf(PROFILE_NAMES))
    .option('--png', 'also write each figure as PNG (for the README or slides)')
    .option('--mnist-dir <dir>', 'MNIST files for the sample figures (default: $MNIST_DIR, else the cache/packaged copy)')
    .option('--readme <file>', "with --profile: also write the results table, claims and ablation (Markdown) into <file>'s generated block for the profile (the README's Results section)")
    .action(async (flags: ReportFlags) => {
      const profile = flags.profile ? PROFILES[flags.profile] : null;
      if (flags.readme && !profile) throw new UserError('--readme needs --profile (the block it writes is per profile)', 2);
      const resultsDir = resolve(flags.results ?? defaultResultsDir(profile));
      if (!existsSync(resultsDir) || !statSync(resultsDir).isDirectory()) throw new UserError(`no results directory at ${resultsDir}`);
      const readmeText = flags.readme ? readReadme(flags.readme, profile!.name) : null;
      const ids = profile ? gridRuns(profile, { extras: true }).map((r) => r.id) : undefined;
      const found = readResults(resultsDir, { ids });
      for (const record of found) {
        const warning = leftOutWarning(record);
        if (warning) process.stderr.write(`iwae: warning: ${warning}\n`);
      }
      if (profile) {
        const command = `iwae grid --profile ${profile.name} --extras --results ${relative(process.cwd(), resultsDir) || '.'}`;
        process.stderr.write(`report: ${coverageSentence(gridCoverage(gridRuns(profile, { extras: true }), found), profile.name, command)}\n`);
      }
      const records = found.filter((r) => r.status === 'completed');
      if (records.length === 0) {
        throw new UserError(`no completed runs in ${resultsDir}${profile ? ` for the ${profile.name} profile` : ''}: run \`iwae grid\` first`);
      }
      const scales = scaleGroups(records);
      if (!profile && scales.length > 1) {
        const listed = scales.map((g) => `${g.name}: ${g.records.length} run${g.records.length === 1 ? '' : 's'}`).join('; ');
        throw new UserError(`${resultsDir} holds runs of ${scales.length} scales, which one report must not mix (${listed}); pick one with --profile <name>`, 2);
      }
      // Per profile, as the notebooks write them, so profiles never overwrite each other's figures.
      const figuresDir = resolve(flags.figures ?? (profile ? resolve(DEFAULT_FIGURES_DIR, profile.name) : DEFAULT_FIGURES_DIR));
      const tablesDir = resolve(flags.tables ?? resolve(figuresDir, 'tables'));
      // Before any work: a read-only directory or a file in the way is one line (lib/io/fs-errors.ts).
      assertWritableDirectory(figuresDir);
      assertWritableDirectory(tablesDir);
      const data = await loadMnistForCli(flags.mnistDir, process.env);
      // Required here: analysis and sample figures load TensorFlow, which other commands never need.
      const { scaleLabel } = require('../../report/study-report') as typeof import('../../report/study-report');
      const { writeStudyReport } = require('../../report/write-report') as typeof import('../../report/write-report');
      const label = profile ? profile.label : scaleLabel(records);
      process.stderr.write(`report: ${records.length} completed runs from ${resultsDir} (${label})\n`);
      const report = await writeStudyReport(records, { figuresDir, tablesDir, label, data, png: flags.png || Boolean(flags.readme) });
      if (flags.readme && readmeText !== null) {
        const runs = gridRuns(profile!, { extras: true });
        writeFileAtomic(flags.readme, replaceMarkedBlock(readmeText, profile!.name, resultsMarkdown(report.analysis, gridCoverage(runs, found), runs, records)));
        // The README's figures, next to it: figures/readme/<profile>-<figure>.png.
        const readmeFigures = resolve(dirname(flags.readme), 'figures', 'readme');
        mkdirSync(readmeFigures, { recursive: true });
        for (const stem of README_FIGURES) copyFileSync(join(figuresDir, `${stem}.png`), join(readmeFigures, `${profile!.name}-${stem}.png`));
        process.stderr.write(`report: results written into ${flags.readme}, its figures into ${readmeFigures}\n`);
      }
      for (const claim of report.analysis.claims) process.stdout.write(`claim ${claim.id} [${claim.verdict}]: ${claim.sentence}\n`);
      process.stdout.write(`k=1 ablation: ${report.analysis.ablation.sentence}\n`);
      process.stdout.write(`${report.tables.length} tables in ${tablesDir}, ${report.figures.length} figures in ${figuresDir}\n`);
    });
}

/** The file --readme writes into, checked before any work: it must exist and have the profile's block. */
function readReadme(path: string, profile: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`--readme: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (markedBlock(text, profile) === null) throw new UserError(`--readme: ${path} has no "${blockMarkers(profile).begin}" ... "${blockMarkers(profile).end}" block`);
  return text;
}
