/**
 * `checkFlow()`: probes a flow with a small batch and reports every broken promise of the
 * `DifferentiableFlow` contract at once, before a long run trips over one of them.
 */
import { InvalidFlowError } from './errors.js';
import { type DifferentiableFlow, dataSize } from './flow.js';
import { checkFlowShape } from './sampler.js';

/** What `checkFlow()` measured on a healthy flow. */
export interface FlowCheckReport {
  readonly latentDim: number;
  readonly dataShape: readonly number[];
  readonly gradient: 'exact' | 'finite-difference';
  /** Largest absolute difference between `forward` and the outputs `vjp` returns. */
  readonly forwardVjpMaxDifference: number;
}

function lengthProblem(what: string, got: unknown, expected: number): string | null {
  const length = (got as { length?: unknown } | undefined)?.length;
  if (!(got instanceof Float32Array)) {
    return (
      `${what} is ${got === undefined ? 'missing' : 'not a Float32Array'}; expected a ` +
      `Float32Array of length ${expected}.`
    );
  }
  return length === expected ? null : `${what} has length ${length}; expected ${expected}.`;
}

/**
 * Calls `forward` and `vjp` on a batch of three points (the origin and two others) and throws one
 * `InvalidFlowError` listing every problem: wrong output lengths, a `dataShape` whose size is not
 * `latentDim`, non-finite outputs at the origin, and `vjp` outputs that disagree with `forward`.
 *
 * @param flow the flow to probe
 * @param options.tolerance largest accepted |forward - vjp outputs|, relative; default 1e-4
 * @returns a report of what was checked
 * @throws InvalidFlowError listing every broken promise
 * @example
 * ```ts
 * await checkFlow(await loadOnnxFlow('model.onnx'));
 * ```
 */
export async function checkFlow(
  flow: DifferentiableFlow,
  options: { tolerance?: number } = {},
): Promise<FlowCheckReport> {
  checkFlowShape('checkFlow()', flow);
  const d = flow.latentDim;
  const size = dataSize(flow.dataShape);
  const n = 3;
  const tolerance = options.tolerance ?? 1e-4;
  const z = new Float32Array(n * d);
  for (let j = 0; j < d; j++) {
    z[d + j] = 0.5 * Math.sin(j + 1);
    z[2 * d + j] = -0.3 * Math.cos(2 * j + 1);
  }

  const problems: string[] = [];
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (error) {
      problems.push(`${what} threw: ${(error as Error)?.message ?? String(error)}`);
      return null;
    }
  };
  const forward = await call('forward(z, 3)', () => flow.forward(z, n));
  const cotangent = {
    x: new Float32Array(n * size).fill(0.5),
    logDet: new Float32Array(n).fill(1),
  };
  const vjp = await call('vjp(z, 3, cotangent)', () => flow.vjp(z, n, cotangent));

  let maxDifference = 0;
  if (forward !== null) {
    const p = [
      lengthProblem('forward().x', forward?.x, n * size),
      lengthProblem('forward().logDet', forward?.logDet, n),
    ].filter((s): s is string => s !== null);
    problems.push(...p);
    if (p.length === 0) {
      const bad = [...forward.x.subarray(0, size), forward.logDet[0]].some((v) => !isFinite(v));
      if (bad) problems.push('forward() is not finite at the origin z = 0.');
    }
  }
  if (vjp !== null) {
    const p = [
      lengthProblem('vjp().x', vjp?.x, n * size),
      lengthProblem('vjp().logDet', vjp?.logDet, n),
      lengthProblem('vjp().z', vjp?.z, n * d),
    ].filter((s): s is string => s !== null);
    problems.push(...p);
    if (p.length === 0 && forward !== null && forward.x?.length === n * size) {
      const pairs: [string, Float32Array, Float32Array][] = [
        ['x', forward.x, vjp.x],
        ['logDet', forward.logDet, vjp.logDet],
      ];
      for (const [name, a, b] of pairs) {
        for (let k = 0; k < a.length; k++) {
          const difference = Math.abs(a[k] - b[k]);
          maxDifference = Math.max(maxDifference, difference);
          if (!(difference <= tolerance * Math.max(1, Math.abs(a[k])))) {
            problems.push(
              `vjp().${name}[${k}] = ${b[k]} but forward().${name}[${k}] = ${a[k]}; the two ` +
                'must evaluate the same map.',
            );
            break;
          }
        }
      }
      if (![...vjp.z.subarray(0, d)].every((v) => isFinite(v))) {
        problems.push('vjp().z is not finite at the origin z = 0.');
      }
    }
  }
  if (flow.gradient !== 'exact' && flow.gradient !== 'finite-difference') {
    problems.push(`gradient is ${String(flow.gradient)}; expected 'exact' or 'finite-difference'.`);
  }
  if (problems.length > 0) throw new InvalidFlowError('checkFlow()', problems);
  return {
    latentDim: d,
    dataShape: [...flow.dataShape],
    gradient: flow.gradient,
    forwardVjpMaxDifference: maxDifference,
  };
}
