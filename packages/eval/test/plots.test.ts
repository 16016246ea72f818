import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '@latent-langevin/core';
import { imageGrid, scatterPanels, sideBySide, twoMoons } from '@latent-langevin/eval';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from the IHDR chunk, which must follow the signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Share of pixels that are not white, from the SVG rendered again by resvg. */
function inkShare(svg: string): number {
  const pixels = new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels;
  let ink = 0;
  for (let p = 0; p < pixels.length; p += 4) {
    if (pixels[p + 3] > 0 && (pixels[p] < 240 || pixels[p + 1] < 240 || pixels[p + 2] < 240)) {
      ink++;
    }
  }
  return ink / (pixels.length / 4);
}

describe('scatterPanels', () => {
  const moons = twoMoons();

  it('renders panels with a density heatmap as a valid, non-blank PNG', async () => {
    const picture = await scatterPanels({
      title: 'two moons',
      panels: [
        { title: 'target', logDensity: (x, n) => moons.logDensity(x, n).logDensity },
        { title: 'exact', points: moons.sample(500, 1) },
        { title: 'exact, seed 2', points: moons.sample(500, 2) },
      ],
      limits: [
        [-3, 3],
        [-3, 3],
      ],
      width: 150,
    });
    const { width, height } = pngSize(picture.png);
    expect(width).toBe(picture.width);
    expect(height).toBe(picture.height);
    expect(width).toBeGreaterThan(3 * 150);
    expect(height).toBeGreaterThan(150);
    expect(picture.svg.startsWith('<svg')).toBe(true);
    expect(picture.svg).toContain('exact, seed 2');
    expect(inkShare(picture.svg)).toBeGreaterThan(0.02);
  });

  it('shares the same axis limits across panels when none are given', async () => {
    const picture = await scatterPanels({
      panels: [
        { title: 'a', points: Float64Array.from([0, 0, 1, 1]) },
        { title: 'b', points: Float64Array.from([0, 0, 0, 0, 5, 5, 0, 0]), dimension: 4 },
      ],
    });
    // Both panels carry the same domain in the spec: one x scale and one y scale.
    const panels = (picture.spec as unknown as { concat: { encoding: unknown }[] }).concat;
    expect(JSON.stringify(panels[0].encoding)).toBe(JSON.stringify(panels[1].encoding));
    expect(pngSize(picture.png).width).toBeGreaterThan(400);
  });

  it('lays 11 panels out 4 a row, each with its title, both axis titles and the same limits', async () => {
    const panels = [
      {
        title: 'target',
        logDensity: (x: Float64Array, n: number) => moons.logDensity(x, n).logDensity,
      },
      ...Array.from({ length: 10 }, (_, k) => ({
        title: `method ${k}`,
        points: moons.sample(100, 10 + k),
      })),
    ];
    const limits = [
      [-3, 3],
      [-3, 3],
    ] as const;
    const picture = await scatterPanels({ panels, limits, width: 170 });
    const spec = picture.spec as unknown as {
      columns: number;
      concat: {
        title: { text: string };
        encoding: { x: { title: string; scale: unknown }; y: { title: string; scale: unknown } };
      }[];
    };
    expect(spec.columns).toBe(4);
    expect(spec.concat.map((v) => v.title.text)).toEqual(panels.map((p) => p.title));
    for (const view of spec.concat) {
      expect([view.encoding.x.title, view.encoding.y.title]).toEqual(['x1', 'x2']);
      expect(view.encoding.x.scale).toEqual({ domain: [-3, 3], nice: false, zero: false });
      expect(view.encoding.y.scale).toEqual({ domain: [-3, 3], nice: false, zero: false });
    }
    // Three rows of 170-pixel panels, no wider than 4 panels and their gaps and axes.
    const { width, height } = pngSize(picture.png);
    expect(width).toBeLessThan(4 * 170 + 3 * 44 + 120);
    expect(width).toBeGreaterThan(4 * 170);
    expect(height).toBeGreaterThan(3 * 170);
    // Every panel's title and axis titles are drawn.
    for (const panel of panels) expect(picture.svg).toContain(panel.title);
    expect(picture.svg.split('>x1<').length - 1).toBe(11);
  });

  it('puts fewer panels than columns in one row', async () => {
    const points = [0, 0, 1, 1];
    const picture = await scatterPanels({
      panels: [
        { title: 'a', points },
        { title: 'b', points },
      ],
      columns: 4,
    });
    expect((picture.spec as unknown as { columns: number }).columns).toBe(2);
    const { width, height } = pngSize(picture.png);
    expect(width).toBeGreaterThan(2 * 200);
    expect(height).toBeLessThan(2 * 200);
  });

  it('doubles the PNG size when the scale is 2', async () => {
    const points = [0, 0, 1, 1];
    const one = await scatterPanels({ panels: [{ title: 'p', points }] });
    const two = await scatterPanels({ panels: [{ title: 'p', points }], scale: 2 });
    expect(pngSize(two.png).width).toBe(2 * pngSize(one.png).width);
    await expect(scatterPanels({ panels: [{ title: 'p', points }], scale: 0 })).rejects.toThrow(
      /renderSpec\(\): options.scale must be a number in \(0, 8\]/,
    );
  });

  it('renders the same bytes twice for the same input', async () => {
    const options = { panels: [{ title: 'p', points: moons.sample(100, 3) }] };
    const [a, b] = await Promise.all([scatterPanels(options), scatterPanels(options)]);
    expect(Buffer.from(a.png).equals(Buffer.from(b.png))).toBe(true);
  });

  it.each([
    ['there are no panels', { panels: [] }, /options.panels must be a non-empty array/],
    [
      'a panel has points that do not fit its dimension',
      { panels: [{ title: 'p', points: [1, 2, 3] }] },
      /options.panels\[0\].points must be \[n, 2\]/,
    ],
    [
      'only density panels come without limits',
      { panels: [{ title: 'p', logDensity: () => [0] }] },
      /options.limits must be \[\[xmin, xmax\], \[ymin, ymax\]\]/,
    ],
    [
      'the columns are not a whole number',
      { panels: [{ title: 'p', points: [1, 2] }], columns: 2.5 },
      /options.columns must be an integer in \[1, 50\]; received 2.5/,
    ],
    [
      'the width is out of range',
      { panels: [{ title: 'p', points: [1, 2] }], width: 10 },
      /options.width must be an integer in \[50, 2000\]; received 10/,
    ],
  ])('throws an InvalidArgumentError when %s', async (_, options, message) => {
    const call = scatterPanels(options as unknown as Parameters<typeof scatterPanels>[0]);
    await expect(call).rejects.toThrow(InvalidArgumentError);
    await expect(
      scatterPanels(options as unknown as Parameters<typeof scatterPanels>[0]),
    ).rejects.toThrow(message);
  });
});

