/**
 * `checkFlow()`: probes a flow with a small batch and reports every broken promise of the
 * `DifferentiableFlow` contract at once, before a long run trips over one of them.
 */
import { InvalidArgumentError, InvalidFlowError, describeValue } from './errors.js';
import { type DifferentiableFlow, dataSize } from './flow.js';
import { flowShapeProblems } from './flow-shape.js';

/** What `checkFlow()` measured on a healthy flow. */
export interface FlowCheckReport {
  readonly latentDim: number;
  readonly dataShape: readonly number[];
  readonly gradient: 'exact' | 'finite-difference';
  /** Largest absolute difference between `forward` and the outputs `vjp` returns. */
  readonly forwardVjpMaxDifference: number;
}

/** Problems of one output array: its type and length. */
function arrayProblem(what: string, got: unknown, expected: number): string | null {
  if (!(got instanceof Float32Array)) {
    return (
      `${what} is ${got === undefined ? 'missing' : describeValue(got)}; expected a ` +
      `Float32Array of length ${expected}.`
    );
  }
  return got.length === expected ? null : `${what} has length ${got.length}; expected ${expected}.`;
}

/** Calls `run`, turning a throw or a non-object result into a problem. */
async function probe<T extends object>(
  what: string,
  run: () => Promise<T>,
  problems: string[],
): Promise<T | null> {
  try {
    const result = await run();
    if (typeof result !== 'object' || result === null) {
      problems.push(`${what} resolved to ${describeValue(result)}; expected an object.`);
      return null;
    }
    return result;
  } catch (error) {
    problems.push(`${what} threw: ${(error as Error)?.message ?? String(error)}`);
    return null;
  }
}

/**
 * Calls `forward` and `vjp` on a batch of three points (the origin and two others) and throws one
 * `InvalidFlowError` listing every problem: missing methods, a `dataShape` whose size is not
 * `latentDim`, wrong output types or lengths, non-finite outputs at the origin, and `vjp`
 * outputs that disagree with `forward`.
 *
 * @param flow the flow to probe
 * @param options.tolerance largest accepted |forward - vjp outputs| relative to max(1, |value|);
 *   a finite number >= 0, default 1e-4
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
  const tolerance = options.tolerance ?? 1e-4;
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new InvalidArgumentError('checkFlow()', [
      `options.tolerance must be a finite number >= 0; received ${describeValue(tolerance)}. ` +
        'Leave it out for 1e-4.',
    ]);
  }
  const problems = flowShapeProblems(flow);
  if (typeof flow !== 'object' || flow === null)
    throw new InvalidFlowError('checkFlow()', problems);
  const d = Number.isInteger(flow.latentDim) && flow.latentDim > 0 ? flow.latentDim : null;
  const size = Array.isArray(flow.dataShape) ? dataSize(flow.dataShape) : null;
  const gradientProblem =
    flow.gradient === 'exact' || flow.gradient === 'finite-difference'
      ? []
      : [`gradient is ${describeValue(flow.gradient)}; expected 'exact' or 'finite-difference'.`];
  // A shape that is not a bijection's would only add follow-on length problems to the probe.
  if (d === null || size === null || size !== d)
    throw new InvalidFlowError('checkFlow()', problems);

  const n = 3;
  const z = new Float32Array(n * d);
  for (let j = 0; j < d; j++) {
    z[d + j] = 0.5 * Math.sin(j + 1);
    z[2 * d + j] = -0.3 * Math.cos(2 * j + 1);
  }
  const cotangent = {
    x: new Float32Array(n * size).fill(0.5),
    logDet: new Float32Array(n).fill(1),
  };
  const forward =
    typeof flow.forward === 'function'
      ? await probe('forward(z, 3)', () => flow.forward(z, n), problems)
      : null;
  const vjp =
    typeof flow.vjp === 'function'
      ? await probe('vjp(z, 3, cotangent)', () => flow.vjp(z, n, cotangent), problems)
      : null;

  let forwardOk = false;
  if (forward !== null) {
    const found = [
      arrayProblem('forward().x', forward.x, n * size),
      arrayProblem('forward().logDet', forward.logDet, n),
    ].filter((p): p is string => p !== null);
    problems.push(...found);
    forwardOk = found.length === 0;
    if (forwardOk) {
      const origin = [...forward.x.subarray(0, size), forward.logDet[0]];
      if (!origin.every((v) => Number.isFinite(v))) {
        problems.push('forward() is not finite at the origin z = 0.');
      }
    }
  }

  let maxDifference = 0;
  if (vjp !== null) {
    const found = [
      arrayProblem('vjp().x', vjp.x, n * size),
      arrayProblem('vjp().logDet', vjp.logDet, n),
      arrayProblem('vjp().z', vjp.z, n * d),
    ].filter((p): p is string => p !== null);
    problems.push(...found);
    if (found.length === 0) {
      if (!forwardOk) {
        // Nothing to compare against.
      } else if (forward !== null) {
        const pairs: [string, Float32Array, Float32Array][] = [
          ['x', forward.x, vjp.x],
          ['logDet', forward.logDet, vjp.logDet],
        ];
        for (const [name, a, b] of pairs) {
          for (let k = 0; k < a.length; k++) {
            if (Object.is(a[k], b[k]) || (!Number.isFinite(a[k]) && !Number.isFinite(b[k]))) {
              continue;
            }
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
      }
      if (!Array.from(vjp.z.subarray(0, d)).every((v) => Number.isFinite(v))) {
        problems.push('vjp().z is not finite at the origin z = 0.');
      }
    }
  }
  problems.push(...gradientProblem);
  if (problems.length > 0) throw new InvalidFlowError('checkFlow()', problems);
  return {
    latentDim: d,
    dataShape: [...flow.dataShape],
    gradient: flow.gradient,
    forwardVjpMaxDifference: maxDifference,
  };
}
