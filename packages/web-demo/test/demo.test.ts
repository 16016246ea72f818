/**
 * End to end: build the demo with Vite, serve it on 127.0.0.1, open it in Debian's Chromium
 * (headless, no GPU), let a run finish on each runtime and backend, and check the acceptance
 * rate, the backend reported, that both canvases hold draws, that nothing was fetched from
 * elsewhere, and save a screenshot of each under test-artifacts/web-demo/.
 *
 * Headless Chromium has no GPU here, but renders WebGL with SwiftShader, its CPU implementation
 * of Vulkan, behind ANGLE (`--use-angle=swiftshader`; `--enable-unsafe-swiftshader` lets WebGL
 * use it without a GPU), and offers a WebGPU adapter on the same SwiftShader device with
 * `--enable-unsafe-webgpu`. Without that flag `navigator.gpu` has no adapter, so ONNX Runtime Web
 * falls back to WebAssembly and TensorFlow.js to WebGL; with it, TensorFlow.js runs on WebGPU.
 * Each run asserts the backend the page reports from what the browser offers, found in the page
 * before the run, and asserts that the browser offers what these flags give, so a Chromium that
 * stops doing so fails here rather than testing less.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StaticServer, serveStatic } from './static-server.js';

const DEMO = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts', 'web-demo');

/** Flags of every launch: no sandbox (containers), nothing fetched in the background. */
const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/** The browsers of the test: WebGL only, and WebGL with WebGPU. */
const BROWSERS = {
  webgl: BASE_FLAGS,
  webgpu: [...BASE_FLAGS, '--enable-unsafe-webgpu'],
} as const;

/**
 * Run lengths: enough to judge acceptance, short enough for SwiftShader, which renders WebGL
 * about a third as fast as WebAssembly runs here and WebGPU at about one iteration a second.
 */
const RUNS = {
  full: { chains: 32, warmup: 150, steps: 150 },
  webgl: { chains: 32, warmup: 100, steps: 100 },
  webgpu: { chains: 32, warmup: 20, steps: 20 },
} as const;

/** What the browser offers, asked in the page. */
interface Offers {
  readonly webgl: boolean;
  readonly webgpu: boolean;
}

interface DemoCase {
  readonly name: string;
  readonly browser: keyof typeof BROWSERS;
  /** URL parameters besides the run's settings. */
  readonly query: string;
  readonly run: (typeof RUNS)[keyof typeof RUNS];
  readonly runtime: 'onnx' | 'tfjs';
  /** What the browser must offer with these flags. */
  readonly offers: Offers;
  /** The backend the page must use, given what the browser offers. */
  readonly expected: (offers: Offers) => string;
  /** Kinds of file the run must fetch from the server. */
  readonly fetches: readonly string[];
}

const CASES: readonly DemoCase[] = [
  {
    name: 'ONNX Runtime Web without WebGPU, on wasm',
    browser: 'webgl',
    query: 'runtime=onnx',
    run: RUNS.full,
    runtime: 'onnx',
    offers: { webgl: true, webgpu: false },
    expected: (offers) => (offers.webgpu ? 'webgpu' : 'wasm'),
    fetches: ['.onnx', '.wasm'],
  },
  {
    name: 'TensorFlow.js without WebGPU, on webgl',
    browser: 'webgl',
    query: 'runtime=tfjs',
    run: RUNS.webgl,
    runtime: 'tfjs',
    offers: { webgl: true, webgpu: false },
    expected: (offers) => (offers.webgpu ? 'webgpu' : offers.webgl ? 'webgl' : 'wasm'),
    fetches: ['.json', '.bin'],
  },
  {
    name: 'TensorFlow.js with WebGPU, on webgpu',
    browser: 'webgpu',
    query: 'runtime=tfjs',
    run: RUNS.webgpu,
    runtime: 'tfjs',
    offers: { webgl: true, webgpu: true },
    expected: (offers) => (offers.webgpu ? 'webgpu' : offers.webgl ? 'webgl' : 'wasm'),
    fetches: ['.json', '.bin'],
  },
  {
    name: 'TensorFlow.js asked for wasm, on wasm',
    browser: 'webgl',
    query: 'runtime=tfjs&backend=wasm',
    run: RUNS.full,
    runtime: 'tfjs',
    offers: { webgl: true, webgpu: false },
    expected: () => 'wasm',
    fetches: ['.json', '.bin', '.wasm'],
  },
];

