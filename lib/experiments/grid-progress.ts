import { SingleBar } from 'cli-progress';
import type { GridEvent } from './grid-runner';
import { lockStaleAtMs, readLock, type LockInfo, type LockOptions, type LockOwner } from './lock';
import { RUN_FILES, runDirPath, runFile } from './run-dir';

/**
 * Shows a grid's progress on `stream` (the CLI passes stderr): a live bar on a terminal, plain lines
 * otherwise (logs of cluster jobs, CI), where each new epoch of a stack says its pace and when its
 * training ends. The ETA counts partial runs (steps done), so it moves before the first run finishes;
 * it counts only the work done by this process, so a resumed grid (runs already at epoch 40) does not
 * look almost done.
 */
export interface GridReporter {
  onEvent(event: GridEvent): void;
  close(): void;
}

/** Share of a run's time spent in training vs the final evaluation (for the ETA only). */
const TRAINING_SHARE = 0.85;

export interface GridReporterOptions {
  /** The grid's results root: lets a 'waiting' line say who holds a run's lock and when it goes stale. */
  resultsDir?: string;
  /** The clock (ms since the epoch); tests pass their own. */
  now?: () => number;
}

export function createGridReporter(stream: NodeJS.WriteStream, title: string, options: GridReporterOptions = {}): GridReporter {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const partial = new Map<string, number>();
  // Each run's progress when this process first saw it (done by an earlier process), and each stack's
  // first epoch seen here and when: what the ETA and the pace are measured from.
  const baseline = new Map<string, number>();
  const firstEpoch = new Map<string, { epoch: number; ms: number }>();
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
    const eta = gridEtaSeconds({ elapsedSeconds: (now() - startedMs) / 1000, toRun, resolvedHere: resolved - resolvedAtStart, live: partial.values(), prior: baseline.values() });
    return eta === undefined ? '--' : eta === 0 ? '0s' : formatSeconds(eta);
  };
  /** ", 91.0 s per epoch: training ends in ~58m 00s" once a stack has trained an epoch here. */
  const pace = (key: string, epoch: number, epochs: number): string => {
    const first = firstEpoch.get(key);
    if (!first) {
      firstEpoch.set(key, { epoch, ms: now() });
      return '';
    }
    if (epoch <= first.epoch) return '';
    const perEpoch = (now() - first.ms) / 1000 / (epoch - first.epoch);
    return `, ${formatSeconds(perEpoch)} per epoch: training ends in ~${formatSeconds(perEpoch * (epochs - epoch + 1))}`;
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
          for (const id of event.ids) {
            if (!baseline.has(id)) baseline.set(id, fraction);
            partial.set(id, fraction);
          }
          const where = event.phase === 'training' ? `epoch ${event.epoch}/${event.epochs}` : 'final evaluation';
          const key = event.ids[0];
          const label = event.ids.length === 1 ? key : `stack of ${event.ids.length} (${key}, ...)`;
          if (epochShown.get(key) !== where) {
            epochShown.set(key, where);
            const detail = event.phase === 'training' ? pace(key, event.epoch, event.epochs) : '';
            if (!bar) line(`${label}: ${where}${detail}${detail ? `; grid ETA ${etaText()}` : ''}`);
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
        case 'damaged':
          line(`${event.id}: ${event.problem}; ${event.repairable ? 'rebuilding it from the checkpoint' : 'cannot be rebuilt (no checkpoint)'}`);
          return;
        case 'waiting': {
          const lock = options.resultsDir === undefined ? null : readLockQuietly(runFile(runDirPath(options.resultsDir, event.id), 'lock'));
          line(describeWait(event.id, event.holder, lock));
          return;
        }
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

/**
 * Seconds left of a grid, from the work done by this process so far: `toRun` runs, `resolvedHere` of
 * them finished since it started, `live` the fractions (0..1) of the runs in progress, `prior` the
 * fraction each run seen had when this process first saw it (done by an earlier process: not part of the
 * pace). Undefined until there is a pace to go by; 0 when nothing is left.
 */
export function gridEtaSeconds(progress: { elapsedSeconds: number; toRun: number; resolvedHere: number; live: Iterable<number>; prior: Iterable<number> }): number | undefined {
  const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
  const finished = progress.resolvedHere + sum(progress.live);
  const remaining = progress.toRun - finished;
  if (remaining <= 0) return 0;
  const doneHere = finished - sum(progress.prior);
  if (doneHere <= 0.01) return undefined;
  return (progress.elapsedSeconds * remaining) / doneHere;
}

function readLockQuietly(path: string): LockInfo | null {
  try {
    return readLock(path);
  } catch {
    return null; // unreadable (permissions): the line falls back to the holder the worker saw
  }
}

/**
 * One line on a run another process holds: who holds it and, for a lock judged by its heartbeat (another
 * host's, or a file that is not a lock), how long until it is judged stale and taken over. `lock` is the
 * lock as read now (null: gone or unreadable; then only the holder the worker saw is known).
 */
export function describeWait(id: string, seenHolder: LockOwner | null, lock: LockInfo | null, nowMs = Date.now(), options: LockOptions = {}): string {
  if (lock === null) {
    const who = seenHolder ? `pid ${seenHolder.pid} on ${seenHolder.hostname}` : 'another process';
    return `${id} is held by ${who}; waiting for it`;
  }
  const staleAt = lockStaleAtMs(lock, options);
  if (staleAt === null) {
    return `${id} is held by pid ${lock.owner?.pid} on this host; waiting for it (taken over as soon as that process is gone)`;
  }
  const staleAfter = formatSeconds((staleAt - lock.mtimeMs) / 1000);
  const left = staleAt - nowMs;
  const when = left > 0 ? `in ${formatSeconds(left / 1000)}` : 'now';
  const age = formatSeconds(Math.max(0, nowMs - lock.mtimeMs) / 1000);
  if (lock.owner === null) {
    return `${id}: its ${RUN_FILES.lock} is unreadable as a lock (last changed ${age} ago); waiting: unless it is replaced, it is taken over as stale ${when} (${staleAfter} after its last change)`;
  }
  return `${id} is held by pid ${lock.owner.pid} on ${lock.owner.hostname} (last heartbeat ${age} ago); waiting: without a new heartbeat it is taken over as stale ${when} (${staleAfter} after the last)`;
}

function shortId(id: string): string {
  return id.replace(/-[0-9a-f]{8}$/, '');
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  // Round once, so 299.9 s is "5m 00s", not "4m 60s".
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m ${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
