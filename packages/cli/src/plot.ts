/**
 * `sample --plot`: the run's draws beside naive draws, with the evaluation package's plots: a
 * row of scatter panels with shared limits for 2-D data (the first two coordinates of other
 * vectors), image grids side by side for greyscale images.
 */
import { type BaselineDraws, type SampleResult, dataSize } from '@latent-langevin/core';
import { imageGrid, scatterPanels, sideBySide } from '@latent-langevin/eval';
import { CliError } from './cli-error.js';

/** How a data shape is drawn. */
export type PlotKind =
  | { readonly kind: 'scatter'; readonly dimension: number }
  | { readonly kind: 'images'; readonly shape: readonly [number, number] };

/** Scatter points drawn per panel at most, spread over every chain. */
const MAX_POINTS = 3000;

/** Images drawn per grid at most. */
const MAX_IMAGES = 32;

/**
 * How `--plot` draws data of a given shape: images for `[h, w]`, `[1, h, w]` or `[h, w, 1]`
 * (greyscale, both sides at least 4), a scatter of the first two coordinates for vectors.
 *
 * @throws CliError for shapes it cannot draw (one coordinate, colour images)
 */
export function plotKind(dataShape: readonly number[]): PlotKind {
  const [a, b, c] = dataShape;
  const image: [number, number] | null =
    dataShape.length === 2
      ? [a, b]
      : dataShape.length === 3 && a === 1
        ? [b, c]
        : dataShape.length === 3 && c === 1
          ? [a, b]
          : null;
  if (image !== null && image[0] >= 4 && image[1] >= 4) return { kind: 'images', shape: image };
  if (dataShape.length === 1 && dataShape[0] >= 2) {
    return { kind: 'scatter', dimension: dataShape[0] };
  }
  throw new CliError(
    'PLOT_UNSUPPORTED',
    `--plot: cannot draw data of shape [${dataShape.join(', ')}]; it draws vectors of size >= 2 ` +
      '(a scatter of the first two coordinates) and greyscale images [h, w] or [1, h, w]. ' +
      'Leave out --plot, and plot the .npz yourself.',
    { exitCode: 2 },
  );
}

/** `count` rows of a row-major `[rows, width]` array, evenly spaced, so every chain shows. */
function spread(values: Float32Array, rows: number, width: number, count: number): Float32Array {
  if (rows <= count) return values.subarray(0, rows * width);
  const out = new Float32Array(count * width);
  for (let k = 0; k < count; k++) {
    const row = Math.floor((k * rows) / count);
    out.set(values.subarray(row * width, (row + 1) * width), k * width);
  }
  return out;
}

/**
 * Draws a run's `x` draws beside the naive draws as a PNG.
 *
 * @param run a result of `sample()` with `keepX`
 * @param naiveDraws draws of `naive()` on the same flow
 * @param target the target's name, for the panel title
 * @param title a title above the picture, e.g. the model's file name
 * @returns PNG bytes
 * @throws CliError when the run has no `x` or its shape cannot be drawn
 */
export async function plotRun(
  run: SampleResult,
  naiveDraws: BaselineDraws,
  target: string,
  title: string,
): Promise<Uint8Array> {
  if (run.x === null) {
    throw new CliError('PLOT_NO_DATA', '--plot needs the data draws; sample with keepX.');
  }
  const kind = plotKind(run.dataShape);
  const size = dataSize(run.dataShape);
  const rows = run.chains * run.draws;
  const naiveTitle = `naive f(z), z ~ N(0, I) (${naiveDraws.count})`;
  const malaTitle = `latent MALA, ${target} (${run.chains} x ${run.draws})`;

  if (kind.kind === 'scatter') {
    const picture = await scatterPanels({
      title,
      panels: [
        {
          title: naiveTitle,
          points: spread(naiveDraws.x, naiveDraws.count, size, MAX_POINTS),
          dimension: size,
        },
        { title: malaTitle, points: spread(run.x, rows, size, MAX_POINTS), dimension: size },
      ],
      axisTitles: ['x[0]', 'x[1]'],
      width: 320,
      maxPoints: MAX_POINTS,
    });
    return picture.png;
  }

  const grid = (images: Float32Array, count: number, panelTitle: string) =>
    imageGrid({
      images: spread(images, count, size, MAX_IMAGES),
      shape: kind.shape,
      columns: 8,
      maxImages: MAX_IMAGES,
      title: panelTitle,
    });
  const picture = await sideBySide(
    [await grid(naiveDraws.x, naiveDraws.count, naiveTitle), await grid(run.x, rows, malaTitle)],
    { title },
  );
  return picture.png;
}
