/**
 * A grid of scatter panels for 2-D draws, with shared axis limits, in the spirit of Fig. 1 of
 * Coeurdoux et al. (2024): the target's density beside each method's draws.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import type { TopLevelSpec } from 'vega-lite';

import { BASE_CONFIG, type Picture, type RenderOptions, renderSpec } from './render.js';

/** A panel of points: the first two coordinates of each row are drawn. */
export interface PointsPanel {
  readonly title: string;
  /** `[n, D]`, row-major, D >= 2; rows with a non-finite coordinate are left out. */
  readonly points: ArrayLike<number>;
  /** Size `D` of one point; default 2. */
  readonly dimension?: number;
}

/** A panel showing a density on a grid over the limits, as a heatmap of `exp(log p)`. */
export interface DensityPanel {
  readonly title: string;
  /** Log-density of a batch `[n, 2]` (row-major), up to a constant; returns `[n]`. */
  readonly logDensity: (x: Float64Array, n: number) => ArrayLike<number>;
  /** Grid cells per axis, integer in [2, 400]; default 100. */
  readonly resolution?: number;
}

/** One panel of {@link scatterPanels}. */
export type ScatterPanel = PointsPanel | DensityPanel;

/** Options of {@link scatterPanels}. */
export interface ScatterPanelsOptions extends RenderOptions {
  /** The panels, left to right and then row by row; at least one. */
  readonly panels: readonly ScatterPanel[];
  /**
   * Panels per row, integer in [1, 50]; default 4, which keeps a picture of 200-pixel panels
   * within the width of a README page. Fewer panels than columns make one row.
   */
  readonly columns?: number;
  /**
   * `[[xmin, xmax], [ymin, ymax]]` shared by every panel; by default the 0.5% and 99.5%
   * quantiles of all the points, widened by 5% on each side.
   */
  readonly limits?: readonly [readonly [number, number], readonly [number, number]];
  /** Width (and height) of one panel in pixels, integer in [50, 2000]; default 200. */
  readonly width?: number;
  /** Title above the grid. */
  readonly title?: string;
  /** Axis titles; default `['x1', 'x2']`. */
  readonly axisTitles?: readonly [string, string];
  /** Points drawn per panel at most (the first rows), integer >= 1; default 3000. */
  readonly maxPoints?: number;
  /** Area of a point in square pixels; default 4. */
  readonly pointSize?: number;
}

/**
 * Draws a grid of panels with the same x and y limits, each with its title and both axes
 * titled: scatter plots of 2-D points (the first two coordinates of higher-dimensional ones)
 * and, optionally, heatmaps of a density.
 *
 * @param options.panels `{ title, points, dimension? }` or `{ title, logDensity, resolution? }`
 * @param options.columns panels per row, default 4
 * @param options.limits shared axis limits; required when no panel has points
 * @returns the PNG bytes, the SVG text and the Vega-Lite spec
 * @throws InvalidArgumentError when there is no panel, a panel is malformed, or the limits are
 *   missing or empty
 * @example
 * ```ts
 * const picture = await scatterPanels({
 *   panels: [
 *     { title: 'target', logDensity: (x, n) => moons.logDensity(x, n).logDensity },
 *     { title: 'naive', points: naiveDraws },
 *   ],
 *   limits: [[-3, 3], [-3, 3]],
 * });
 * await writeFile('moons.png', picture.png);
 * ```
 */
