import type { MnistData } from '../data/mnist';
import type { RunRecord } from '../experiments/results';
import { exportFigureSet } from '../figures/pdf';
import { representativeRun, sampleFigures } from './sample-figures';
import { analyzeStudy, studyFigures, writeStudyTables, type StudyAnalysis } from './study-report';

export interface WrittenReport {
  analysis: StudyAnalysis;
  tables: string[];
  figures: string[];
}

/**
 * The study's tables (CSV) and every figure (vector PDF, optionally also PNG) from a set of
 * runs: what `iwae report` writes and what the notebooks show. `data` is needed for the sample figures
 * (reconstructions need test digits); without it they are left out.
 */
export async function writeStudyReport(
  records: readonly RunRecord[],
  options: { figuresDir: string; tablesDir: string; label: string; data?: MnistData; png?: boolean; env?: NodeJS.ProcessEnv },
): Promise<WrittenReport> {
  const analysis = analyzeStudy(records);
  const tables = writeStudyTables(analysis, options.tablesDir);
  const figures = studyFigures(analysis, records, options.label);
  const sampled = options.data ? representativeRun(records) : null;
  if (sampled && options.data) Object.assign(figures, sampleFigures(sampled, options.data, options.label));
  // PNGs (optional) for places without a PDF viewer, such as the README.
  const written = await exportFigureSet(figures, options.figuresDir, { png: options.png, env: options.env });
  return { analysis, tables, figures: written };
}
