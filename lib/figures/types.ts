/** A plotly.js figure as plain JSON: what JupyterLab's plotly renderer and Plotly.newPlot both take. */
export interface PlotlyFigure {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
}
