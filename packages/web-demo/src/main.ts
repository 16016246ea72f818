/**
 * The demo page: loads the two-moons flow on the runtime chosen (ONNX Runtime Web: WebGPU, else
 * WebAssembly; or TensorFlow.js: WebGPU, else WebGL, else WebAssembly), then runs naive sampling
 * and latent MALA side by side, live.
 *
 * The page's state is mirrored on `#status` as data attributes (`data-state`: loading, ready,
 * running, done, stopped or error; `data-runtime`, `data-backend`, `data-acceptance`,
 * `data-step-size`, `data-draws`), which the end-to-end test reads. URL parameters `runtime`
 * (`onnx` or `tfjs`), `backend` (one backend to use, e.g. `wasm`), `chains`, `beta`, `steps`,
 * `warmup` and `seed` preset the controls; `autorun=0` waits for the Run button.
 */
import { type DemoSettings, runDemo } from './demo-run.js';
import { type LoadRuntime, type LoadedFlow, RUNTIME_NAMES, type Runtime } from './runtime.js';
import { type Limits, ScatterCanvas, limitsOf } from './scatter-canvas.js';

const NAIVE_COLOUR = '#c0392b';
const MALA_COLOUR = '#1f5fa8';
const WARMUP_COLOUR = '#9a9a9a';

/** Limits that hold the two moons of this fixture, until the naive draws give better ones. */
const INITIAL_LIMITS: Limits = [
  [-3, 3],
  [-3, 3],
];

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`The page has no #${id} element.`);
  return found as T;
}

const form = element<HTMLFormElement>('controls');
const runtimeSelect = element<HTMLSelectElement>('runtime');
const runButton = element<HTMLButtonElement>('run');
const stopButton = element<HTMLButtonElement>('stop');
const status = element<HTMLElement>('status');
const message = element<HTMLElement>('message');
const notice = element<HTMLElement>('notice');
const naivePlot = new ScatterCanvas(element<HTMLCanvasElement>('naive'), INITIAL_LIMITS);
const malaPlot = new ScatterCanvas(element<HTMLCanvasElement>('mala'), INITIAL_LIMITS);

const show = (id: string, text: string) => {
  element(id).textContent = text;
};

const FIELDS = {
  chains: { min: 1, max: 1024, integer: true },
  beta: { min: 0, max: 4, integer: false },
  steps: { min: 1, max: 100_000, integer: true },
  warmup: { min: 0, max: 100_000, integer: true },
  seed: { min: 0, max: 2 ** 31, integer: true },
} as const;

const parameters = new URLSearchParams(location.search);

/** Copies URL parameters into the controls. */
function applyUrlParameters(): void {
  for (const name of Object.keys(FIELDS)) {
    const value = parameters.get(name);
    if (value !== null) (form.elements.namedItem(name) as HTMLInputElement).value = value;
  }
  const runtime = parameters.get('runtime');
  if (runtime !== null && runtime in RUNTIME_NAMES) runtimeSelect.value = runtime;
}

/** Reads the controls, or says which one is out of range. */
function readSettings(): DemoSettings {
  const values: Record<string, number> = {};
  for (const [name, range] of Object.entries(FIELDS)) {
    const raw = (form.elements.namedItem(name) as HTMLInputElement).value;
    const value = Number(raw);
    const ok =
      raw.trim() !== '' &&
      Number.isFinite(value) &&
      value >= range.min &&
      value <= range.max &&
      (!range.integer || Number.isInteger(value));
    if (!ok) {
      throw new Error(
        `${name} must be ${range.integer ? 'a whole number' : 'a number'} in ` +
          `[${range.min}, ${range.max}]; it is '${raw}'.`,
      );
    }
    values[name] = value;
  }
  return values as unknown as DemoSettings;
}

function setState(state: string): void {
  status.dataset.state = state;
  runButton.disabled = state === 'loading' || state === 'running';
  runtimeSelect.disabled = state === 'loading' || state === 'running';
  stopButton.disabled = state !== 'running';
}

