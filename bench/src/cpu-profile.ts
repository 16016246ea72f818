/**
 * A CPU profile of some async work, taken in-process with V8's sampling profiler (the one
 * `node --cpu-prof` uses) through `node:inspector`, summed into self time per function.
 */
import { Session } from 'node:inspector';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repositoryRoot } from './machine.js';

/** Self time of one function. */
export interface FunctionShare {
  /** `name (file:line)`, the file relative to the repository, or a V8 category such as `(idle)`. */
  readonly location: string;
  /** Self milliseconds per call of the profiled work. */
  readonly ms: number;
  /** Share of the profiled wall time, in [0, 1]. */
  readonly share: number;
}

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: CallFrame;
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) =>
      error ? reject(error) : resolve(result as T),
    );
  });
}

function describeFrame(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  // Native frames have no URL; onnxruntime-node runs a session synchronously on the main
  // thread (inside setImmediate), so ONNX Runtime's kernels appear as such frames.
  if (frame.url === '')
    return name.startsWith('(') && frame.functionName !== '' ? name : `${name} [native]`;
  let file = frame.url;
  try {
    file = relative(repositoryRoot(), file.startsWith('file:') ? fileURLToPath(file) : file);
  } catch {
    // keep the URL as it is
  }
  return `${name} (${file}:${frame.lineNumber + 1})`;
}

/**
 * Runs `work` `calls` times under the V8 sampling profiler and returns the functions with the
 * most self time, per call. Native code (ONNX Runtime's kernels, run on the main thread by
 * onnxruntime-node) shows as `name [native]`; waiting as `(idle)`, V8 itself as `(program)`.
 *
 * @param work the async call to profile
 * @param calls how many times to run it
 * @param top how many functions to return; default 15
 * @example
 * ```ts
 * const hot = await profileCalls(() => sampler.step(), 50);
 * ```
 */
export async function profileCalls(
  work: () => Promise<unknown>,
  calls: number,
  top = 15,
): Promise<FunctionShare[]> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 100 });
    await post(session, 'Profiler.start');
    for (let k = 0; k < calls; k++) await work();
    const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');

    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    // Samples under node:inspector are the profiler's own calls (Profiler.stop collects the
    // profile); they are left out.
    const parents = new Map<number, number>();
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) parents.set(child, node.id);
    }
    const inspector = new Map<number, boolean>();
    const underInspector = (id: number): boolean => {
      const known = inspector.get(id);
      if (known !== undefined) return known;
      const parent = parents.get(id);
      const result =
        frames.get(id)?.url === 'node:inspector' ||
        (parent !== undefined && underInspector(parent));
      inspector.set(id, result);
      return result;
    };
    const selfUs = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, k) => {
      if (underInspector(id)) return;
      const delta = profile.timeDeltas[k + 1] ?? 0;
      const frame = frames.get(id);
      const key = frame === undefined ? '(unknown)' : describeFrame(frame);
      selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
      total += delta;
    });
    return [...selfUs.entries()]
      .map(([location, us]) => ({
        location,
        ms: us / 1000 / calls,
        share: total > 0 ? us / total : 0,
      }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top);
  } finally {
    await post(session, 'Profiler.disable').catch(() => undefined);
    session.disconnect();
  }
}
