/**
 * Fused nodes that TensorFlow.js 4.22 cannot run, runs wrongly, or cannot differentiate on some
 * backend. Grappler's remapper fuses a MatMul or Conv2D, its BiasAdd and the activation after
 * them into one `_FusedMatMul` / `_FusedConv2D` / `FusedDepthwiseConv2dNative` node. Splitting
 * such a node back into the nodes it was fused from gives the same numbers with kernels tfjs
 * runs right. The cases, each checked by the adapter's tests:
 *
 * - an activation tfjs' fused kernels do not know: they know linear, relu, relu6, elu, prelu,
 *   leakyrelu and sigmoid, and a oneDNN-enabled TensorFlow (the default on x86 Linux since 2.9)
 *   also fuses Tanh, which then fails on every backend;
 * - LeakyRelu fused into a depthwise convolution: tfjs-converter drops its `leakyrelu_alpha`, and
 *   the output is NaN;
 * - a bias fused into a matmul with `transpose_a` or `transpose_b`: tfjs-backend-wasm adds it
 *   wrongly, and the outputs are off;
 * - a convolution with a fused bias and no fused activation: tfjs' gradient of it also computes
 *   the gradient of the filter, for which tfjs-backend-wasm has no kernel (`Conv2DBackpropFilter`);
 *   the plain `Conv2D` gradient computes only what is asked for.
 */
import type * as tf from '@tensorflow/tfjs';

/** Nodes with a `fused_ops` attribute that tfjs executes, and the node each fuses. */
const FUSED_NODE_OPS: Readonly<Record<string, string>> = {
  _FusedMatMul: 'MatMul',
  _FusedConv2D: 'Conv2D',
  FusedDepthwiseConv2dNative: 'DepthwiseConv2dNative',
};

/** Activations tfjs' fused kernels run (lower case, as tfjs-converter passes them). */
const TFJS_FUSED_ACTIVATIONS = new Set(['relu', 'relu6', 'elu', 'prelu', 'leakyrelu', 'sigmoid']);

/** Fused activations that exist as graph operators of their own, which tfjs runs. */
const ACTIVATION_OPS: Readonly<Record<string, string>> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** Attributes of a fused node that the node it fuses does not have. */
const FUSION_ATTRIBUTES = new Set(['fused_ops', 'num_args', 'epsilon', 'leakyrelu_alpha']);

/** A GraphDef attribute value as `model.json` stores it: `{ b }`, `{ i }`, `{ f }`, `{ list }`. */
type AttrValue = { list?: { s?: string[] } } & Record<string, unknown>;

/** A GraphDef node as `model.json` stores it. */
interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
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
    if (!(node.op in FUSED_NODE_OPS)) continue;
    const ops = fusedOps(node);
    const activation = ops.length > 1 ? ops[ops.length - 1] : undefined;
    if (activation === undefined || TFJS_FUSED_ACTIVATIONS.has(activation.toLowerCase())) continue;
    const splittable = ops.length === 2 && activation.toLowerCase() in ACTIVATION_OPS;
    found.push({ node: node.name, op: node.op, activation, splittable });
  }
  return found;
}

/** How a fused node is split: its activation alone, or its bias and activation. */
interface SplitPlan {
  /** The activation, lower case, or undefined for none. */
  readonly activation: string | undefined;
  /** Whether the bias leaves the node too, which leaves the plain matmul or convolution. */
  readonly bias: boolean;
  readonly reasons: readonly string[];
}

const flag = (node: GraphNode, name: string) => (node.attr?.[name] as { b?: boolean })?.b === true;

/** Whether and how to split `node`, and why; null to leave it as it is. */
function planSplit(node: GraphNode): SplitPlan | null {
  if (!(node.op in FUSED_NODE_OPS)) return null;
  const ops = fusedOps(node).map((op) => op.toLowerCase());
  // Only BiasAdd, with or without an activation, is split; other fusions are left to tfjs.
  if (ops.length === 0 || ops[0] !== 'biasadd' || ops.length > 2) return null;
  const activation = ops[1];
  if (activation !== undefined && !(activation in ACTIVATION_OPS)) return null;

  const reasons: string[] = [];
  let splitActivation = false;
  let splitBias = false;
  if (activation !== undefined && !TFJS_FUSED_ACTIVATIONS.has(activation)) {
    splitActivation = true;
    reasons.push(`tfjs cannot run a fused ${ACTIVATION_OPS[activation]}`);
  }
  if (node.op === 'FusedDepthwiseConv2dNative' && activation === 'leakyrelu') {
    splitActivation = true;
    reasons.push(
      'tfjs-converter drops the alpha of a LeakyRelu fused into a depthwise convolution',
    );
  }
  if (node.op === '_FusedMatMul' && (flag(node, 'transpose_a') || flag(node, 'transpose_b'))) {
    splitBias = true;
    reasons.push('tfjs-backend-wasm adds the bias of a transposed fused matmul wrongly');
  }
  if (node.op === '_FusedConv2D' && (activation === undefined || splitActivation)) {
    splitBias = true;
    reasons.push(
      "tfjs' gradient of a fused convolution without activation needs Conv2DBackpropFilter, " +
        'which tfjs-backend-wasm lacks',
    );
  }
  if (!splitActivation && !splitBias) return null;
  return { activation, bias: splitBias, reasons };
}

