import * as dfd from 'danfojs-node';
import { join } from 'node:path';
import { blockTableRows, comparisonTableRows, summaryTableRows, type Experiment3Analysis } from '../analysis/experiment3';
import { experiment3BlockSnrFigure, experiment3SnrFigure, experiment3UnitsFigure } from '../figures/experiment3-figures';
import type { PlotlyFigure } from '../figures/types';
import { writeFileAtomic } from '../io/atomic-file';

/**
 * Notebook 06's figures and tables from one Experiment 3 analysis (lib/analysis/experiment3.ts), by file
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