/** Each runtime's loader, imported when first chosen. */
const LOADERS: Readonly<Record<Runtime, () => Promise<{ load: LoadRuntime }>>> = {
  onnx: () => import('./load-onnx.js'),
  tfjs: () => import('./load-tfjs.js'),
};

let loaded: LoadedFlow | null = null;
let controller: AbortController | null = null;

/** Disposes the flow in use, then loads `runtime`'s and shows what it runs on. */
async function loadRuntime(runtime: Runtime): Promise<LoadedFlow> {
  setState('loading');
  notice.textContent = '';
  delete status.dataset.backend;
  status.dataset.runtime = runtime;
  show('runtime-label', `loading ${RUNTIME_NAMES[runtime]}`);
  if (loaded !== null) {
    const previous = loaded;
    loaded = null;
    await previous.flow.dispose();
  }
  const backend = parameters.get('backend');
  const { load } = await LOADERS[runtime]();
  const result = await load({
    ...(backend === null ? {} : { backends: [backend] }),
    notice: (text) => {
      notice.textContent = notice.textContent === '' ? text : `${notice.textContent} ${text}`;
    },
  });
  loaded = result;
  status.dataset.backend = result.backend;
  show('runtime-label', result.label);
  setState('ready');
  return result;
}

async function start(): Promise<void> {
  let settings: DemoSettings;
  try {
    settings = readSettings();
  } catch (error) {
    message.className = 'error';
    message.textContent = (error as Error).message;
    return;
  }
  if (loaded === null) return;
  const { flow } = loaded;
  message.className = '';
  message.textContent = '';
  controller = new AbortController();
  setState('running');
  show('beta-shown', String(settings.beta));
  show('mala-count', '');
  malaPlot.clear();

  const result = await runDemo(
    flow,
    settings,
    {
      onNaive(x, count) {
        const limits = limitsOf(x);
        naivePlot.setLimits(limits);
        malaPlot.setLimits(limits);
        naivePlot.draw(x, 0, count, NAIVE_COLOUR);
        show('naive-count', `(${count})`);
      },
      onWarmup(x, chains) {
        malaPlot.clear();
        malaPlot.draw(x, 0, chains, WARMUP_COLOUR);
      },
      onDraws(x, from, to) {
        if (from === 0) malaPlot.clear();
        malaPlot.draw(x, from, to, MALA_COLOUR);
        show('mala-count', `(${settings.chains} x ${to / settings.chains})`);
      },
      onProgress(progress) {
        show(
          'phase',
          `${progress.phase === 'warmup' ? 'warm-up' : 'sampling'} ${progress.iteration} / ` +
            `${progress.total}`,
        );
        show(
          'acceptance',
          Number.isFinite(progress.acceptance) ? progress.acceptance.toFixed(3) : '-',
        );
        show('step-size', progress.stepSize.toPrecision(3));
        show('rate', progress.drawsPerSecond.toFixed(0));
      },
    },
    controller.signal,
  );

  status.dataset.acceptance = String(result.acceptance);
  status.dataset.stepSize = String(result.stepSize);
  status.dataset.draws = String(result.draws);
  show('acceptance', result.acceptance.toFixed(3));
  message.className = '';
  message.textContent = `${result.draws} draws in ${result.seconds.toFixed(1)} s.`;
  setState('done');
}

function fail(error: unknown): void {
  if (controller?.signal.aborted === true) {
    setState('stopped');
    message.textContent = 'Stopped.';
    return;
  }
  setState('error');
  message.className = 'error';
  message.textContent = error instanceof Error ? error.message : String(error);
  status.dataset.error = message.textContent;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  start().catch(fail);
});
stopButton.addEventListener('click', () => controller?.abort(new Error('stopped')));
runtimeSelect.addEventListener('change', () => {
  loadRuntime(runtimeSelect.value as Runtime).catch(fail);
});

applyUrlParameters();
loadRuntime(runtimeSelect.value as Runtime).then(
  () => {
    if (parameters.get('autorun') !== '0') start().catch(fail);
  },
  (error: unknown) => fail(error),
);
