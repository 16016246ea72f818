/**
 * Rendering of Vega-Lite specs to SVG and PNG, the same on every machine: Vega-Lite compiles
 * the spec, Vega renders it headless to SVG (`renderer: 'none'`, text measured by Vega's own
 * estimate, no canvas), and resvg rasterises the SVG with the DejaVu Sans font file shipped in
 * `dejavu-fonts-ttf`, system fonts off. Every logger is silenced: the library never writes to
 * the console.
 */
import { createRequire } from 'node:module';

import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';

/** A rendered picture. */
export interface Picture {
  /** PNG file bytes. */
  readonly png: Uint8Array;
  /** SVG document text. */
  readonly svg: string;
  /** The Vega-Lite spec it was rendered from, data inlined; reusable in {@link sideBySide}. */
  readonly spec: TopLevelSpec;
  /** Size of the PNG in pixels. */
  readonly width: number;
  readonly height: number;
}

/** Options of {@link renderSpec}. */
export interface RenderOptions {
  /** Pixels per SVG unit in the PNG, in (0, 8]; default 1. */
  readonly scale?: number;
}

/** The font every picture uses, by family name. */
export const FONT_FAMILY = 'DejaVu Sans';

let fontFile: string | null = null;

/** Path of `DejaVuSans.ttf`, resolved once from the `dejavu-fonts-ttf` package. */
function dejaVuSans(): string {
  fontFile ??= createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
  return fontFile;
}

/** Shared configuration: the font, a white background, quiet grid lines. */
export const BASE_CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  view: { stroke: '#888888' },
  axis: { gridColor: '#eeeeee', labelFontSize: 10, titleFontSize: 11 },
  title: { fontSize: 13, fontWeight: 'normal' as const },
};

/**
 * Renders a Vega-Lite spec to SVG text and PNG bytes.
 *
 * @param spec a Vega-Lite 6 top-level spec with inline data
 * @param options.scale pixels per SVG unit, default 1
 * @returns the PNG, the SVG, the spec and the PNG's size
 * @throws InvalidArgumentError when the scale is outside (0, 8]; Error from Vega-Lite or Vega
 *   when the spec is invalid
 * @example
 * ```ts
 * const picture = await renderSpec({
 *   data: { values: [{ a: 1, b: 2 }] },
 *   mark: 'point',
 *   encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } },
 * });
 * await writeFile('point.png', picture.png);
 * ```
 */
export async function renderSpec(
  spec: TopLevelSpec,
  options: RenderOptions = {},
): Promise<Picture> {
  const scale = options.scale ?? 1;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 8)) {
    throw new InvalidArgumentError('renderSpec()', [
      `options.scale must be a number in (0, 8], pixels per SVG unit; received ` +
        `${describeValue(scale)}. Pass e.g. scale: 2 for a sharper PNG.`,
    ]);
  }

  const silent = vega.logger(vega.None);
  const compiled = compile(spec, { logger: silent }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: silent });
  const svg = await view.toSVG();
  view.finalize();

  const resvg = new Resvg(svg, {
    font: {
      fontFiles: [dejaVuSans()],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
    background: 'white',
    logLevel: 'off',
  });
  const image = resvg.render();
  const png = new Uint8Array(image.asPng());
  return { png, svg, spec, width: image.width, height: image.height };
}
