/**
 * The cheap structural check of a flow that every entry point makes before calling it:
 * methods present, shape consistent. Internal: `checkFlow()` is the public, thorough probe.
 */
import { InvalidFlowError, describeValue } from './errors.js';
import { type DifferentiableFlow, dataSize } from './flow.js';

/** Structural problems of a flow (missing methods, inconsistent shape), one line each. */
export function flowShapeProblems(flow: DifferentiableFlow): string[] {
  if (typeof flow !== 'object' || flow === null) {
    return [
      `flow must be an object implementing DifferentiableFlow; received ${describeValue(flow)}.`,
    ];
  }
  const problems: string[] = [];
  if (!Number.isInteger(flow.latentDim) || flow.latentDim < 1) {
    problems.push(`latentDim is ${describeValue(flow.latentDim)}; expected an integer >= 1.`);
  }
  if (!Array.isArray(flow.dataShape) || !flow.dataShape.every((e) => Number.isInteger(e))) {
    problems.push(`dataShape is ${describeValue(flow.dataShape)}; expected an array of integers.`);
  } else if (dataSize(flow.dataShape) !== flow.latentDim) {
    problems.push(
      `dataShape [${flow.dataShape.join(', ')}] has ${dataSize(flow.dataShape)} values; ` +
        `expected latentDim = ${flow.latentDim} (a flow is a bijection).`,
    );
  }
  for (const method of ['forward', 'vjp', 'dispose'] as const) {
    if (typeof flow[method] !== 'function') {
      problems.push(`${method} is ${describeValue(flow[method])}; expected a method.`);
    }
  }
  return problems;
}

/** Throws an InvalidFlowError from `where` listing the flow's structural problems, if any. */
export function checkFlowShape(where: string, flow: DifferentiableFlow): void {
  const problems = flowShapeProblems(flow);
  if (problems.length > 0) throw new InvalidFlowError(where, problems);
}
