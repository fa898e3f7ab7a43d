import { binarizeImages, fixedBinarization, type Binarizer } from '../data/binarize';
import type { MnistSplit } from '../data/mnist';
import { IMAGE_SIDE, PIXELS } from '../data/shape';
import { sliceSplit } from '../data/subsets';
import type { RandomStream } from '../random/streams';
import { SERIES_COLORS, axisStyle, baseLayout, FIGURE_WIDTH, titleMargin } from './style';
import type { PlotlyFigure } from './types';

/** One panel of digits: `count` images of 784 values in [0, 1], tiled `columns` wide. */
export interface ImagePanel {
  title: string;
  images: ArrayLike<number>;
  count: number;
  columns: number;
  /** Show a color bar (for continuous values such as means). */
  colorbar?: boolean;
}

/** Cells of background between tiled digits, so each digit reads on its own. */
const GAP = 2;
/** Ink on paper: 0 white, 1 black. */
const INK = [
  [0, '#ffffff'],
  [1, '#000000'],
];

/** The images tiled into one matrix (rows of pixel values, null in the gaps), row-major by image. */
export function tileImages(images: ArrayLike<number>, count: number, columns: number): Array<Array<number | null>> {
  const rows = Math.ceil(count / columns);
  const height = rows * IMAGE_SIDE + (rows - 1) * GAP;
  const width = columns * IMAGE_SIDE + (columns - 1) * GAP;
  const grid: Array<Array<number | null>> = Array.from({ length: height }, () => new Array<number | null>(width).fill(null));
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * (IMAGE_SIDE + GAP);
    const left = (i % columns) * (IMAGE_SIDE + GAP);
    for (let r = 0; r < IMAGE_SIDE; r++) {
      for (let c = 0; c < IMAGE_SIDE; c++) grid[top + r][left + c] = images[i * PIXELS + r * IMAGE_SIDE + c];
    }
  }
  return grid;
}

/** Panels side by side, each with square pixels, under one title. */
export function imagePanelsFigure(panels: ImagePanel[], title: string, subtitle?: string): PlotlyFigure {
  const widths = panels.map((p) => p.columns * (IMAGE_SIDE + GAP) - GAP);
  const heights = panels.map((p) => Math.ceil(p.count / p.columns) * (IMAGE_SIDE + GAP) - GAP);
  const spacing = 0.04;
  const colorbarSpace = panels.some((p) => p.colorbar) ? 0.1 : 0;
  const usable = 1 - spacing * (panels.length - 1) - colorbarSpace;
  const totalWidth = widths.reduce((a, b) => a + b, 0);
  const layout: Record<string, unknown> = {
    ...baseLayout(title, subtitle),
    plot_bgcolor: '#c8c8c8',
    annotations: [] as unknown[],
  };
  const plotWidth = FIGURE_WIDTH - 40;
  // Cells of at most 9 px: a lone image would otherwise fill the whole width.
  const pixel = Math.min(9, (plotWidth * usable) / totalWidth);
  const top = titleMargin(layout) + 10; // room for the panel titles under the figure's title
  layout.margin = { l: 20, r: 20, t: top, b: 20 };
  layout.height = Math.round(Math.max(...heights) * pixel + top + 20);
  const data: Array<Record<string, unknown>> = [];
  let left = 0;
  panels.forEach((panel, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const right = left + (usable * widths[i]) / totalWidth;
    const hidden = { showgrid: false, showticklabels: false, ticks: '', showline: false, zeroline: false };
    layout[`xaxis${suffix}`] = axisStyle(undefined, { ...hidden, domain: [left, right], constrain: 'domain' });
    layout[`yaxis${suffix}`] = axisStyle(undefined, {
      ...hidden,
      autorange: 'reversed',
      scaleanchor: `x${suffix}`,
      constrain: 'domain',
      domain: [0, 1],
      anchor: `x${suffix}`,
    });
    (layout.annotations as unknown[]).push({
      text: panel.title,
      xref: 'paper',
      yref: 'paper',
      x: (left + right) / 2,
      y: 1,
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 12 },
    });
    data.push({
      type: 'heatmap',
      z: tileImages(panel.images, panel.count, panel.columns),
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      colorscale: INK,
      zmin: 0,
      zmax: 1,
      showscale: panel.colorbar === true,
      ...(panel.colorbar ? { colorbar: { x: 1.0, xanchor: 'left', len: 0.9, thickness: 12 } } : {}),
      hoverongaps: false,
      hoverinfo: 'skip', // pixel values on hover say nothing about a digit
    });
    left = right + spacing;
  });
  return { data, layout };
}

