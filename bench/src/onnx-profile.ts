/**
 * Where the time of an ONNX model call goes: ONNX Runtime's own per-node profile
 * (`enableProfiling`), written when the session is released, summed by operator type.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RandomStream, streamState } from '@latent-langevin/core';
import { loadOnnxFlow } from '@latent-langevin/onnx';
import { type FixtureName, fixturePath } from './fixtures.js';

/** Time of one operator type, per model call. */
export interface OperatorShare {
  /** Operator type, e.g. `ConvTranspose`, or a PyTorch op name such as `aten::convolution`. */
  readonly operator: string;
  /** Milliseconds per model call (ONNX) or per step (PyTorch). */
  readonly ms: number;
  /** Share of the summed operator time, in [0, 1]. */
  readonly share: number;
  /** Nodes (or calls) of this type per model call. */
  readonly count: number;
}

interface ProfileEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly args?: { readonly op_name?: string };
}

/**
 * Sums the kernel times of an ONNX Runtime profile by operator type, per call.
 *
 * @param events the parsed profile (a JSON array of trace events)
 * @param calls model calls the profile covers
 * @returns operator types by decreasing time
 */
export function operatorShares(events: readonly ProfileEvent[], calls: number): OperatorShare[] {
  const time = new Map<string, number>();
  const count = new Map<string, number>();
  for (const event of events) {
    if (event.cat !== 'Node' || !event.name?.endsWith('_kernel_time')) continue;
    const op = event.args?.op_name ?? 'unknown';
    time.set(op, (time.get(op) ?? 0) + (event.dur ?? 0));
    count.set(op, (count.get(op) ?? 0) + 1);
  }
  let total = 0;
  for (const t of time.values()) total += t;
  return [...time.entries()]
    .map(([operator, us]) => ({
      operator,
      ms: us / 1000 / calls,
      share: total > 0 ? us / total : 0,
      count: Math.round((count.get(operator) ?? 0) / calls),
    }))
    .sort((a, b) => b.ms - a.ms);
}

/** Operator times of the forward graph and of the VJP graph of one fixture. */
export interface OnnxProfile {
  readonly chains: number;
  /** One forward-graph call, by operator type. */
  readonly forward: readonly OperatorShare[];
  /** One VJP-graph call, by operator type. */
  readonly vjp: readonly OperatorShare[];
}

/**
 * Profiles the forward and the VJP graph of a fixture on onnxruntime-node (CPU): `calls` calls
 * of each on a batch of `chains` standard normal latents (the VJP with the tempered cotangent,
 * `logDet = -1`), after one untimed call of each, and returns the time per operator type.
 *
 * @example
 * ```ts
 * const { vjp } = await profileOnnx('digits-glow', 4096, 2, 3);
 * console.log(vjp[0].operator); // e.g. 'ConvTranspose'
 * ```
 */
export async function profileOnnx(
  fixture: FixtureName,
  chains: number,
  threads: number,
  calls: number,
): Promise<OnnxProfile> {
  const dir = await mkdtemp(join(tmpdir(), 'latent-langevin-profile-'));
  try {
    const flow = await loadOnnxFlow(fixturePath(fixture), {
      gradient: 'autodiff',
      sessionOptions: {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        enableProfiling: true,
        profileFilePrefix: join(dir, 'ort'),
      },
    });
    const random = new RandomStream(streamState(1, 0));
    const z = new Float32Array(chains * flow.latentDim).map(() => random.normal());
    const cotangent = { logDet: new Float32Array(chains).fill(-1) };
    for (let k = 0; k <= calls; k++) {
      await flow.forward(z, chains);
      await flow.vjp(z, chains, cotangent);
    }
    await flow.dispose();

    // One file per session, written when it is released; the VJP graph has more nodes.
    const profiles: { kernels: number; shares: OperatorShare[] }[] = [];
    for (const file of await readdir(dir)) {
      const events = JSON.parse(await readFile(join(dir, file), 'utf8')) as ProfileEvent[];
      const shares = operatorShares(events, calls + 1);
      profiles.push({ kernels: shares.reduce((sum, o) => sum + o.count, 0), shares });
    }
    profiles.sort((a, b) => a.kernels - b.kernels);
    return {
      chains,
      forward: profiles.length > 1 ? profiles[0].shares : [],
      vjp: profiles.length > 0 ? profiles[profiles.length - 1].shares : [],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
