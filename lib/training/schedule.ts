/** Learning-rate schedules, per epoch (1-based). */
export type ScheduleName = 'burda' | 'constant';

/**
 * Burda et al.'s schedule: phase i = 0..7 lasts 3^i epochs at `base` * 10^(-i/7) (3,280 epochs in all;
 * later epochs stay in the last phase). The study applied it per epoch and stopped at 80 epochs, i.e.
 * phases of 1, 3, 9, 27 and 40 epochs.
 */
export function burdaPhase(epoch: number): number {
  if (!Number.isInteger(epoch) || epoch < 1) throw new RangeError(`epoch must be an integer >= 1, got ${epoch}`);
  let end = 0;
  for (let i = 0; i < 8; i++) {
    end += 3 ** i;
    if (epoch <= end) return i;
  }
  return 7;
}

export function learningRateAt(epoch: number, base: number, schedule: ScheduleName): number {
  if (schedule === 'constant') return base;
  return base * Math.pow(10, -burdaPhase(epoch) / 7);
}
