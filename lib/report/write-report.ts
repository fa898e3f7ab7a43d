import { join } from 'node:path';
import type { MnistData } from '../data/mnist';
import type { RunRecord } from '../experiments/results';
import { renderFigures } from '../figures/render';
import { writeFileAtomic } from '../io/atomic-file';
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
  // One headless Chromium for all; PNGs (optional) for places without a PDF viewer, such as the README.
  const stems = Object.keys(figures);
  const formats: Array<'pdf' | 'png'> = options.png ? ['pdf', 'png'] : ['pdf'];
  const rendered = await renderFigures(stems.map((stem) => figures[stem]), formats, options.env ?? process.env);
  const written: string[] = [];
  stems.forEach((stem, i) => {
    for (const format of formats) {
      const path = join(options.figuresDir, `${stem}.${format}`);
      writeFileAtomic(path, rendered[i][format] as Buffer);
      written.push(path);
    }
  });
  return { analysis, tables, figures: written };
}
