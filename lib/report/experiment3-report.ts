import * as dfd from 'danfojs-node';
import { join } from 'node:path';
import { analyzeExperiment3, blockTableRows, comparisonTableRows, estimatorLabel, modelOrder, summaryTableRows, type Experiment3Analysis } from '../analysis/experiment3';
import type { GridCoverage } from '../experiments/grid-coverage';
import { capitalize, coverageCount, formatMeanSE } from './results-markdown';
import type { GridAxes } from '../experiments/profiles';
import type { RunRecord } from '../experiments/results';
import { exportFigureSet } from '../figures/pdf';
import { experiment3BlockSnrFigure, experiment3SnrFigure, experiment3UnitsFigure } from '../figures/experiment3-figures';
import type { PlotlyFigure } from '../figures/types';
import { writeFileAtomic } from '../io/atomic-file';

/**
 * Notebook 06's figures and tables (and `iwae report`'s, and the README's block) from one Experiment 3 analysis (lib/analysis/experiment3.ts), by file
 * stem (figures/<profile>/<stem>.pdf, figures/<profile>/tables/<stem>.csv). With no finished run there
 * is nothing to draw: no figures, and only the verdicts' table.
 */
export function experiment3Figures(analysis: Experiment3Analysis, label: string): Record<string, PlotlyFigure> {
  if (analysis.runs.length === 0) return {};
  const figures: Record<string, PlotlyFigure> = { 'experiment3-active-units-by-estimator': experiment3UnitsFigure(analysis.summary, analysis.runs, label) };
  if (analysis.curves.length > 0) figures['experiment3-gradient-snr'] = experiment3SnrFigure(analysis.curves, label);
  if (analysis.blocks.length > 0) figures['experiment3-gradient-snr-by-block'] = experiment3BlockSnrFigure(analysis.blocks, label);
  return figures;
}

/** The tables as rows: per-estimator summary, paired comparisons, per-block SNR, verdicts (empty tables left out). */
export function experiment3Tables(analysis: Experiment3Analysis): Record<string, Array<Record<string, string | number | null>>> {
  const tables: Record<string, Array<Record<string, string | number | null>>> = {
    'experiment3-summary': summaryTableRows(analysis.summary),
    'experiment3-comparisons': comparisonTableRows(analysis.comparisons),
    'experiment3-gradient-snr-by-block': blockTableRows(analysis.blocks),
    'experiment3-verdicts': analysis.verdicts.map((v) => ({ claim: v.claim, verdict: v.verdict, evidence: v.sentence })),
  };
  return Object.fromEntries(Object.entries(tables).filter(([, rows]) => rows.length > 0));
}

/** Writes each table as CSV at full precision (temp file + rename); returns the paths. */
export function writeExperiment3Tables(analysis: Experiment3Analysis, dir: string): string[] {
  return Object.entries(experiment3Tables(analysis)).map(([name, rows]) => {
    const path = join(dir, `${name}.csv`);
    writeFileAtomic(path, dfd.toCSV(new dfd.DataFrame(rows), {}) as string);
    return path;
  });
}

/** What `iwae report` writes for Experiment 3: the analysis, the CSV tables and the figures (PDF, optionally PNG). */
export interface WrittenExperiment3Report {
  analysis: Experiment3Analysis;
  tables: string[];
  figures: string[];
}

/**
 * Notebook 06's tables and figures, written without Jupyter from the records of a profile's Experiment 3
 * grid. With no completed run nothing is written (unlike notebook 06, which writes its verdicts' table
 * anyway); the analysis, every verdict "not shown", is still returned for the README block.
 */
export async function writeExperiment3Report(
  records: readonly RunRecord[],
  axes: readonly GridAxes[],
  options: { figuresDir: string; tablesDir: string; label: string; latent: number; png?: boolean; env?: NodeJS.ProcessEnv },
): Promise<WrittenExperiment3Report> {
  const analysis = analyzeExperiment3(records, axes, options.latent);
  if (analysis.runs.length === 0) return { analysis, tables: [], figures: [] };
  const tables = writeExperiment3Tables(analysis, options.tablesDir);
  const figures = experiment3Figures(analysis, options.label);
  const written = await exportFigureSet(figures, options.figuresDir, { png: options.png, env: options.env });
  return { analysis, tables, figures: written };
}

/** The figures of Experiment 3 the README shows, of those the analysis has (copied next to it by `iwae report --readme`). */
export function experiment3ReadmeFigures(analysis: Experiment3Analysis): string[] {
  const drawn = experiment3Figures(analysis, '');
  return ['experiment3-active-units-by-estimator', 'experiment3-gradient-snr'].filter((stem) => stem in drawn);
}

/**
 * Experiment 3 as Markdown, computed from a results directory: the README's generated Experiment 3 block
 * (checked against the shipped runs by a test). Every (estimator, k) of the grid has a row, finished or
 * not; the figures are linked once there is something to draw (`figurePrefix`: their path stem).
 */
export function experiment3Markdown(analysis: Experiment3Analysis, coverage: GridCoverage, finalK: number, figurePrefix: string): string {
  const lines: string[] = [];
  lines.push(`${coverageCount(coverage, 'runs of Experiment 3')}; ${coverage.missing === 0 ? 'the grid is complete.' : `${coverage.missing} are still to be trained.`}`);
  lines.push('');
  lines.push('| estimator | k | seeds | active units (train) | active units (test) | NLL | encoder SNR | decoder SNR |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const settings = [...coverage.settings].sort((a, b) => a.k - b.k || modelOrder(a.model) - modelOrder(b.model));
  for (const s of settings) {
    const row = analysis.summary.find((r) => r.model === s.model && r.k === s.k);
    const cells = row
      ? [
          formatMeanSE(row.activeUnitsTrain.mean, row.activeUnitsTrain.se, 1),
          formatMeanSE(row.activeUnitsTest.mean, row.activeUnitsTest.se, 1),
          formatMeanSE(row.nll.mean, row.nll.se, 2),
          formatMeanSE(row.encoderSnr.mean, row.encoderSnr.se, 3),
          formatMeanSE(row.decoderSnr.mean, row.decoderSnr.se, 3),
        ]
      : [s.failed === s.runs ? 'diverged' : 'not trained yet', '', '', '', ''];
    lines.push(`| ${estimatorLabel(s.model)} | ${s.k} | ${row ? row.seeds : 0} of ${s.runs} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push(`Mean ± standard error over the finished seeds; NLL in nats by L_${finalK}; SNR: the network mean of |E g| / sd g per parameter at the last measured epoch.`);
  lines.push('');
  lines.push('The verdicts the analysis computes from these runs (`lib/analysis/experiment3.ts`, paired by seed):');
  lines.push('');
  for (const v of analysis.verdicts) lines.push(`- *${v.claim}* **${capitalize(v.verdict)}.** ${v.sentence}`);
  const figures = experiment3ReadmeFigures(analysis);
  if (figures.length > 0) {
    lines.push('');
    for (const stem of figures) lines.push(`![${stem}](${figurePrefix}${stem}.png)`);
  }
  return `${lines.join('\n')}\n`;
}
