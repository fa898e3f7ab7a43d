import { SingleBar } from 'cli-progress';
import type { GridEvent } from './grid-runner';

/**
 * Shows a grid's progress on `stream` (the CLI passes stderr): a live bar on a terminal, plain lines
 * otherwise (logs of cluster jobs, CI). The ETA counts partial runs (steps done), so it moves before the
 * first run finishes.
 */
export interface GridReporter {
  onEvent(event: GridEvent): void;
  close(): void;
}

/** Share of a run's time spent in training vs the final evaluation (for the ETA only). */
const TRAINING_SHARE = 0.85;

export function createGridReporter(stream: NodeJS.WriteStream, title: string): GridReporter {
  const startedMs = Date.now();
  const partial = new Map<string, number>();
  const epochShown = new Map<string, string>();
  let total = 0;
  let toRun = 0;
  let resolvedAtStart = 0;
  let resolved = 0;
  const live = Boolean(stream.isTTY);
  const bar = live
    ? new SingleBar({
        stream,
        format: `${title} |{bar}| {value}/{total} runs | ETA {eta_text} | {activity}`,
        hideCursor: true,
        barsize: 24,
        fps: 4,
      })
    : null;

  const line = (text: string) => {
    if (bar) bar.stop();
    stream.write(`[grid] ${text}\n`);
    if (bar) bar.start(total, resolved, payload());
  };
  const etaText = (): string => {
    const doneUnits = resolved - resolvedAtStart + [...partial.values()].reduce((a, b) => a + b, 0);
    const remaining = toRun - doneUnits;
    if (doneUnits <= 0.01 || remaining <= 0) return remaining <= 0 ? '0s' : '--';
    return formatSeconds((((Date.now() - startedMs) / 1000) * remaining) / doneUnits);
  };
  const payload = () => ({
    eta_text: etaText(),
    activity: [...partial.keys()].map((id) => `${shortId(id)} ${epochShown.get(id) ?? ''}`).join(', ') || 'idle',
  });

  return {
    onEvent(event: GridEvent): void {
      switch (event.type) {
        case 'start':
          total = event.total;
          toRun = event.toRun;
          resolved = resolvedAtStart = event.alreadyDone;
          stream.write(
            `[grid] ${title}: ${event.total} runs, ${event.alreadyDone} already done, ${event.toRun} to run` +
              (event.toRun > 0 ? ` on ${event.workers} worker${event.workers === 1 ? '' : 's'}\n` : '\n'),
          );
          if (bar && event.toRun > 0) bar.start(total, resolved, payload());
          return;
        case 'progress': {
          const fraction = event.phase === 'training' ? (TRAINING_SHARE * event.done) / event.total : TRAINING_SHARE + ((1 - TRAINING_SHARE) * event.done) / event.total;
          partial.set(event.id, fraction);
          const where = event.phase === 'training' ? `epoch ${event.epoch}/${event.epochs}` : 'final evaluation';
          if (epochShown.get(event.id) !== where) {
            epochShown.set(event.id, where);
            if (!bar) line(`${event.id}: ${where}`);
          }
          bar?.update(resolved, payload());
          return;
        }
        case 'run-done':
          partial.delete(event.id);
          epochShown.delete(event.id);
          resolved = event.done;
          if (event.status === 'failed') line(`${event.id} FAILED: ${event.failure?.message ?? 'see its status.json'}`);
          else if (event.by === 'this-grid') {
            if (!bar) line(`${event.done}/${event.total} done, ETA ${etaText()}: ${event.id} completed in ${formatSeconds(event.seconds ?? 0)}`);
          } else if (!bar) line(`${event.done}/${event.total} done: ${event.id} was completed by another process`);
          bar?.update(resolved, payload());
          return;
        case 'run-error':
          partial.delete(event.id);
          epochShown.delete(event.id);
          resolved = event.done;
          line(`${event.id} ERROR: ${event.message}`);
          return;
        case 'waiting':
          line(`${event.id} is held by ${event.holder ? `pid ${event.holder.pid} on ${event.holder.hostname}` : 'another process'}; waiting for it`);
          return;
        case 'stopping':
          line(`stopping (${event.reason}): no new runs; finished epochs are kept`);
          return;
      }
    },
    close(): void {
      bar?.stop();
    },
  };
}

function shortId(id: string): string {
  return id.replace(/-[0-9a-f]{8}$/, '');
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
