/**
 * End to end: build the demo with Vite, serve it on 127.0.0.1, open it in Debian's Chromium
 * (headless, no GPU, so onnxruntime-web falls back from WebGPU to WebAssembly), let a run
 * finish, and check the acceptance rate, that both canvases hold draws, that nothing was
 * fetched from elsewhere, and save a screenshot under test-artifacts/.
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
const SCREENSHOT = join(ROOT, 'test-artifacts', 'web-demo', 'demo.png');

/** Small enough to finish in seconds on the wasm backend, large enough to judge acceptance. */
const QUERY = '?chains=32&warmup=150&steps=150&beta=1&seed=3';

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

describe('web demo', () => {
  let outDir = '';
  let server: StaticServer | null = null;
  let browser: Browser | null = null;

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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  });

  it('runs naive and latent MALA draws side by side, from local files only', async () => {
    const origin = (server as StaticServer).origin;
    const page = await (browser as Browser).newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (entry) => {
      if (entry.type() === 'error') errors.push(entry.text());
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) {
        return route.continue();
      }
      foreign.push(url);
      return route.abort();
    });

    await page.goto(`${origin}/index.html${QUERY}`);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', {
      timeout: 90_000,
    });

    const state = await page.getAttribute('#status', 'data-state');
    const message = await page.textContent('#message');
    expect(state, `the demo failed: ${message}`).toBe('done');
    const acceptance = Number(await page.getAttribute('#status', 'data-acceptance'));
    const provider = await page.getAttribute('#status', 'data-provider');
    const draws = Number(await page.getAttribute('#status', 'data-draws'));
    expect(acceptance).toBeGreaterThan(0.2);
    expect(acceptance).toBeLessThan(0.95);
    expect(['webgpu', 'wasm']).toContain(provider);
    expect(draws).toBe(32 * 150);
    // Each panel holds thousands of dots of two or more pixels; a blank canvas has none.
    expect(await colouredPixels(page, 'naive')).toBeGreaterThan(2000);
    expect(await colouredPixels(page, 'mala')).toBeGreaterThan(2000);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    expect(server?.requests.some((path) => path.endsWith('.wasm'))).toBe(true);
    expect(server?.requests.some((path) => path.endsWith('.onnx'))).toBe(true);

    mkdirSync(join(ROOT, 'test-artifacts', 'web-demo'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.close();
  });
});
