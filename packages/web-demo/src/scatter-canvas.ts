/**
 * A square scatter plot on a 2-D canvas, with fixed limits shared between panels so that two
 * sets of draws compare at a glance. Points accumulate; `clear` starts over.
 */

/** `[[xmin, xmax], [ymin, ymax]]`. */
export type Limits = readonly [readonly [number, number], readonly [number, number]];

/** Colours of the plot. */
const BACKGROUND = '#ffffff';
const GRID = '#e8e8e8';
const FRAME = '#888888';

/**
 * Limits that hold the 0.5% to 99.5% quantiles of `points` (`[n, 2]`) on each axis, widened by
 * 5% on each side, as square as the data allow.
 */
export function limitsOf(points: Float32Array): Limits {
  const axis = (offset: number): [number, number] => {
    const values: number[] = [];
    for (let k = offset; k < points.length; k += 2) {
      if (Number.isFinite(points[k])) values.push(points[k]);
    }
    if (values.length === 0) return [-3, 3];
    values.sort((a, b) => a - b);
    const lo = values[Math.floor(0.005 * (values.length - 1))];
    const hi = values[Math.ceil(0.995 * (values.length - 1))];
    const pad = hi > lo ? 0.05 * (hi - lo) : 1;
    return [lo - pad, hi + pad];
  };
  return [axis(0), axis(1)];
}

/** A scatter plot drawn on one canvas. */
export class ScatterCanvas {
  private readonly context: CanvasRenderingContext2D;
  private readonly size: number;

  /**
   * @param canvas the canvas; its CSS size is kept, its pixel size follows devicePixelRatio
   * @param limits the axis limits, shared with the other panel
   */
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private limits: Limits,
  ) {
    const ratio = globalThis.devicePixelRatio ?? 1;
    this.size = Math.round(canvas.clientWidth * ratio) || canvas.width;
    canvas.width = this.size;
    canvas.height = this.size;
    const context = canvas.getContext('2d');
    if (context === null) throw new Error('ScatterCanvas: this browser gives no 2-D canvas.');
    this.context = context;
    this.clear();
  }

  /** Changes the limits and clears the plot. */
  setLimits(limits: Limits): void {
    this.limits = limits;
    this.clear();
  }

  /** Paints the background, a grid at whole numbers, and the frame. */
  clear(): void {
    const { context: c, size } = this;
    c.fillStyle = BACKGROUND;
    c.fillRect(0, 0, size, size);
    c.strokeStyle = GRID;
    c.lineWidth = 1;
    const [[x0, x1], [y0, y1]] = this.limits;
    c.beginPath();
    for (let v = Math.ceil(x0); v <= x1; v++) {
      const px = Math.round(this.px(v)) + 0.5;
      c.moveTo(px, 0);
      c.lineTo(px, size);
    }
    for (let v = Math.ceil(y0); v <= y1; v++) {
      const py = Math.round(this.py(v)) + 0.5;
      c.moveTo(0, py);
      c.lineTo(size, py);
    }
    c.stroke();
    c.strokeStyle = FRAME;
    c.strokeRect(0.5, 0.5, size - 1, size - 1);
  }

  /**
   * Draws rows `from` to `to` of `points` (`[n, 2]`, row-major) as small translucent dots.
   *
   * @param colour a CSS colour
   */
  draw(points: Float32Array, from: number, to: number, colour: string): void {
    const { context: c } = this;
    const radius = Math.max(1, this.size / 300);
    c.fillStyle = colour;
    c.globalAlpha = 0.55;
    for (let i = from; i < to; i++) {
      const x = points[2 * i];
      const y = points[2 * i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      c.fillRect(this.px(x) - radius, this.py(y) - radius, 2 * radius, 2 * radius);
    }
    c.globalAlpha = 1;
  }

  private px(x: number): number {
    const [x0, x1] = this.limits[0];
    return ((x - x0) / (x1 - x0)) * this.size;
  }

  private py(y: number): number {
    const [y0, y1] = this.limits[1];
    return this.size - ((y - y0) / (y1 - y0)) * this.size;
  }
}
