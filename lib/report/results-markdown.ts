import type { GridCoverage } from '../experiments/grid-coverage';
import type { GridRun } from '../experiments/grids';
import { modelLabel } from '../analysis/run-table';
import type { SummaryMetric } from '../analysis/summaries';
import type { RunRecord } from '../experiments/results';
import { readAttempts } from '../experiments/run-dir';
import type { StudyAnalysis } from './study-report';

const COLUMNS: Array<{ metric: SummaryMetric; label: string; digits: number }> = [
  { metric: 'activeUnitsTrain', label: 'active units (train)', digits: 1 },
  { metric: 'activeUnitsTest', label: 'active units (test)', digits: 1 },
  { metric: 'testStudyLoss', label: 'test loss, as the study reported it', digits: 2 },
  { metric: 'finalBound', label: '−L_k (training k)', digits: 2 },
  { metric: 'nll', label: 'NLL, −L_{finalK}', digits: 2 },
];

const STUDY_MODELS = new Set(['vae', 'iwae']);

/**
 * The paper-scale results as Markdown, computed from a results directory: what the README's Results
 * section shows (`iwae report --readme` writes it there, and the tests check the README still says
 * exactly this). Every study setting has a row, finished or not, so a partly trained grid reads as such.
 */
export function resultsMarkdown(analysis: StudyAnalysis, coverage: GridCoverage, runs: readonly GridRun[], records: readonly RunRecord[]): string {
  const lines: string[] = [];
  lines.push(`${coverageCount(coverage, 'runs')}; ${coverage.missing === 0 ? 'the grid is complete.' : `${coverage.missing} are still to be trained.`}`);
  lines.push('');
  const finalK = runs[0]?.config.evaluation.finalK ?? NaN;
  lines.push(`| model | k | init | seeds | ${COLUMNS.map((c) => c.label.replace('{finalK}', String(finalK))).join(' | ')} |`);
  lines.push(`| --- | --- | --- | --- | ${COLUMNS.map(() => '---').join(' | ')} |`);
  const settings = coverage.settings.filter((s) => STUDY_MODELS.has(s.model) && s.init !== 'truncated-normal');
  const order = (m: string) => (m === 'vae' ? 0 : 1);
  settings.sort((a, b) => a.k - b.k || order(a.model) - order(b.model) || a.init.localeCompare(b.init));
  for (const s of settings) {
    const row = analysis.summary.find((r) => r.model === s.model && r.k === s.k && r.init === s.init);
    const name = modelLabel(s.model, s.k).split(' ')[0];
    const cells = row
      ? COLUMNS.map((c) => formatMeanSE(row.mean[c.metric], row.se[c.metric], c.digits))
      : COLUMNS.map((_, i) => (i > 0 ? '' : s.failed === s.runs ? 'diverged' : 'not trained yet'));
    lines.push(`| ${name} | ${s.k} | ${s.init} | ${row ? row.seeds : 0} of ${s.runs} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Mean ± standard error over the finished seeds (of 135, 630, 924, 10, 32).');
  lines.push('');
  lines.push(
    'The claims, with the verdicts the analysis computes from these runs (`lib/analysis/claims.ts`)' +
      (coverage.missing > 0 ? '; until the grid is complete each rests only on the settings finished so far:' : ':'),
  );
  lines.push('');
  for (const c of analysis.claims) lines.push(`${c.id}. *${c.claim}* **${capitalize(c.verdict)}.** ${c.sentence}`);
  lines.push('');
  const sampledKl = coverage.settings.filter((s) => s.model === 'vae-sampled-kl');
  const sampledKlRuns = sampledKl.reduce((a, s) => a + s.runs, 0);
  const sampledKlFailed = sampledKl.reduce((a, s) => a + s.failed, 0);
  const ablation =
    sampledKlRuns > 0 && sampledKl.every((s) => s.completed === 0)
      ? `none of its ${sampledKlRuns} sampled-KL runs has completed ${sampledKlFailed > 0 ? `(${sampledKlFailed} diverged)` : 'yet'}, so it cannot be read.`
      : analysis.ablation.sentence;
  lines.push(`The k = 1 ablation (VAE with a sampled KL): ${ablation}`);
  const extras = coverage.settings.filter((s) => !STUDY_MODELS.has(s.model) || s.init === 'truncated-normal');
  const extrasDone = extras.reduce((a, s) => a + s.completed + s.failed, 0);
  const extrasRuns = extras.reduce((a, s) => a + s.runs, 0);
  const truncated = runs.filter((r) => r.config.init === 'truncated-normal').length;
  const truncatedSettings = coverage.settings.filter((s) => s.init === 'truncated-normal');
  const truncatedFailed = truncatedSettings.reduce((a, s) => a + s.failed, 0);
  const truncatedDone = truncatedSettings.reduce((a, s) => a + s.completed + s.failed, 0);
  // A truncated-normal run that never hit NaN/Inf still finishes: its numbers say what it learned.
  const survivors = records.filter((r) => r.status === 'completed' && r.config?.init === 'truncated-normal' && r.final);
  const survived = survivors.map((r) => {
    const last = r.epochs[r.epochs.length - 1];
    return `${modelLabel(r.config!.model, r.config!.k)} seed ${r.config!.seed} (test KL ${formatNats(last.testKL)} nats at epoch ${last.epoch}, NLL ${formatNats(r.final!.nll)})`;
  });
  lines.push(
    `Extras: ${extrasDone} of ${extrasRuns} finished; ${truncatedFailed} of the ${truncated} truncated-normal runs diverged${truncatedDone < truncated ? ' so far' : ''} (NaN/Inf, recorded as failed with the step and term)` +
      (survived.length > 0 ? `; ${survived.length} finished without a NaN: ${survived.join(', ')}.` : '.'),
  );
  const timing = stackTimes(records, coverage);
  if (timing.length > 0) {
    const total = timing.reduce((a, t) => a + t.trainingHours + t.evaluationMinutes / 60, 0);
    const seeds = new Set(runs.map((r) => r.config.seed)).size;
    lines.push('');
    lines.push(
      `Compute, from the runs' own records (each setting's ${seeds} seeds trained as one stack unless noted, mostly two stacks at a time on the machine's 2 cores, one thread each; ` +
        `per-epoch wall seconds summed, then the final evaluation): ` +
        timing.map((t) => `${t.setting}${computeNote(t, seeds)} ${t.trainingHours.toFixed(1)} h + ${Math.round(t.evaluationMinutes)} min`).join(', ') +
        `; ${total.toFixed(1)} stack-hours${coverage.missing > 0 ? ' so far' : ' in all'}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** What sets a setting's compute apart from one full stack: survivors of divergence, unfinished seeds, several stacks. */
function computeNote(t: { runs: number; stacks: number; failed: number }, seeds: number): string {
  const notes: string[] = [];
  if (t.runs < seeds) {
    const runs = `${t.runs} run${t.runs === 1 ? '' : 's'}`;
    notes.push(t.runs + t.failed >= seeds ? `${runs}, the others diverged` : `${runs} of ${seeds} so far`);
  }
  if (t.stacks > 1) notes.push(`as ${t.stacks} stacks`);
  return notes.length > 0 ? ` (${notes.join(', ')})` : '';
}

/** Nats to two decimals, in scientific notation where a run's numbers have blown up (keeps columns narrow). */
export function formatNats(value: number): string {
  return Math.abs(value) < 1e5 ? value.toFixed(2) : value.toExponential(1);
}

/**
 * Wall time of each setting's finished runs. Runs of one stack share their epochs and evaluation, so a
 * stack counts once (its slowest member); a setting trained as several stacks (a shard cut into smaller
 * stacks to finish within a session) adds them up. A stack is told by its runs' last attempt: one worker
 * process opening them within a minute of each other.
 */
export function stackTimes(records: readonly RunRecord[], coverage: GridCoverage): Array<{ setting: string; runs: number; stacks: number; failed: number; trainingHours: number; evaluationMinutes: number }> {
  // One name for a setting, so the failures counted from the coverage meet the runs they belong to.
  const settingName = (model: string, k: number, init: string) => `${modelLabel(model, k)} ${init}`;
  const bySetting = new Map<string, RunRecord[]>();
  const failedBySetting = new Map<string, number>();
  for (const s of coverage.settings) failedBySetting.set(settingName(s.model, s.k, s.init), s.failed);
  for (const r of records) {
    if (r.status !== 'completed' || !r.config || !r.final) continue;
    const key = settingName(r.config.model, r.config.k, r.config.init);
    bySetting.set(key, [...(bySetting.get(key) ?? []), r]);
  }
  return [...bySetting.entries()].map(([setting, rs]) => {
    const stacks = stacksOf(rs);
    const slowest = (members: RunRecord[], seconds: (r: RunRecord) => number) => Math.max(...members.map(seconds));
    return {
      setting,
      runs: rs.length,
      stacks: stacks.length,
      failed: failedBySetting.get(setting) ?? 0,
      trainingHours: stacks.reduce((a, m) => a + slowest(m, (r) => r.epochs.reduce((b, e) => b + e.seconds, 0)), 0) / 3600,
      evaluationMinutes: stacks.reduce((a, m) => a + slowest(m, (r) => r.final!.evaluationSeconds), 0) / 60,
    };
  });
}

/** Groups runs by the worker process and minute of their last attempt (runs without an attempt log: one group). */
function stacksOf(runs: readonly RunRecord[]): RunRecord[][] {
  const opened = runs.map((r) => ({ r, last: readAttempts(r.dir).at(-1) }));
  opened.sort((a, b) => (a.last?.startedTime ?? '').localeCompare(b.last?.startedTime ?? ''));
  const stacks: Array<{ process: string; time: number; members: RunRecord[] }> = [];
  for (const { r, last } of opened) {
    const process = last ? `${last.hostname}:${last.pid}` : '';
    const time = last ? Date.parse(last.startedTime) : 0;
    const current = stacks.find((s) => s.process === process && Math.abs(time - s.time) < 60_000);
    if (current) current.members.push(r);
    else stacks.push({ process, time, members: [r] });
  }
  return stacks.map((s) => s.members);
}

/** "N of M <what> have finished (C completed, F diverged)": the first words of a generated block. */
export function coverageCount(coverage: GridCoverage, what: string): string {
  return `${coverage.completed + coverage.failed} of ${coverage.total} ${what} have finished (${coverage.completed} completed, ${coverage.failed} diverged)`;
}

export function formatMeanSE(mean: number, se: number, digits: number): string {
  if (!Number.isFinite(mean)) return '—';
  return Number.isFinite(se) ? `${mean.toFixed(digits)} ± ${se.toFixed(digits)}` : mean.toFixed(digits);
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The name of the README block with a profile's Experiment 3 results (beside the block named by the profile). */
export function experiment3Block(profile: string): string {
  return `${profile}-experiment3`;
}

/** The README's markers around a generated block: a profile's results, or its Experiment 3 (experiment3Block). */
export function blockMarkers(profile: string): { begin: string; end: string } {
  return { begin: `<!-- results:${profile}:begin (generated by iwae report --readme; do not edit by hand) -->`, end: `<!-- results:${profile}:end -->` };
}

/** The text between a profile's markers, or null when the file has none. */
export function markedBlock(text: string, profile: string): string | null {
  const { begin, end } = blockMarkers(profile);
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return null;
  return text.slice(from + begin.length + 1, to);
}

/** `text` with the block between the profile's markers replaced by `content`; an Error if the markers are absent. */
export function replaceMarkedBlock(text: string, profile: string, content: string): string {
  const { begin, end } = blockMarkers(profile);
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no "${begin}" ... "${end}" block to replace`);
  return `${text.slice(0, from + begin.length)}\n${content}${text.slice(to)}`;
}