/** Pixels of a canvas whose colour is not a grey (background, grid and frame are greys). */
async function colouredPixels(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const context = canvas.getContext('2d') as CanvasRenderingContext2D;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let k = 0; k < data.length; k += 4) {
      const spread = Math.max(data[k], data[k + 1], data[k + 2]);
      const low = Math.min(data[k], data[k + 1], data[k + 2]);
      if (spread - low > 40) count += 1;
    }
    return count;
  }, id);
}

/** Whether the page's browser gives a WebGL context and a WebGPU adapter. */
async function offers(page: Page): Promise<Offers> {
  return page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    const webgl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) !== null;
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);
    return { webgl, webgpu: adapter !== null };
  });
}

describe('web demo', () => {
  let outDir = '';
  let server: StaticServer | null = null;
  const browsers = new Map<string, Browser>();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}; the browser test needs it. Install it with: ` +
          'apt-get update && apt-get install -y --no-install-recommends chromium',
      );
    }
    outDir = mkdtempSync(join(tmpdir(), 'latent-langevin-demo-'));
    await build({
      configFile: join(DEMO, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    server = await serveStatic(outDir);
    for (const [name, args] of Object.entries(BROWSERS)) {
      const launched = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [...args],
      });
      browsers.set(name, launched);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    for (const browser of browsers.values()) await browser.close();
    await server?.close();
    if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  });

  it.each(CASES)(
    'runs naive and latent MALA draws side by side: $name, from local files only',
    async ({ name, browser, query, run, runtime, offers: offered, expected, fetches }) => {
      const origin = (server as StaticServer).origin;
      const page = await (browsers.get(browser) as Browser).newPage({
        viewport: { width: 1000, height: 900 },
      });
      const errors: string[] = [];
      const warnings: string[] = [];
      const foreign: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (entry) => {
        if (entry.type() === 'error') errors.push(entry.text());
        if (entry.type() === 'warning') warnings.push(entry.text());
      });
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) {
          return route.continue();
        }
        foreign.push(url);
        return route.abort();
      });
      const requested = (server as StaticServer).requests.length;

      const settings = `chains=${run.chains}&warmup=${run.warmup}&steps=${run.steps}&beta=1&seed=3`;
      await page.goto(`${origin}/index.html?${query}&${settings}`);
      const found = await offers(page);
      await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', {
        timeout: 200_000,
      });

      const state = await page.getAttribute('#status', 'data-state');
      const message = await page.textContent('#message');
      expect(state, `the demo failed: ${message}`).toBe('done');
      expect(found, 'the launch flags no longer give what this case needs').toEqual(offered);
      expect(await page.getAttribute('#status', 'data-runtime')).toBe(runtime);
      expect(await page.getAttribute('#status', 'data-backend')).toBe(expected(found));
      const acceptance = Number(await page.getAttribute('#status', 'data-acceptance'));
      expect(acceptance).toBeGreaterThan(0.2);
      expect(acceptance).toBeLessThan(0.95);
      const draws = run.chains * run.steps;
      expect(Number(await page.getAttribute('#status', 'data-draws'))).toBe(draws);
      // Each panel holds a dot of at least 2 x 2 pixels a draw, many apart; a blank canvas has
      // none.
      expect(await colouredPixels(page, 'naive')).toBeGreaterThan(Math.min(2000, draws));
      expect(await colouredPixels(page, 'mala')).toBeGreaterThan(Math.min(2000, draws));
      if (runtime === 'tfjs' && expected(found) === 'webgl') {
        // The fallback from WebGPU is reported on the page.
        expect(await page.textContent('#notice')).toContain(
          'TensorFlow.js runs on webgl; not on webgpu (no WebGPU adapter)',
        );
      }
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      // The adapter reads results asynchronously: tfjs' webgpu backend warns on a sync read.
      expect(warnings.filter((w) => /synchronously reading/i.test(w))).toEqual([]);
      const paths = (server as StaticServer).requests.slice(requested);
      for (const kind of fetches) {
        expect(
          paths.some((path) => path.endsWith(kind)),
          `no ${kind} was fetched`,
        ).toBe(true);
      }

      const screenshot = join(ARTIFACTS, `${runtime}-${expected(found)}.png`);
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot), `${name}: no screenshot`).toBe(true);
      await page.close();
    },
    // WebGPU on SwiftShader takes a minute on a busy 2-core machine; give it room.
    240_000,
  );
});