/** Bytes 0..255 of `count` images starting at image `start`, as intensities in [0, 1]. */
export function intensities(split: MnistSplit, start = 0, count = split.count): Float32Array {
  const bytes = sliceSplit(split, start, start + count).images;
  return Float32Array.from(bytes, (b) => b / 255);
}

/** Images `indices` of a split: their gray levels next to one binarization of each. */
export function samplesFigure(split: MnistSplit, indices: ArrayLike<number>, binarizer: Binarizer, subtitle?: string): PlotlyFigure {
  const n = indices.length;
  const raw = new Float32Array(n * PIXELS);
  for (let i = 0; i < n; i++) raw.set(intensities(split, indices[i], 1), i * PIXELS);
  const columns = Math.ceil(Math.sqrt(n));
  return imagePanelsFigure(
    [
      { title: 'intensities (byte / 255)', images: raw, count: n, columns },
      { title: `${binarizer.kind} binarization`, images: binarizeImages(split, indices, binarizer), count: n, columns },
    ],
    `MNIST: ${n} images, raw and binarized`,
    subtitle,
  );
}

/** The mean image: P(pixel = 1) under binarization, per pixel. */
export function pixelMeanFigure(means: ArrayLike<number>, subtitle?: string): PlotlyFigure {
  return imagePanelsFigure([{ title: 'mean intensity per pixel', images: means, count: 1, columns: 1, colorbar: true }], 'The average digit', subtitle);
}

/**
 * Each split's images per digit class, as a share of the split (the 400 validation images next to
 * 60,000 training images would be invisible as counts); the counts are in the legend and on hover.
 */
export function labelCountsFigure(counts: Record<string, number[]>, subtitle?: string): PlotlyFigure {
  const digits = Array.from({ length: 10 }, (_, d) => String(d));
  const layout = baseLayout('Images per digit, as a share of each split', subtitle, { x: 'digit', y: "share of the split's images [%]" });
  return {
    data: Object.entries(counts).map(([name, values], i) => {
      const total = values.reduce((a, b) => a + b, 0);
      return {
        type: 'bar',
        name: `${name}: ${total.toLocaleString('en-US')} images`,
        x: digits,
        y: values.map((v) => (100 * v) / total),
        customdata: values,
        marker: { color: SERIES_COLORS[i % SERIES_COLORS.length] },
        hovertemplate: `${name}, digit %{x}: %{y:.1f}% (%{customdata} images)<extra></extra>`,
      };
    }),
    layout: {
      ...layout,
      xaxis: axisStyle('digit', { type: 'category' }),
      barmode: 'group',
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0)' },
      margin: { l: 70, r: 30, t: titleMargin(layout) + 30, b: 60 }, // + the legend's row
    },
  };
}

/**
 * Dynamic against fixed binarization for a few images: the gray levels, then what the model sees on
 * `reads` successive reads (epochs). Dynamic draws a new sample each read; fixed shows the same one.
 */
export function binarizationFigure(
  split: MnistSplit,
  indices: number[],
  reads: number,
  streams: { dynamic: RandomStream; fixed: RandomStream },
  subtitle?: string,
): PlotlyFigure {
  const n = indices.length;
  const chosen: MnistSplit = {
    images: new Uint8Array(n * PIXELS),
    labels: Uint8Array.from(indices, (i) => split.labels[i]),
    count: n,
  };
  indices.forEach((index, i) => chosen.images.set(sliceSplit(split, index, index + 1).images, i * PIXELS));
  const dynamic: Binarizer = { kind: 'dynamic', stream: streams.dynamic };
  const fixed: Binarizer = { kind: 'fixed', bits: fixedBinarization(chosen, streams.fixed) };
  const perRead = (binarizer: Binarizer): Float32Array[] =>
    Array.from({ length: reads }, () => binarizeImages(chosen, Array.from({ length: n }, (_, i) => i), binarizer));
  /** Row i holds image i's successive reads. */
  const byImage = (readsOut: Float32Array[]): Float32Array => {
    const out = new Float32Array(n * reads * PIXELS);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < reads; r++) out.set(readsOut[r].subarray(i * PIXELS, (i + 1) * PIXELS), (i * reads + r) * PIXELS);
    }
    return out;
  };
  return imagePanelsFigure(
    [
      { title: 'intensities', images: intensities(chosen), count: n, columns: 1 },
      { title: `dynamic: reads 1-${reads}`, images: byImage(perRead(dynamic)), count: n * reads, columns: reads },
      { title: `fixed: reads 1-${reads}`, images: byImage(perRead(fixed)), count: n * reads, columns: reads },
    ],
    'Dynamic vs fixed binarization',
    subtitle,
  );
}
