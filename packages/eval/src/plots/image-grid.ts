/**
 * A grid of small greyscale images (such as the 8 x 8 digits), each pixel a Vega-Lite `rect`.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import type { TopLevelSpec } from 'vega-lite';

import { BASE_CONFIG, type Picture, type RenderOptions, renderSpec } from './render.js';

/** Options of {@link imageGrid}. */
export interface ImageGridOptions extends RenderOptions {
  /** `[n, h * w]` (or `[n, 1, h, w]`), row-major, values in [0, 1]; others are clipped. */
  readonly images: ArrayLike<number>;
  /** `[h, w]`, the height and width of one image in pixels. */
  readonly shape: readonly [number, number];
  /** Images per row, integer >= 1; default 8. */
  readonly columns?: number;
  /** Images drawn at most (the first ones), integer >= 1; default 64. */
  readonly maxImages?: number;
  /** Title above the grid. */
  readonly title?: string;
  /** Size of one image pixel in picture pixels; default 4. */
  readonly pixelSize?: number;
  /** Draw 1 as black on white (ink, the default) or, with `false`, 1 as white on black. */
  readonly ink?: boolean;
}

/**
 * Draws images in a grid, one grey square per pixel, with a one-pixel gap between images. A
 * value of 0 is white and 1 black (ink on paper), or the reverse with `ink: false`; values
 * outside [0, 1] are clipped and NaN is drawn red, so broken draws stay visible.
 *
 * @param options.images `[n, h * w]` values in [0, 1]; `shape` `[h, w]`; `columns` default 8
 * @returns the PNG bytes, the SVG text and the Vega-Lite spec
 * @throws InvalidArgumentError when the shape is not two positive integers, the images are not a
 *   multiple of `h * w` values or empty, or an option is out of range
 * @example
 * ```ts
 * const picture = await imageGrid({ images: draws, shape: [8, 8], columns: 8, title: 'naive' });
 * await writeFile('digits.png', picture.png);
 * ```
 */
export async function imageGrid(options: ImageGridOptions): Promise<Picture> {
  const spec = imageGridSpec(options);
  return renderSpec(spec, options.scale === undefined ? {} : { scale: options.scale });
}

/**
 * Builds the Vega-Lite spec that {@link imageGrid} renders, for composing with other pictures.
 *
 * @param options as {@link imageGrid}
 * @returns a Vega-Lite spec with the pixels inlined
 * @throws InvalidArgumentError as {@link imageGrid}
 * @example
 * ```ts
 * const row = await sideBySide([
 *   imageGridSpec({ images: heldOut, shape: [8, 8], title: 'data' }),
 *   imageGridSpec({ images: draws, shape: [8, 8], title: 'draws' }),
 * ]);
 * ```
 */
export function imageGridSpec(options: ImageGridOptions): TopLevelSpec {
  const where = 'imageGrid()';
  const shape = options?.shape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every((s) => Number.isInteger(s) && s >= 1)
  ) {
    throw new InvalidArgumentError(where, [
      `options.shape must be [h, w], two integers >= 1; received ${describeValue(shape)}. ` +
        'Pass e.g. shape: [8, 8].',
    ]);
  }
  const [h, w] = shape;
  const images = options.images;
  if (
    images === null ||
    typeof images?.length !== 'number' ||
    images.length === 0 ||
    images.length % (h * w) !== 0
  ) {
    throw new InvalidArgumentError(where, [
      `options.images must hold [n, ${h * w}] values (n >= 1 images of ${h} x ${w}), ` +
        `row-major; received ${describeValue(images)}.`,
    ]);
  }
  const columns = positiveInteger(where, 'columns', options.columns ?? 8);
  const maxImages = positiveInteger(where, 'maxImages', options.maxImages ?? 64);
  const pixelSize = options.pixelSize ?? 4;
  if (typeof pixelSize !== 'number' || !(pixelSize > 0 && pixelSize <= 100)) {
    throw new InvalidArgumentError(where, [
      `options.pixelSize must be a number in (0, 100]; received ${describeValue(pixelSize)}.`,
    ]);
  }

  const count = Math.min(maxImages, images.length / (h * w));
  const rows = Math.ceil(count / columns);
  const gridWidth = Math.min(columns, count) * (w + 1) - 1;
  const gridHeight = rows * (h + 1) - 1;
  const values: { x: number; y: number; v: number; nan: boolean }[] = [];
  for (let q = 0; q < count; q++) {
    const left = (q % columns) * (w + 1);
    const top = Math.floor(q / columns) * (h + 1);
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const raw = images[q * h * w + r * w + c];
        const v = Number.isNaN(raw) ? 0 : Math.min(1, Math.max(0, raw));
        values.push({ x: left + c, y: top + r, v: Number(v.toFixed(4)), nan: Number.isNaN(raw) });
      }
    }
  }
  const ink = options.ink ?? true;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { ...BASE_CONFIG, view: { stroke: null } },
    ...(options.title === undefined ? {} : { title: options.title }),
    width: gridWidth * pixelSize,
    height: gridHeight * pixelSize,
    data: { values },
    transform: [
      { calculate: 'datum.x + 1', as: 'x2' },
      { calculate: 'datum.y + 1', as: 'y2' },
    ],
    mark: { type: 'rect', strokeWidth: 0 },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: { domain: [0, gridWidth] }, axis: null },
      x2: { field: 'x2' },
      y: {
        field: 'y',
        type: 'quantitative',
        scale: { domain: [0, gridHeight], reverse: true },
        axis: null,
      },
      y2: { field: 'y2' },
      color: {
        condition: { test: 'datum.nan', value: '#d62728' },
        field: 'v',
        type: 'quantitative',
        scale: { domain: [0, 1], range: ink ? ['#ffffff', '#000000'] : ['#000000', '#ffffff'] },
        legend: null,
      },
    },
  } as TopLevelSpec;
}

function positiveInteger(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(where, [
      `options.${name} must be an integer >= 1; received ${describeValue(value)}.`,
    ]);
  }
  return value;
}
