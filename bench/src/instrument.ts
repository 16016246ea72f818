/**
 * Wrappers that time the calls a sampler makes, without touching the core: a flow whose
 * `forward` and `vjp` add their wall time to counters, and a target whose `evaluate` does the
 * same. A step's time then splits into model calls, the target's own arithmetic, and the
 * sampler's (proposal, acceptance, copies).
 */
import type { DifferentiableFlow, LatentTarget } from '@latent-langevin/core';

/** Wall time accumulated by instrumented calls, in milliseconds. */
export interface CallTimes {
  forwardMs: number;
  vjpMs: number;
  forwardCalls: number;
  vjpCalls: number;
  /** Time in the target's `evaluate`, model calls included. */
  targetMs: number;
}

/** Fresh zero counters. */
export function newCallTimes(): CallTimes {
  return { forwardMs: 0, vjpMs: 0, forwardCalls: 0, vjpCalls: 0, targetMs: 0 };
}

/** Sets every counter back to zero. */
export function resetCallTimes(times: CallTimes): void {
  Object.assign(times, newCallTimes());
}

/**
 * A flow that forwards every call to `flow` and adds the time of `forward` and `vjp` to `times`.
 * `jacobian` is left out, so a sampler with the `jacobian` preconditioner builds it from VJPs.
 *
 * @example
 * ```ts
 * const times = newCallTimes();
 * const sampler = await init(instrumentFlow(flow, times), options);
 * ```
 */
export function instrumentFlow(flow: DifferentiableFlow, times: CallTimes): DifferentiableFlow {
  return {
    latentDim: flow.latentDim,
    dataShape: flow.dataShape,
    gradient: flow.gradient,
    async forward(z, n) {
      const started = performance.now();
      try {
        return await flow.forward(z, n);
      } finally {
        times.forwardMs += performance.now() - started;
        times.forwardCalls += 1;
      }
    },
    async vjp(z, n, cotangent) {
      const started = performance.now();
      try {
        return await flow.vjp(z, n, cotangent);
      } finally {
        times.vjpMs += performance.now() - started;
        times.vjpCalls += 1;
      }
    },
    dispose: () => flow.dispose(),
  };
}

/**
 * A target that forwards to `target` and adds the time of `evaluate` to `times.targetMs`.
 *
 * @example
 * ```ts
 * const sampler = await init(flow, { target: instrumentTarget(tempered({ beta: 1 }), times) });
 * ```
 */
export function instrumentTarget(target: LatentTarget, times: CallTimes): LatentTarget {
  return {
    name: target.name,
    async evaluate(flow, z, n, out) {
      const started = performance.now();
      try {
        return await target.evaluate(flow, z, n, out);
      } finally {
        times.targetMs += performance.now() - started;
      }
    },
  };
}
