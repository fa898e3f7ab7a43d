/**
 * Kernel > Interrupt in the notebook kernel, reported in one line instead of tslab's stack trace.
 *
 * On SIGINT tslab stops awaiting the cell and prints its own `Error: Interrupted asynchronously` with a
 * stack into tslab's startup code, through the `console.error` it captured when the kernel started (so
 * patching `console.error` later, from a cell, cannot reach it). The kernel preload
 * (lib/notebook/kernel-preload.ts) therefore installs `quietInterrupts` before tslab starts. Work that
 * handles the interrupt itself (the training grid: it stops its workers and prints what is left) claims
 * it with `claimInterrupts`. (Its later rejection reaches no handler of ours: tslab's Promise.race on
 * the cell already holds it.)
 *
 * The state lives on a global symbol: the preload and the cells load this file as separate module
 * instances (Node's loader for one, tslab's for the other).
 */

/** The message of tslab's interrupt error (tslab/dist/executor.js). */
export const TSLAB_INTERRUPT_MESSAGE = 'Interrupted asynchronously';

/** An interrupt already reported by its one line; carries no stack (nothing in the code went wrong). */
export class HandledInterrupt extends Error {
  constructor(line: string) {
    super(line);
    this.name = 'HandledInterrupt';
    this.stack = line;
  }
}

interface InterruptState {
  claims: number;
  installed: boolean;
}

const STATE_KEY = Symbol.for('iwae-lab.notebook-interrupts');

function state(): InterruptState {
  const g = globalThis as unknown as Record<symbol, InterruptState | undefined>;
  return (g[STATE_KEY] ??= { claims: 0, installed: false });
}

/** While the returned release function has not been called, an interrupt is the caller's to report. */
export function claimInterrupts(): () => void {
  const s = state();
  s.claims += 1;
  let released = false;
  return () => {
    if (!released) s.claims -= 1;
    released = true;
  };
}

/**
 * What `console.error(...args)` should print instead of tslab's interrupt report: nothing when the
 * interrupt was claimed (its owner prints its own line), one plain line otherwise; undefined for
 * anything else (printed as is).
 */
export function interruptReplacement(args: readonly unknown[], claimed: boolean): string | null | undefined {
  const isTslabInterrupt = args.length === 1 && args[0] instanceof Error && args[0].message === TSLAB_INTERRUPT_MESSAGE;
  if (!isTslabInterrupt) return undefined;
  return claimed ? null : 'interrupted (Kernel > Interrupt): the cell stopped waiting';
}

/** Wraps `target.error` (the global console, before tslab captures it) so interrupts print one line at most. */
export function quietInterrupts(target: Pick<Console, 'error'> = console): void {
  const s = state();
  if (s.installed) return;
  s.installed = true;
  const error = target.error.bind(target);
  target.error = (...args: unknown[]) => {
    const replacement = interruptReplacement(args, state().claims > 0);
    if (replacement === undefined) error(...args);
    else if (replacement !== null) error(replacement);
  };
}