/** The nodes that replace `node`; the last one keeps its name, so consumers read the same value. */
function splitNode(node: GraphNode, plan: SplitPlan): GraphNode[] {
  const inputs = node.input ?? [];
  const control = inputs.filter((name) => name.startsWith('^'));
  const [x, w, bias, alpha] = inputs.filter((name) => !name.startsWith('^'));
  const type: Record<string, AttrValue> = node.attr?.T === undefined ? {} : { T: node.attr.T };
  const activationOp = plan.activation === undefined ? undefined : ACTIVATION_OPS[plan.activation];
  const nodes: GraphNode[] = [];

  let last: string;
  if (plan.bias) {
    const core = `${node.name}/latent_langevin_${FUSED_NODE_OPS[node.op].toLowerCase()}`;
    const attributes = Object.fromEntries(
      Object.entries(node.attr ?? {}).filter(([key]) => !FUSION_ATTRIBUTES.has(key)),
    );
    nodes.push({
      name: core,
      op: FUSED_NODE_OPS[node.op],
      input: [x, w, ...control],
      attr: attributes,
    });
    last = activationOp === undefined ? node.name : `${node.name}/latent_langevin_bias`;
    const format: Record<string, AttrValue> =
      node.attr?.data_format === undefined ? {} : { data_format: node.attr.data_format };
    nodes.push({ name: last, op: 'BiasAdd', input: [core, bias], attr: { ...type, ...format } });
  } else {
    last = `${node.name}/latent_langevin_unfused`;
    nodes.push({
      ...node,
      name: last,
      input: [x, w, bias, ...control],
      attr: {
        ...node.attr,
        fused_ops: { list: { s: [btoa('BiasAdd')] } },
        num_args: { i: '1' },
      },
    });
  }
  if (activationOp !== undefined) {
    const leakyAlpha = (node.attr?.leakyrelu_alpha as { f?: number } | undefined)?.f ?? 0.2;
    nodes.push({
      name: node.name,
      op: activationOp,
      input: activationOp === 'Prelu' ? [last, alpha] : [last],
      attr: activationOp === 'LeakyRelu' ? { ...type, alpha: { f: leakyAlpha } } : type,
    });
  }
  return nodes;
}

/**
 * Returns a copy of graph-model artifacts in which every fused node that tfjs cannot run, runs
 * wrongly or cannot differentiate on some backend (see the module's notes) is split into the
 * nodes it was fused from; the last of them takes the old name, so every consumer reads the same
 * value. Other nodes are kept as they are.
 *
 * @param artifacts the model's artifacts (`modelTopology`, weights and signature), unchanged
 * @returns the rewritten artifacts, sharing the weights; the names of the nodes split; and why,
 *   one line per distinct reason
 * @example
 * ```ts
 * const { artifacts: fixed, split } = splitFusedActivations(await handler.load());
 * const model = await tf.loadGraphModel(tf.io.fromMemory(fixed)); // split: ['dense/Tanh', ...]
 * ```
 */
export function splitFusedActivations(artifacts: tf.io.ModelArtifacts): {
  artifacts: tf.io.ModelArtifacts;
  split: string[];
  reasons: string[];
} {
  const split: string[] = [];
  const reasons = new Set<string>();
  const nodes: GraphNode[] = [];
  for (const node of nodesOf(artifacts.modelTopology)) {
    const plan = planSplit(node);
    if (plan === null) {
      nodes.push(node);
      continue;
    }
    nodes.push(...splitNode(node, plan));
    split.push(node.name);
    plan.reasons.forEach((reason) => reasons.add(reason));
  }
  const topology = artifacts.modelTopology as Record<string, unknown>;
  return {
    artifacts: { ...artifacts, modelTopology: { ...topology, node: nodes } },
    split,
    reasons: [...reasons],
  };
}
