/**
 * Side-by-side composition of pictures made by this package, as one picture.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import type { TopLevelSpec } from 'vega-lite';

import { BASE_CONFIG, type Picture, type RenderOptions, renderSpec } from './render.js';

/** Options of {@link sideBySide}. */
export interface SideBySideOptions extends RenderOptions {
  /** Title above the row. */
  readonly title?: string;
  /** Pixels between pictures; default 20. */
  readonly spacing?: number;
}

/**
 * Places pictures (or their Vega-Lite specs) in one row and renders them as one picture, for
 * example an image grid of held-out data beside grids of each method's draws.
 *
 * @param parts pictures returned by this package, or Vega-Lite specs with inline data; at least
 *   one
 * @param options.title title above the row; `spacing` pixels between parts, default 20
 * @returns the PNG bytes, the SVG text and the combined spec
 * @throws InvalidArgumentError when `parts` is empty or holds something that is neither
 * @example
 * ```ts
 * const row = await sideBySide([heldOutGrid, naiveGrid, temperedGrid], { title: 'digits' });
 * ```
 */
export async function sideBySide(
  parts: readonly (Picture | TopLevelSpec)[],
  options: SideBySideOptions = {},
): Promise<Picture> {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new InvalidArgumentError('sideBySide()', [
      `parts must be a non-empty array of pictures or specs; received ${describeValue(parts)}.`,
    ]);
  }
  const specs = parts.map((part, p) => {
    const spec = (part as Picture)?.spec ?? part;
    if (spec === null || typeof spec !== 'object') {
      throw new InvalidArgumentError('sideBySide()', [
        `parts[${p}] must be a picture or a Vega-Lite spec; received ${describeValue(part)}.`,
      ]);
    }
    // A top-level spec's schema and configuration are not allowed inside a concatenation.
    const inner: Record<string, unknown> = { ...(spec as unknown as Record<string, unknown>) };
    delete inner.$schema;
    delete inner.config;
    return inner;
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title === undefined ? {} : { title: options.title }),
    config: { ...BASE_CONFIG, view: { stroke: null } },
    spacing: options.spacing ?? 20,
    hconcat: specs,
  } as unknown as TopLevelSpec;
  return renderSpec(spec, options.scale === undefined ? {} : { scale: options.scale });
}
