/**
 * Burda et al.'s activity statistic A_u = Cov_x(E_q[u|x]): the variance over data points of each latent
 * unit's posterior mean. Accumulated batch by batch (Chan et al.'s parallel form of Welford's update, in
 * float64), so a dataset of any size needs O(latent) memory, not all activations at once.
 */
export class ActivityAccumulator {
  private count = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly units: number) {
    this.mean = new Float64Array(units);
    this.m2 = new Float64Array(units);
  }

  /** Adds `rows` posterior means, row-major [rows, units]. */
  add(values: ArrayLike<number>, rows: number): void {
    const units = this.units;
    if (values.length !== rows * units) throw new RangeError(`expected ${rows * units} values, got ${values.length}`);
    if (rows === 0) return;
    const batchMean = new Float64Array(units);
    for (let r = 0; r < rows; r++) for (let u = 0; u < units; u++) batchMean[u] += values[r * units + u];
    for (let u = 0; u < units; u++) batchMean[u] /= rows;
    const batchM2 = new Float64Array(units);
    for (let r = 0; r < rows; r++) {
      for (let u = 0; u < units; u++) {
        const d = values[r * units + u] - batchMean[u];
        batchM2[u] += d * d;
      }
    }
    const total = this.count + rows;
    for (let u = 0; u < units; u++) {
      const delta = batchMean[u] - this.mean[u];
      this.mean[u] += (delta * rows) / total;
      this.m2[u] += batchM2[u] + (delta * delta * this.count * rows) / total;
    }
    this.count = total;
  }

  /** Data points seen so far. */
  get samples(): number {
    return this.count;
  }

  /** Unbiased variance (n - 1) of each unit's posterior mean; zeros before two data points. */
  activity(): number[] {
    const n = this.count;
    return Array.from(this.m2, (m2) => (n > 1 ? m2 / (n - 1) : 0));
  }
}

/** A_u for every unit and the number of active units (A_u > threshold; Burda: 1e-2). */
export interface ActiveUnits {
  activity: number[];
  count: number;
}

export function activeUnitsOf(activity: number[], threshold: number): ActiveUnits {
  return { activity, count: activity.filter((a) => a > threshold).length };
}