export async function scatterPanels(options: ScatterPanelsOptions): Promise<Picture> {
  const where = 'scatterPanels()';
  const panels = options?.panels;
  if (!Array.isArray(panels) || panels.length === 0) {
    throw new InvalidArgumentError(where, [
      `options.panels must be a non-empty array of panels; received ${describeValue(panels)}. ` +
        "Pass e.g. panels: [{ title: 'draws', points }].",
    ]);
  }
  const width = checkRange(where, 'width', options.width ?? 200, 50, 2000, true);
  const maxPoints = checkRange(where, 'maxPoints', options.maxPoints ?? 3000, 1, 1e7, true);
  const pointSize = checkRange(where, 'pointSize', options.pointSize ?? 4, 0.1, 1000, false);
  const columns = checkRange(where, 'columns', options.columns ?? 4, 1, 50, true);
  panels.forEach((panel, p) => checkPanel(where, panel, p));
  const limits = options.limits ?? defaultLimits(panels as readonly ScatterPanel[]);
  checkLimits(where, limits);
  const [xTitle, yTitle] = options.axisTitles ?? ['x1', 'x2'];

  const scale = (axis: 0 | 1) => ({ domain: [...limits[axis]], nice: false, zero: false });
  const axes = {
    x: { field: 'x', type: 'quantitative' as const, scale: scale(0), title: xTitle },
    y: { field: 'y', type: 'quantitative' as const, scale: scale(1), title: yTitle },
  };
  const titles = (panels as readonly ScatterPanel[]).map((panel) => wrapTitle(panel.title, width));
  const titleLines = Math.max(...titles.map((t) => (typeof t === 'string' ? 1 : t.length)));
  const views = (panels as readonly ScatterPanel[]).map((panel, p) => {
    const title = { text: titles[p], fontSize: 12 };
    if ('points' in panel) {
      return {
        title,
        width,
        height: width,
        data: { values: pointRows(panel, maxPoints) },
        mark: { type: 'circle' as const, size: pointSize, opacity: 0.6, clip: true },
        encoding: { ...axes, color: { value: '#1f5fa8' } },
      };
    }
    return {
      title,
      width,
      height: width,
      data: { values: densityRows(panel, limits) },
      mark: { type: 'rect' as const, clip: true },
      encoding: {
        ...axes,
        x2: { field: 'x2' },
        y2: { field: 'y2' },
        color: {
          field: 'density',
          type: 'quantitative' as const,
          scale: { domain: [0, 1], range: ['#ffffff', '#08306b'] },
          legend: null,
        },
      },
    };
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    config: BASE_CONFIG,
    // Flush bounds: panels are spaced by their plot areas, whatever their titles' widths.
    bounds: 'flush',
    // Between rows: the x axis of the row above (about 36 pixels) and the titles below.
    spacing: { column: 44, row: 40 + 15 * titleLines },
    columns: Math.min(columns, views.length),
    concat: views,
  } as TopLevelSpec;
  return renderSpec(spec, options.scale === undefined ? {} : { scale: options.scale });
}

function checkRange(
  where: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
  integer: boolean,
): number {
  if (
    typeof value !== 'number' ||
    !(value >= min && value <= max) ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidArgumentError(where, [
      `options.${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]; ` +
        `received ${describeValue(value)}.`,
    ]);
  }
  return value;
}

function checkPanel(where: string, panel: unknown, p: number): void {
  const at = `options.panels[${p}]`;
  if (
    panel === null ||
    typeof panel !== 'object' ||
    typeof (panel as { title?: unknown }).title !== 'string'
  ) {
    throw new InvalidArgumentError(where, [
      `${at} must be { title, points } or { title, logDensity }; received ${describeValue(panel)}.`,
    ]);
  }
  if ('points' in panel) {
    const { points, dimension = 2 } = panel as PointsPanel;
    if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 2) {
      throw new InvalidArgumentError(where, [
        `${at}.dimension must be an integer >= 2; received ${describeValue(dimension)}.`,
      ]);
    }
    if (points === null || typeof points?.length !== 'number' || points.length % dimension !== 0) {
      throw new InvalidArgumentError(where, [
        `${at}.points must be [n, ${dimension}] numbers, row-major; received ` +
          `${describeValue(points)}. Check the panel's dimension.`,
      ]);
    }
    return;
  }
  const { logDensity, resolution = 100 } = panel as DensityPanel;
  if (typeof logDensity !== 'function') {
    throw new InvalidArgumentError(where, [
      `${at} has neither points nor a logDensity function; received ${describeValue(panel)}.`,
    ]);
  }
  checkRange(where, `panels[${p}].resolution`, resolution, 2, 400, true);
}

