import type { MnistSplit } from './mnist';
import { PIXELS } from './shape';

/** Mean pixel intensity of a split on the [0, 1] scale (byte / 255). */
export function meanIntensity(split: MnistSplit): number {
  let sum = 0;
  const images = split.images;
  for (let i = 0; i < images.length; i++) sum += images[i];
  return images.length === 0 ? 0 : sum / images.length / 255;
}

/** Per-pixel mean intensity in [0, 1] (784 values): Burda's decoder output bias is its logit. */
export function pixelMeans(split: MnistSplit): Float64Array {
  const sums = new Float64Array(PIXELS);
  const images = split.images;
  for (let offset = 0; offset < images.length; offset += PIXELS) {
    for (let p = 0; p < PIXELS; p++) sums[p] += images[offset + p];
  }
  const scale = split.count === 0 ? 0 : 1 / (255 * split.count);
  for (let p = 0; p < PIXELS; p++) sums[p] *= scale;
  return sums;
}

/** How many images of each digit 0..9. */
export function labelCounts(split: MnistSplit): number[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < split.count; i++) counts[split.labels[i]]++;
  return counts;
}
