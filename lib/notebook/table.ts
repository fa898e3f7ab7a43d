import { displayBundle } from './kernel';

/**
 * Tables for notebooks, like a pandas DataFrame's display: an HTML table in JupyterLab (and on any viewer
 * that renders HTML), aligned plain text where there is no HTML (terminal, nbconvert's text, tests).
 * Numbers are rounded for reading (the CSV files keep full precision) and a value column `x` with a
 * standard-error column `xSE` (or `xSe`, or `mean` with `se`) becomes one "m ± se" column.
 */
export type TableValue = string | number | boolean | null | undefined;
export type TableRow = Record<string, TableValue>;

export interface TableOptions {
  /** A line above the table saying what it shows. */
  caption?: string;
  /** Column headers to show instead of the keys. */
  labels?: Record<string, string>;
  /** Fixed decimals for some columns (others are rounded by magnitude). */
  decimals?: Record<string, number>;
}

interface DataFrameLike {
  columns: string[];
  values: unknown[][];
}

function isDataFrame(value: unknown): value is DataFrameLike {
  const v = value as Partial<DataFrameLike>;
  return Array.isArray(v?.columns) && Array.isArray(v?.values);
}

/** Rows from an array of records, a danfo DataFrame, or one record (shown as field/value pairs). */
export function tableRows(input: readonly TableRow[] | DataFrameLike | Record<string, TableValue>): TableRow[] {
  if (Array.isArray(input)) return [...input];
  if (isDataFrame(input)) return input.values.map((row) => Object.fromEntries(input.columns.map((c, i) => [c, row[i] as TableValue])));
  return Object.entries(input as Record<string, TableValue>).map(([field, value]) => ({ field, value }));
}

/** p-value columns: `p`, `pValue`, `anovaP` (camelCase ending in a capital P). */
const isPColumn = (key: string) => key === 'p' || /p-?value$/i.test(key) || /[a-z]P$/.test(key);

/** Decimals that show a standard error with two significant digits (0-4). */
function decimalsForSe(se: number): number {
  if (!Number.isFinite(se) || se === 0) return 1;
  return Math.min(4, Math.max(0, 1 - Math.floor(Math.log10(Math.abs(se)))));
}

/** A number rounded by magnitude: integers as they are, 1 decimal from 100, 2 from 1, else 3 significant. */
export function formatNumber(v: number, decimals?: number): string {
  if (Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (decimals !== undefined) return v.toFixed(decimals);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return Number(v.toPrecision(3)).toString();
}

export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return '–';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

export function formatMeanSe(mean: number, se: number): string {
  if (!Number.isFinite(se)) return `${formatNumber(mean)} ± –`;
  const d = decimalsForSe(se);
  return `${mean.toFixed(d)} ± ${se.toFixed(d)}`;
}

function seKeyFor(key: string, keys: readonly string[]): string | undefined {
  if (key === 'mean' && keys.includes('se')) return 'se';
  return [`${key}SE`, `${key}Se`, `${key}_se`].find((k) => keys.includes(k));
}

/** The table as strings: header labels and formatted cells, with mean ± SE pairs merged. */
export function formatTable(rows: readonly TableRow[], options: TableOptions = {}): { headers: string[]; cells: string[][]; numeric: boolean[] } {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const seKeys = new Set<string>();
  const pairs = new Map<string, string>();
  for (const key of keys) {
    const se = seKeyFor(key, keys);
    if (se) {
      pairs.set(key, se);
      seKeys.add(se);
    }
  }
  const shown = keys.filter((k) => !seKeys.has(k));
  const headers = shown.map((k) => {
    const label = options.labels?.[k] ?? k;
    return pairs.has(k) ? `${label} ± SE` : label;
  });
  const numeric = shown.map((k) => rows.some((r) => typeof r[k] === 'number'));
  const cells = rows.map((row) =>
    shown.map((key) => {
      const v = row[key];
      const se = pairs.get(key);
      if (se && typeof v === 'number') return formatMeanSe(v, Number(row[se]));
      if (typeof v === 'number') return isPColumn(key) ? formatPValue(v) : formatNumber(v, options.decimals?.[key]);
      if (v === null || v === undefined) return '';
      return String(v);
    }),
  );
  return { headers, cells, numeric };
}

/** Aligned plain text (numbers right-aligned), for terminals and outputs without HTML. */
export function tableText(rows: readonly TableRow[], options: TableOptions = {}): string {
  const { headers, cells, numeric } = formatTable(rows, options);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const lines = [headers.map(pad).join('  ').trimEnd(), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map((r) => r.map(pad).join('  ').trimEnd())];
  return (options.caption ? `${options.caption}\n` : '') + lines.join('\n');
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** An HTML table styled like JupyterLab's pandas tables (its own CSS applies to `table.dataframe`). */
export function tableHtml(rows: readonly TableRow[], options: TableOptions = {}): string {
  const { headers, cells, numeric } = formatTable(rows, options);
  const align = (i: number) => (numeric[i] ? ' style="text-align:right;white-space:nowrap"' : ' style="text-align:left"');
  const head = `<thead><tr>${headers.map((h, i) => `<th${align(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>`;
  const body = `<tbody>${cells.map((r) => `<tr>${r.map((c, i) => `<td${align(i)}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody>`;
  const caption = options.caption ? `<caption style="caption-side:top;text-align:left;font-weight:600">${escapeHtml(options.caption)}</caption>` : '';
  return `<table class="dataframe iwae-table">${caption}${head}${body}</table>`;
}

/**
 * Shows a table: HTML plus plain text in a notebook kernel (the notebook picks), plain text on stdout
 * elsewhere. Accepts records, a danfo DataFrame, or one record (field/value pairs).
 */
export function showTable(input: readonly TableRow[] | DataFrameLike | Record<string, TableValue>, options: TableOptions = {}): void {
  const rows = tableRows(input);
  const shown = displayBundle({ data: { 'text/html': tableHtml(rows, options), 'text/plain': tableText(rows, options) }, metadata: {} });
  if (!shown) console.log(tableText(rows, options));
}
