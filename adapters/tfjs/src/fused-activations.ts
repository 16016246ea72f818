/**
 * Fused activations that TensorFlow.js cannot run. Grappler's remapper fuses a MatMul or Conv2D,
 * its BiasAdd and the activation after them into one `_FusedMatMul` / `_FusedConv2D` node, and a
 * oneDNN-enabled TensorFlow (the default on x86 Linux since 2.9) fuses Tanh as well. tfjs 4.22's
 * fused kernels know only linear, relu, relu6, elu, prelu, leakyrelu and sigmoid, so such a graph
 * fails on every backend, forward and backward. Splitting the activation back out into its own
 * node gives the same numbers with kernels tfjs has.
 */
import type * as tf from '@tensorflow/tfjs';

/** Nodes with a `fused_ops` attribute that tfjs executes. */
const FUSED_NODE_OPS = new Set(['_FusedMatMul', '_FusedConv2D', 'FusedDepthwiseConv2dNative']);

/** Activations tfjs' fused kernels run (lower case, as tfjs-converter passes them). */
const TFJS_FUSED_ACTIVATIONS = new Set(['relu', 'relu6', 'elu', 'prelu', 'leakyrelu', 'sigmoid']);

/** Fused activations that exist as graph operators of their own, which tfjs runs. */
const SPLITTABLE: Readonly<Record<string, string>> = { tanh: 'Tanh' };

/** A GraphDef node as `model.json` stores it. */
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { list?: { s?: string[] } } & Record<string, unknown>>;
  [key: string]: unknown;
}

/** A fused node whose activation tfjs cannot run. */
export interface UnsupportedFusedActivation {
  /** Node name. */
  readonly node: string;
  /** Node operator, e.g. `_FusedMatMul`. */
  readonly op: string;
  /** The activation as the graph names it, e.g. `Tanh`. */
  readonly activation: string;
  /** Whether {@link splitFusedActivations} can split it out. */
  readonly splittable: boolean;
}

const decode = (value: string): string => {
  try {
    return atob(value);
  } catch {
    return value;
  }
};

/** The fused operations of a node (`['BiasAdd', 'Tanh']`), decoded from base64. */
function fusedOps(node: GraphNode): string[] {
  return (node.attr?.fused_ops?.list?.s ?? []).map(decode);
}

function nodesOf(topology: unknown): GraphNode[] {
  const nodes = (topology as { node?: unknown } | null | undefined)?.node;
  return Array.isArray(nodes) ? (nodes as GraphNode[]) : [];
}

/**
 * Lists the fused nodes of a graph model's topology whose activation tfjs cannot run.
 *
 * @param topology `modelTopology` of a graph model's `model.json` (a GraphDef as JSON)
 * @returns one entry per such node, in graph order; empty when there is none
 * @example
 * ```ts
 * const json = JSON.parse(readFileSync('model.json', 'utf8'));
 * unsupportedFusedActivations(json.modelTopology); // [{ node: 'dense/Tanh', op: ..., ... }]
 * ```
 */
export function unsupportedFusedActivations(topology: unknown): UnsupportedFusedActivation[] {
  const found: UnsupportedFusedActivation[] = [];
  for (const node of nodesOf(topology)) {
    if (!FUSED_NODE_OPS.has(node.op)) continue;
    const ops = fusedOps(node);
    const activation = ops.length > 1 ? ops[ops.length - 1] : undefined;
    if (activation === undefined || TFJS_FUSED_ACTIVATIONS.has(activation.toLowerCase())) continue;
    const splittable = activation.toLowerCase() in SPLITTABLE;
    found.push({ node: node.name, op: node.op, activation, splittable });
  }
  return found;
}

/**
 * Returns a copy of graph-model artifacts in which every fused node with an activation tfjs
 * cannot run (Tanh) keeps its matmul or convolution and bias, under a new name, and a node of the
 * activation's own operator takes the old name, so every consumer reads the same value.
 *
 * @param artifacts the model's artifacts (`modelTopology`, weights and signature), unchanged
 * @returns the rewritten artifacts, sharing the weights, and the names of the nodes split
 * @example
 * ```ts
 * const { artifacts: fixed } = splitFusedActivations(await handler.load());
 * const model = await tf.loadGraphModel(tf.io.fromMemory(fixed));
 * ```
 */
export function splitFusedActivations(artifacts: tf.io.ModelArtifacts): {
  artifacts: tf.io.ModelArtifacts;
  split: string[];
} {
  const split: string[] = [];
  const nodes: GraphNode[] = [];
  for (const node of nodesOf(artifacts.modelTopology)) {
    const ops = fusedOps(node);
    const activation = ops.length > 1 ? ops[ops.length - 1].toLowerCase() : '';
    if (!FUSED_NODE_OPS.has(node.op) || !(activation in SPLITTABLE)) {
      nodes.push(node);
      continue;
    }
    const renamed = `${node.name}/latent_langevin_unfused`;
    const kept = ops.slice(0, -1).map((op) => btoa(op));
    nodes.push({
      ...node,
      name: renamed,
      attr: { ...node.attr, fused_ops: { list: { s: kept } } },
    });
    const type = node.attr?.T;
    nodes.push({
      name: node.name,
      op: SPLITTABLE[activation],
      input: [renamed],
      attr: type === undefined ? {} : { T: type },
    });
    split.push(node.name);
  }
  const topology = artifacts.modelTopology as Record<string, unknown>;
  return { artifacts: { ...artifacts, modelTopology: { ...topology, node: nodes } }, split };
}
