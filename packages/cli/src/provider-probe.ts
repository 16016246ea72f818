/**
 * Whether an ONNX Runtime execution provider starts here, tried in a child Node process.
 *
 * onnxruntime-node's WebGPU provider runs on Dawn, which writes its own warnings (for example
 * "Couldn't load Vulkan: libvulkan.so.1 ...", with a C++ source location) straight to file
 * descriptor 2; `ort.env.logLevel` does not reach it, and Node cannot redirect a descriptor of
 * its own process. Trying the provider in a child whose standard error is captured keeps that
 * text off the user's terminal, and what Dawn said becomes part of the one-line reason.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { OnnxFlowOptions } from '@latent-langevin/onnx';
import { oneLine } from './one-line.js';

/** One execution provider and whether it starts here. */
export interface ProviderStatus {
  readonly name: string;
  /** True when a session started on it; null when it was not tried. */
  readonly works: boolean | null;
  /** Why it does not start, with the fix, when it does not. */
  readonly reason?: string;
}

/** A provider that failed to start in the child, with the adapter's error code. */
export interface ProbeFailure extends ProviderStatus {
  readonly works: false;
  readonly reason: string;
  /** The adapter's error code, e.g. `PROVIDER_UNAVAILABLE`; null when the child itself failed. */
  readonly code: string | null;
}

/** How long a provider may take to start before the probe gives up. */
const PROBE_TIMEOUT_MS = 60_000;

/** Lines of native output quoted in a reason at most. */
const NATIVE_LINES = 2;

/**
 * The child's program: loads the model on one provider through the ONNX adapter and prints
 * `{ works, code?, message? }` as JSON on standard output.
 */
const CHILD = `
const [, adapter, runtime, model, provider, names] = process.argv;
const ort = await import(runtime);
(ort.default ?? ort).env.logLevel = 'fatal'; // as in the parent: failures come back as errors
const { loadOnnxFlow } = await import(adapter);
let answer;
try {
  const flow = await loadOnnxFlow(model, {
    ...JSON.parse(names),
    executionProvider: provider,
    gradient: 'finite-difference',
  });
  await flow.dispose();
  answer = { works: true };
} catch (error) {
  answer = { works: false, code: error?.code ?? null, message: String(error?.message ?? error) };
}
process.stdout.write(JSON.stringify(answer) + '\\n');
`;

/** What the child prints. */
interface ChildAnswer {
  readonly works: boolean;
  readonly code?: string | null;
  readonly message?: string;
}

/** The child's answer, or null when it printed none (it crashed or timed out). */
function parseAnswer(stdout: string): ChildAnswer | null {
  try {
    const answer = JSON.parse(stdout) as unknown;
    return typeof answer === 'object' && answer !== null && 'works' in answer
      ? (answer as ChildAnswer)
      : null;
  } catch {
    return null;
  }
}

/**
 * The readable part of a provider's failure: the sentences after the adapter's preamble,
 * without ONNX Runtime's source locations and C++ signatures.
 *
 * @param name the provider, e.g. `webgpu`
 * @param message the adapter's error message
 * @example
 * ```ts
 * providerFailure('cuda', "loadOnnxFlow(): no execution provider could run the model: ...");
 * ```
 */
export function providerFailure(name: string, message: string): string {
  const text = oneLine(message)
    .replace(/^.*?no execution provider could run the model: /, '')
    .replace(new RegExp(`^${name}: `), '');
  const sentences = text.split(/(?<=\.)\s+/);
  const readable = sentences.filter((s) => !s.includes('::') && !s.includes('onnxruntime_src'));
  return (readable.length > 0 ? readable : sentences).join(' ');
}

/**
 * What a native library wrote to standard error, without stack lines (`at operator() (...)`),
 * blank lines and repeats, e.g. `Couldn't load Vulkan: libvulkan.so.1: cannot open shared
 * object file: No such file or directory`.
 *
 * @param stderr the child's standard error
 * @returns at most two lines, joined by `; `, or '' when there was nothing
 */
export function nativeNotes(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^at /.test(line))
    .map((line) => line.replace(/^(Warning|Error|W|E)\s*:\s*/, '').replace(/\.$/, ''));
  return [...new Set(lines)].slice(0, NATIVE_LINES).join('; ');
}

/**
 * The ONNX adapter's entry and the onnxruntime-node it loads, as file URLs, so that the child
 * imports the same builds as this process whatever its working directory.
 */
function childImports(): [adapter: string, runtime: string] {
  const adapter = createRequire(import.meta.url).resolve('@latent-langevin/onnx');
  const runtime = createRequire(adapter).resolve('onnxruntime-node');
  return [pathToFileURL(adapter).href, pathToFileURL(runtime).href];
}

/**
 * Tries to start one execution provider on a model in a child Node process, so that whatever
 * its native libraries print stays out of this process's standard error.
 *
 * @param modelPath absolute path of the `.onnx` file
 * @param name the provider, `cuda` or `webgpu`
 * @param names the model's input and output names, as `loadOnnxFlow()` takes them, when the
 *   adapter cannot tell them by itself
 * @returns `{ works: true }`, or `{ works: false, reason, code }` with the adapter's readable
 *   reason and, in brackets, what the native libraries logged
 * @example
 * ```ts
 * const webgpu = await probeProvider('/models/flow.onnx', 'webgpu');
 * if (webgpu.works === false) console.log(webgpu.reason);
 * ```
 */
export function probeProvider(
  modelPath: string,
  name: string,
  names: Pick<OnnxFlowOptions, 'input' | 'outputs'> = {},
): Promise<{ readonly name: string; readonly works: true } | ProbeFailure> {
  let child;
  try {
    child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        CHILD,
        ...childImports(),
        modelPath,
        name,
        JSON.stringify(names),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS },
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return Promise.resolve({
      name,
      works: false,
      code: null,
      reason: `the probe process did not start (${oneLine(message)}).`,
    });
  }
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  return new Promise((resolve) => {
    child.on('error', (error) => {
      resolve({
        name,
        works: false,
        code: null,
        reason: `the probe process did not start (${error.message}).`,
      });
    });
    child.on('close', (status, signal) => {
      const notes = nativeNotes(stderr);
      const answer = parseAnswer(stdout);
      if (answer?.works === true) {
        resolve({ name, works: true });
        return;
      }
      const why =
        answer !== null
          ? providerFailure(name, answer.message ?? '')
          : signal === 'SIGTERM'
            ? `it did not start within ${PROBE_TIMEOUT_MS / 1000} s.`
            : `the probe process ended (${signal ?? `exit status ${status}`}) before it answered.`;
      resolve({
        name,
        works: false,
        code: answer?.code ?? null,
        reason: notes === '' ? why : `${why} (The runtime logged: ${notes}.)`,
      });
    });
  });
}
