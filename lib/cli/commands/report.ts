import type { Command } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { coverageSentence, gridCoverage } from '../../experiments/grid-coverage';
import { gridRuns } from '../../experiments/grids';
import { PROFILE_NAMES, PROFILES, type Profile, type ProfileName } from '../../experiments/profiles';
import { leftOutWarning, readResults, scaleGroups, type RunRecord } from '../../experiments/results';
import { assertWritableDirectory } from '../../io/fs-errors';
import { UserError } from '../errors';
import { oneOf } from '../parse';
import { loadMnistForCli } from '../mnist';
import { DEFAULT_FIGURES_DIR, defaultResultsDir } from '../paths';
import { writeFileAtomic } from '../../io/atomic-file';
import { blockMarkers, experiment3Block, markedBlock, replaceMarkedBlock, resultsMarkdown } from '../../report/results-markdown';

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
    .option('--profile <name>', `only the runs of this profile's grids, Experiments 1-2 with extras and Experiment 3 (${PROFILE_NAMES.join(', ')}), titled with its label`, oneOf(PROFILE_NAMES))
    .option('--png', 'also write each figure as PNG (for the README or slides)')
    .option('--mnist-dir <dir>', 'MNIST files for the sample figures (default: $MNIST_DIR, else the cache/packaged copy)')
    .option('--readme <file>', "with --profile: also write the results (Markdown: table, claims, ablation; Experiment 3's table and verdicts) into <file>'s two generated blocks for the profile, and copy their figures next to it")
    .action(async (flags: ReportFlags) => {
      const profile = flags.profile ? PROFILES[flags.profile] : null;
      if (flags.readme && !profile) throw new UserError('--readme needs --profile (the blocks it writes are per profile)', 2);
      const resultsDir = resolve(flags.results ?? defaultResultsDir(profile));
      if (!existsSync(resultsDir) || !statSync(resultsDir).isDirectory()) throw new UserError(`no results directory at ${resultsDir}`);
      const readmeText = flags.readme ? readReadme(flags.readme, profile!.name) : null;
      const studyRuns = profile ? gridRuns(profile, { extras: true }) : null;
      const found = readResults(resultsDir, { ids: profile ? [...studyRuns!, ...gridRuns(profile, { experiment: '3' })].map((r) => r.id) : undefined });
      for (const record of found) {
        const warning = leftOutWarning(record);
        if (warning) process.stderr.write(`iwae: warning: ${warning}\n`);
      }
      // Experiment 3's runs (by id: the estimator grid of a profile) have their own analysis.
      const experiment3 = splitExperiment3Runs(found, profile);
      const study = found.filter((r) => !experiment3.ids.has(r.id));
      const resultsArg = relative(process.cwd(), resultsDir) || '.';
      if (profile) {
        const command = `iwae grid --profile ${profile.name} --extras --results ${resultsArg}`;
        process.stderr.write(`report: ${coverageSentence(gridCoverage(studyRuns!, study), profile.name, command)}\n`);
      }
      const records = study.filter((r) => r.status === 'completed');
      const experiment3Records = experiment3.records.filter((r) => r.status === 'completed');
      if (records.length === 0 && experiment3Records.length === 0) {
        throw new UserError(`no completed runs in ${resultsDir}${profile ? ` for the ${profile.name} profile` : ''}: run \`iwae grid\` first`);
      }
      if (readmeText !== null && records.length === 0) {
        throw new UserError(`--readme: no completed run of Experiments 1 and 2 in ${resultsDir} for the ${profile!.name} profile: its block would be left stale`);
      }
      if (!profile) {
        // One report, one scale: the study's runs, and Experiment 3's runs of the same profile.
        const scales = scaleGroups(records);
        const groups = scales.map((g) => `${g.name}: ${g.records.length} run${g.records.length === 1 ? '' : 's'}`);
        const owners = new Set(experiment3.records.map((r) => experiment3.owners.get(r.id)!.name));
        for (const name of owners) {
          const count = experiment3.records.filter((r) => experiment3.owners.get(r.id)!.name === name).length;
          groups.push(`Experiment 3 of the ${name} profile: ${count} run${count === 1 ? '' : 's'}`);
        }
        const studyProfile = scales.length === 1 ? scales[0].profile : null;
        const mixed = scales.length > 1 || owners.size > 1 || (scales.length === 1 && owners.size === 1 && (studyProfile === null || !owners.has(studyProfile)));
        if (mixed) throw new UserError(`${resultsDir} holds runs of ${groups.length} scales, which one report must not mix (${groups.join('; ')}); pick one with --profile <name>`, 2);
      }
      // Per profile, as the notebooks write them, so profiles never overwrite each other's figures.
      const figuresDir = resolve(flags.figures ?? (profile ? resolve(DEFAULT_FIGURES_DIR, profile.name) : DEFAULT_FIGURES_DIR));
      const tablesDir = resolve(flags.tables ?? resolve(figuresDir, 'tables'));
      // Before any work: a read-only directory or a file in the way is one line (lib/io/fs-errors.ts).
      assertWritableDirectory(figuresDir);
      assertWritableDirectory(tablesDir);
      const png = flags.png || readmeText !== null;
      let readme = readmeText;
      const readmeFigures: string[] = [];
      if (records.length > 0) {
        const data = await loadMnistForCli(flags.mnistDir, process.env);
        // Required here: analysis and sample figures load TensorFlow, which other commands never need.
        const { scaleLabel } = require('../../report/study-report') as typeof import('../../report/study-report');
        const { writeStudyReport } = require('../../report/write-report') as typeof import('../../report/write-report');
        const label = profile ? profile.label : scaleLabel(records);
        process.stderr.write(`report: ${records.length} completed runs from ${resultsDir} (${label})\n`);
        const report = await writeStudyReport(records, { figuresDir, tablesDir, label, data, png });
        if (readme !== null) {
          readme = replaceMarkedBlock(readme, profile!.name, resultsMarkdown(report.analysis, gridCoverage(studyRuns!, study), studyRuns!, records));
          readmeFigures.push(...README_FIGURES);
        }
        for (const claim of report.analysis.claims) process.stdout.write(`claim ${claim.id} [${claim.verdict}]: ${claim.sentence}\n`);
        process.stdout.write(`k=1 ablation: ${report.analysis.ablation.sentence}\n`);
        process.stdout.write(`${report.tables.length} tables in ${tablesDir}, ${report.figures.length} figures in ${figuresDir}\n`);
      } else {
        process.stderr.write(`report: no completed run of Experiments 1 and 2 in ${resultsDir}: only Experiment 3 is reported\n`);
      }
      const exp3Profile = profile ?? (experiment3.records.length > 0 ? experiment3.owners.get(experiment3.records[0].id)! : null);
      if (exp3Profile) {
        const runs = gridRuns(exp3Profile, { experiment: '3' });
        const coverage = gridCoverage(runs, experiment3.records);
        process.stderr.write(`report: ${coverageSentence(coverage, `${exp3Profile.name} Experiment 3`, `iwae grid --profile ${exp3Profile.name} --experiment 3 --results ${resultsArg}`)}\n`);
        const { writeExperiment3Report, experiment3Markdown, experiment3ReadmeFigures } = require('../../report/experiment3-report') as typeof import('../../report/experiment3-report');
        const written = await writeExperiment3Report(experiment3Records, exp3Profile.experiments[3], {
          figuresDir, tablesDir, label: exp3Profile.label, latent: exp3Profile.settings.architecture?.latent ?? 50, png,
        });
        if (readme !== null) {
          const finalK = runs[0]?.config.evaluation.finalK ?? NaN;
          readme = replaceMarkedBlock(readme, experiment3Block(exp3Profile.name), experiment3Markdown(written.analysis, coverage, finalK, `figures/readme/${exp3Profile.name}-`));
          readmeFigures.push(...experiment3ReadmeFigures(written.analysis));
        }
        if (written.analysis.runs.length > 0) {
          for (const v of written.analysis.verdicts) process.stdout.write(`experiment 3 [${v.verdict}]: ${v.claim} ${v.sentence}\n`);
          process.stdout.write(`experiment 3: ${written.tables.length} tables in ${tablesDir}, ${written.figures.length} figures in ${figuresDir}\n`);
        }
      }
      if (flags.readme && readme !== null) {
        // The README's figures, next to it: figures/readme/<profile>-<figure>.png.
        const readmeFigureDir = resolve(dirname(flags.readme), 'figures', 'readme');
        mkdirSync(readmeFigureDir, { recursive: true });
        for (const stem of readmeFigures) copyFileSync(join(figuresDir, `${stem}.png`), join(readmeFigureDir, `${profile!.name}-${stem}.png`));
        writeFileAtomic(flags.readme, readme);
        process.stderr.write(`report: results written into ${flags.readme}, its figures into ${readmeFigureDir}\n`);
      }
    });
}

/**
 * Splits off the records that belong to an Experiment 3 grid (with --profile: that profile's; without:
 * any profile's), with the profile owning each.
 */
function splitExperiment3Runs(records: readonly RunRecord[], profile: Profile | null): { ids: Set<string>; records: RunRecord[]; owners: Map<string, Profile> } {
  const owners = new Map<string, Profile>();
  for (const candidate of profile ? [profile] : PROFILE_NAMES.map((name) => PROFILES[name])) {
    for (const run of gridRuns(candidate, { experiment: '3' })) owners.set(run.id, candidate);
  }
  const part = records.filter((r) => owners.has(r.id));
  return { ids: new Set(part.map((r) => r.id)), records: part, owners };
}

/** The file --readme writes into, checked before any work: it must exist and have the profile's blocks (Experiments 1-2 and 3). */
function readReadme(path: string, profile: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`--readme: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  for (const block of [profile, experiment3Block(profile)]) {
    if (markedBlock(text, block) === null) throw new UserError(`--readme: ${path} has no "${blockMarkers(block).begin}" ... "${blockMarkers(block).end}" block`);
  }
  return text;
}
