import { parseRunConfig, type RunConfig } from '../config/run-config';
import type { GridAxes, Profile, RunSettings } from './profiles';
import { runId } from './run-id';

/**
 * Which experiment's runs: '1', '2' or '3', or 'all': the study's, Experiments 1 and 2 (they share
 * runs). Experiment 3 (gradient estimators, with the gradient SNR measured) is this project's own, with
 * runs of its own: it runs only when selected, so 'all' stays the study's grid.
 */
export const EXPERIMENT_SELECTIONS = ['1', '2', '3', 'all'] as const;
export type ExperimentSelection = (typeof EXPERIMENT_SELECTIONS)[number];

/** Which parts of a profile a run belongs to (a run may serve several). */
export type GridPart = 'experiment-1' | 'experiment-2' | 'experiment-3' | 'extras';

export interface GridRun {
  id: string;
  config: RunConfig;
  parts: GridPart[];
}

/** Every combination of `axes`, with the profile's settings: validated configs. */
export function expandAxes(settings: RunSettings, axes: GridAxes): RunConfig[] {
  // Only a block that measures the SNR gets the field: every other config stays as it was (its run id too).
  const blockSettings: RunSettings = axes.gradientSnr ? { ...settings, evaluation: { ...settings.evaluation, gradientSnr: axes.gradientSnr } } : settings;
  const configs: RunConfig[] = [];
  for (const init of axes.inits) {
    for (const model of axes.models) {
      for (const k of axes.ks) {
        for (const seed of axes.seeds) configs.push(parseRunConfig({ ...blockSettings, model, k, init, seed }));
      }
    }
  }
  return configs;
}

/**
 * The runs of `profile` for the selected experiment(s) (and extras), one per distinct config, sorted by
 * id. Experiments 1 and 2 share runs: a run listed by both appears once, with both parts. 'all' is
 * Experiments 1 and 2; Experiment 3 only when selected.
 */
export function gridRuns(profile: Profile, options: { experiment?: ExperimentSelection; extras?: boolean } = {}): GridRun[] {
  const experiment = options.experiment ?? 'all';
  const blocks: Array<[GridPart, readonly GridAxes[]]> = [];
  if (experiment === '1' || experiment === 'all') blocks.push(['experiment-1', profile.experiments[1]]);
  if (experiment === '2' || experiment === 'all') blocks.push(['experiment-2', profile.experiments[2]]);
  if (experiment === '3') blocks.push(['experiment-3', profile.experiments[3]]);
  if (options.extras) blocks.push(['extras', profile.extras]);
  const byId = new Map<string, GridRun>();
  for (const [part, axesList] of blocks) {
    for (const axes of axesList) {
      for (const config of expandAxes(profile.settings, axes)) {
        const id = runId(config);
        const run = byId.get(id) ?? { id, config, parts: [] };
        if (!run.parts.includes(part)) run.parts.push(part);
        byId.set(id, run);
      }
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