describe('imageGrid', () => {
  /** Twelve 8 x 8 images: a bar whose position moves with the index. */
  const images = Float32Array.from({ length: 12 * 64 }, (_, k) => {
    const q = Math.floor(k / 64);
    const column = k % 8;
    return column === q % 8 ? 1 : 0.1;
  });

  it('renders images in a grid as a valid PNG with ink on paper', async () => {
    const picture = await imageGrid({ images, shape: [8, 8], columns: 4, title: 'bars' });
    const { width, height } = pngSize(picture.png);
    // 4 columns of 8 pixels and 3 gaps, at 4 picture pixels each, plus padding.
    expect(width).toBeGreaterThanOrEqual((4 * 8 + 3) * 4);
    expect(height).toBeGreaterThanOrEqual((3 * 8 + 2) * 4);
    expect(inkShare(picture.svg)).toBeGreaterThan(0.05);
  });

  it('throws an InvalidArgumentError when the images do not fit the shape', async () => {
    await expect(imageGrid({ images: new Float32Array(10), shape: [8, 8] })).rejects.toThrow(
      /imageGrid\(\): options.images must hold \[n, 64\] values/,
    );
  });
});

describe('sideBySide', () => {
  it('places pictures in one row wider than either part', async () => {
    const a = await imageGrid({ images: new Float32Array(64).fill(1), shape: [8, 8] });
    const b = await scatterPanels({ panels: [{ title: 'p', points: [0, 0, 1, 1] }] });
    const row = await sideBySide([a, b], { title: 'both' });
    expect(pngSize(row.png).width).toBeGreaterThan(a.width + b.width - 40);
  });

  it('throws an InvalidArgumentError when given nothing', async () => {
    await expect(sideBySide([])).rejects.toThrow(/parts must be a non-empty array/);
  });
});