function checkLimits(where: string, limits: unknown): void {
  const ok =
    Array.isArray(limits) &&
    limits.length === 2 &&
    limits.every(
      (l) =>
        Array.isArray(l) &&
        l.length === 2 &&
        Number.isFinite(l[0]) &&
        Number.isFinite(l[1]) &&
        l[0] < l[1],
    );
  if (!ok) {
    throw new InvalidArgumentError(where, [
      `options.limits must be [[xmin, xmax], [ymin, ymax]] with finite min < max; received ` +
        `${describeValue(limits)}. Pass limits when no panel has points.`,
    ]);
  }
}

/** 0.5% and 99.5% quantiles of every panel's points per axis, widened by 5% on each side. */
function defaultLimits(panels: readonly ScatterPanel[]): [[number, number], [number, number]] {
  const axes: [number[], number[]] = [[], []];
  for (const panel of panels) {
    if (!('points' in panel)) continue;
    const d = panel.dimension ?? 2;
    for (let i = 0; i < panel.points.length / d; i++) {
      const x = panel.points[i * d];
      const y = panel.points[i * d + 1];
      if (Number.isFinite(x) && Number.isFinite(y)) {
        axes[0].push(x);
        axes[1].push(y);
      }
    }
  }
  const limit = (values: number[]): [number, number] => {
    if (values.length === 0) return [NaN, NaN];
    const sorted = Float64Array.from(values).sort();
    const lo = sorted[Math.floor(0.005 * (sorted.length - 1))];
    const hi = sorted[Math.ceil(0.995 * (sorted.length - 1))];
    const pad = hi > lo ? 0.05 * (hi - lo) : 1;
    return [lo - pad, hi + pad];
  };
  return [limit(axes[0]), limit(axes[1])];
}

function pointRows(panel: PointsPanel, maxPoints: number): { x: number; y: number }[] {
  const d = panel.dimension ?? 2;
  const n = Math.min(maxPoints, panel.points.length / d);
  const rows: { x: number; y: number }[] = [];
  for (let i = 0; i < n; i++) {
    const x = panel.points[i * d];
    const y = panel.points[i * d + 1];
    if (Number.isFinite(x) && Number.isFinite(y)) rows.push({ x: round(x), y: round(y) });
  }
  return rows;
}

/** Cells of a `resolution x resolution` grid with `exp(log p - max log p)` in [0, 1]. */
function densityRows(
  panel: DensityPanel,
  limits: readonly [readonly [number, number], readonly [number, number]],
): { x: number; x2: number; y: number; y2: number; density: number }[] {
  const resolution = panel.resolution ?? 100;
  const [[x0, x1], [y0, y1]] = limits;
  const dx = (x1 - x0) / resolution;
  const dy = (y1 - y0) / resolution;
  const centres = new Float64Array(2 * resolution * resolution);
  for (let a = 0; a < resolution; a++) {
    for (let b = 0; b < resolution; b++) {
      const k = a * resolution + b;
      centres[2 * k] = x0 + (a + 0.5) * dx;
      centres[2 * k + 1] = y0 + (b + 0.5) * dy;
    }
  }
  const logP = panel.logDensity(centres, resolution * resolution);
  let max = -Infinity;
  for (let k = 0; k < resolution * resolution; k++) {
    if (Number.isFinite(logP[k]) && logP[k] > max) max = logP[k];
  }
  const rows = [];
  for (let k = 0; k < resolution * resolution; k++) {
    const density = Number.isFinite(logP[k]) ? Math.exp(logP[k] - max) : 0;
    if (density < 1e-3) continue; // white cells need no rectangle
    const x = centres[2 * k] - dx / 2;
    const y = centres[2 * k + 1] - dy / 2;
    rows.push({
      x: round(x),
      x2: round(x + dx),
      y: round(y),
      y2: round(y + dy),
      density: round(density),
    });
  }
  return rows;
}

/**
 * Breaks a title into lines that fit a panel `width` pixels wide, at spaces, so that long
 * titles do not widen their panel (about 7 pixels a character at 12 px DejaVu Sans).
 */
function wrapTitle(title: string, width: number): string | string[] {
  const perLine = Math.max(8, Math.floor(width / 7.5));
  if (title.length <= perLine) return title;
  const lines: string[] = [];
  let line = '';
  for (const word of title.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > perLine) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Four significant digits are plenty for pixels and keep the SVG small. */
function round(value: number): number {
  return Number(value.toPrecision(5));
}
