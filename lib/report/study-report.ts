import * as dfd from 'danfojs-node';
import { join } from 'node:path';
import { claimInitHasMinimalEffect, claimIwaeMoreActiveUnits, claimStableTotalVaryingUnits, kOneAblation, type ClaimCheck, type KOneAblation } from '../analysis/claims';
import { initEffects, pairedModelComparison, type InitEffect, type ModelComparison } from '../analysis/experiment1';
import { seedStability, type SeedStability } from '../analysis/experiment2';
import { runRows, type RunRow } from '../analysis/run-table';
import { summarizeBySetting, summaryFrame, type SummaryRow } from '../analysis/summaries';
import type { RunRecord } from '../experiments/results';
import { writeFileAtomic } from '../io/atomic-file';
import {
  activeUnitsOverEpochsFigure,
  activityHeatmapFigure,
  activityHistogramFigure,
  experiment1BarsFigure,
  jaccardMatrixFigure,
  jaccardVersusNullFigure,
  kOneAblationFigure,
  lossCurvesFigure,
} from '../figures/study-figures';
import type { PlotlyFigure } from '../figures/types';
import { createStream } from '../random/streams';

/** Everything the analysis notebooks and `iwae report` show, computed once from a results directory. */
export interface StudyAnalysis {
  rows: RunRow[];
  /** The study's own grid (VAE and IWAE); extras (truncated normal, sampled KL) only in the ablation. */
  studyRows: RunRow[];
  summary: SummaryRow[];
  initEffects: InitEffect[];
  iwaeVsVae: ModelComparison | null;
  stability: SeedStability[];
  claims: ClaimCheck[];
  ablation: KOneAblation;
}

const STUDY_INITS = new Set(['xavier-uniform', 'xavier-normal', 'he-uniform', 'he-normal']);

export function analyzeStudy(records: readonly RunRecord[], options: { seed?: number; draws?: number; threshold?: number } = {}): StudyAnalysis {
  const rows = runRows(records);
  const studyRows = rows.filter((r) => (r.model === 'vae' || r.model === 'iwae') && STUDY_INITS.has(r.init));
  const stability = seedStability(studyRows, createStream(options.seed ?? 0, 'overlap-null'), {
    threshold: options.threshold,
    draws: options.draws ?? 5000,
  });
  return {
    rows,
    studyRows,
    summary: summarizeBySetting(studyRows),
    initEffects: initEffects(studyRows),
    iwaeVsVae: pairedModelComparison(studyRows, 'iwae', 'vae', 5, 'activeUnitsTrain'),
    stability,
    claims: [claimIwaeMoreActiveUnits(studyRows), claimInitHasMinimalEffect(studyRows), claimStableTotalVaryingUnits(stability)],
    ablation: kOneAblation(rows.filter((r) => r.k === 1 && STUDY_INITS.has(r.init))),
  };
}

/** "3 epochs, 3k images, 3 seeds": the scale of the runs, for figure titles when no profile label is given. */
export function scaleLabel(records: readonly RunRecord[]): string {
  const configs = records.flatMap((r) => (r.config ? [r.config] : []));
  if (configs.length === 0) return 'no runs';
  const distinct = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
  const epochs = distinct(configs.map((c) => c.epochs));
  const sizes = distinct(configs.map((c) => c.trainSize));
  const seeds = distinct(configs.map((c) => c.seed));
  const size = (n: number) => (n >= 1000 ? `${Math.round(n / 100) / 10}k` : String(n));
  return `${epochs.join('/')} epochs, ${sizes.map(size).join('/')} images, ${seeds.length} seeds`;
}

/** Every figure of the study, by file stem (figures/<stem>.pdf). */
export function studyFigures(analysis: StudyAnalysis, records: readonly RunRecord[], label: string): Record<string, PlotlyFigure> {
  const studyRecords = records.filter((r) => r.config && (r.config.model === 'vae' || r.config.model === 'iwae') && STUDY_INITS.has(r.config.init));
  const figures: Record<string, PlotlyFigure> = {
    'loss-curves': lossCurvesFigure(studyRecords, label),
    'active-units-over-epochs': activeUnitsOverEpochsFigure(studyRecords, label),
    'experiment1-active-units-by-init': experiment1BarsFigure(analysis.summary, label),
    'experiment2-activity-heatmap': activityHeatmapFigure(analysis.studyRows.filter((r) => r.k === 5), label),
    'experiment2-jaccard-vs-null': jaccardVersusNullFigure(analysis.stability, label),
    'activity-histogram': activityHistogramFigure(analysis.studyRows, label),
    'k1-ablation': kOneAblationFigure(analysis.ablation, label),
  };
  const iwae5 = analysis.stability.find((s) => s.model === 'iwae' && s.k === 5);
  if (iwae5) figures['experiment2-jaccard-matrix-iwae-k5'] = jaccardMatrixFigure(iwae5, label);
  return figures;
}

/** The tables, as danfo DataFrames (shown in notebooks, written as CSV by `writeStudyTables`). */
export function studyTables(analysis: StudyAnalysis): Record<string, dfd.DataFrame> {
  const tables: Record<string, dfd.DataFrame> = {};
  if (analysis.summary.length) tables['summary-by-setting'] = summaryFrame(analysis.summary);
  if (analysis.initEffects.length) {
    tables['experiment1-init-effect'] = new dfd.DataFrame(
      analysis.initEffects.map((e) => ({
        model: e.model,
        k: e.k,
        // Mean and SE as numbers (the CSV keeps them whole); a table shows each pair as one "mean ± SE" column.
        ...Object.fromEntries(Object.entries(e.byInit).flatMap(([init, m]) => [[init, m.mean], [`${init}SE`, m.se]])),
        anovaF: e.anova.statistic,
        anovaP: e.anova.pValue,
        kruskalH: e.kruskal.statistic,
        kruskalP: e.kruskal.pValue,
      })),
    );
  }
  if (analysis.stability.length) {
    tables['experiment2-seed-stability'] = new dfd.DataFrame(
      analysis.stability.map((s) => ({
        model: s.model,
        k: s.k,
        init: s.init,
        seeds: s.seeds.join(' '),
        activeUnits: s.counts.join(' '),
        mean: s.count.mean,
        se: s.count.se,
        jaccard: s.overlap.observed,
        jaccardRandom: s.overlap.expectedUnderNull,
        pValue: s.overlap.pValue,
        belowChanceP: s.overlap.pValueBelow,
      })),
    );
  }
  tables['claims'] = new dfd.DataFrame(analysis.claims.map((c) => ({ claim: c.id, verdict: c.verdict, evidence: c.sentence })));
  return tables;
}

/** Writes each table as CSV (temp file + rename); returns the paths. */
export function writeStudyTables(analysis: StudyAnalysis, dir: string): string[] {
  return Object.entries(studyTables(analysis)).map(([name, frame]) => {
    const path = join(dir, `${name}.csv`);
    writeFileAtomic(path, dfd.toCSV(frame, {}) as string);
    return path;
  });
}
