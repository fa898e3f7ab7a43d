import type { GridEvent } from '../experiments/grid-runner';
import { formatSeconds, gridEtaSeconds } from '../experiments/grid-progress';
import { displayBundle, type MimeBundle } from './kernel';

/** Share of a run's time spent training vs in the final evaluation (for the ETA only, as in the CLI). */
const TRAINING_SHARE = 0.85;
/** At most this many redraws per second while epochs tick (finished runs always redraw). */
const REDRAWS_PER_SECOND = 4;

export interface GridProgressState {
  title: string;
  total: number;
  done: number;
  toRun: number;
  /** Runs in progress: short id -> "epoch 2/3" or "final evaluation", with the fraction done. */
  active: Map<string, { where: string; fraction: number }>;
  /** Each run's fraction when first seen here (done by an earlier process): left out of the ETA's pace. */
  prior: Map<string, number>;
  failed: number;
  elapsedSeconds: number;
  finished: boolean;
  /** Finished by Kernel > Interrupt rather than by running out of work. */
  interrupted?: boolean;
}

function shortId(id: string): string {
  return id.replace(/-[0-9a-f]{8}$/, '');
}

export function etaSeconds(state: GridProgressState, doneAtStart: number): number | undefined {
  return gridEtaSeconds({
    elapsedSeconds: state.elapsedSeconds,
    toRun: state.toRun,
    resolvedHere: state.done - doneAtStart,
    live: [...state.active.values()].map((a) => a.fraction),
    prior: state.prior.values(),
  });
}

/** The display: a small HTML bar (like tqdm.notebook) and the same as one plain-text line. */
export function progressBundle(state: GridProgressState, eta: number | undefined): MimeBundle {
  const width = 24;
  const fraction = state.total ? state.done / state.total : 1;
  const filled = Math.round(fraction * width);
  const activity = state.finished ? (state.interrupted ? 'interrupted' : 'done') : [...state.active.entries()].map(([id, a]) => `${id} ${a.where}`).join(', ') || 'starting';
  const timing = state.finished ? `${formatSeconds(state.elapsedSeconds)}` : `ETA ${eta === undefined ? '--' : formatSeconds(eta)}`;
  const failed = state.failed ? ` | ${state.failed} failed` : '';
  const text = `${state.title} |${'█'.repeat(filled)}${'░'.repeat(width - filled)}| ${state.done}/${state.total} runs | ${timing}${failed} | ${activity}`;
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const html =
    `<div class="iwae-progress" style="font-family:monospace;font-size:12px;display:flex;gap:8px;align-items:center">` +
    `<span>${esc(state.title)}</span>` +
    `<progress value="${state.done}" max="${state.total}" style="width:220px"></progress>` +
    `<span>${state.done}/${state.total} runs · ${esc(timing)}${esc(failed.replace(' | ', ' · '))}</span>` +
    `<span style="color:#666">${esc(activity)}</span></div>`;
  return { data: { 'text/html': html, 'text/plain': text }, metadata: {} };
}

/**
 * A live progress display for a grid trained from a notebook: one output that updates in place (a
 * display id, as tqdm.notebook does), plus permanent lines for what must not be missed (a run held by
 * another process, failures). Outside a notebook kernel it shows nothing (the caller's log lines remain).
 */
export class GridProgressDisplay {
  private readonly state: GridProgressState;
  private readonly startedMs = Date.now();
  private readonly displayId = `iwae-grid-${process.pid}-${Date.now().toString(36)}`;
  private doneAtStart = 0;
  private shown = false;
  private lastDrawMs = 0;

  constructor(title: string, private readonly line: (text: string) => void = console.log) {
    this.state = { title, total: 0, done: 0, toRun: 0, active: new Map(), prior: new Map(), failed: 0, elapsedSeconds: 0, finished: false };
  }

  onEvent(event: GridEvent): void {
    const s = this.state;
    switch (event.type) {
      case 'start':
        s.total = event.total;
        s.done = this.doneAtStart = event.alreadyDone;
        s.toRun = event.toRun;
        return this.draw(true);
      case 'progress': {
        const fraction = event.phase === 'training' ? (TRAINING_SHARE * event.done) / event.total : TRAINING_SHARE + ((1 - TRAINING_SHARE) * event.done) / event.total;
        for (const id of event.ids) {
          if (!s.prior.has(shortId(id))) s.prior.set(shortId(id), fraction);
          s.active.set(shortId(id), { where: event.phase === 'training' ? `epoch ${event.epoch}/${event.epochs}` : 'final evaluation', fraction });
        }
        return this.draw(false);
      }
      case 'run-done':
        s.active.delete(shortId(event.id));
        s.done = event.done;
        if (event.status === 'failed') {
          s.failed += 1;
          this.line(`${event.id} FAILED: ${event.failure?.message ?? 'see its status.json'}`);
        }
        return this.draw(true);
      case 'run-error':
        s.active.delete(shortId(event.id));
        s.done = event.done;
        return this.draw(true);
      case 'waiting':
        this.line(`${event.id} is held by ${event.holder ? `pid ${event.holder.pid} on ${event.holder.hostname}` : 'another process'}; waiting for it`);
        return;
      default:
        return;
    }
  }

  /** The final state (always drawn, whatever the redraw rate). */
  close(options: { interrupted?: boolean } = {}): void {
    this.state.finished = true;
    this.state.interrupted = options.interrupted ?? false;
    this.state.active.clear();
    if (this.state.toRun > 0) this.draw(true);
  }

  private draw(always: boolean): void {
    const now = Date.now();
    if (!always && now - this.lastDrawMs < 1000 / REDRAWS_PER_SECOND) return;
    // Nothing to train: no bar at all, the caller's summary line says the runs were reused.
    if (this.state.toRun === 0) return;
    this.lastDrawMs = now;
    this.state.elapsedSeconds = (now - this.startedMs) / 1000;
    const bundle = progressBundle(this.state, etaSeconds(this.state, this.doneAtStart));
    displayBundle(bundle, { displayId: this.displayId, update: this.shown });
    this.shown = true;
  }
}
