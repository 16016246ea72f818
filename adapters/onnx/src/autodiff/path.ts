/**
 * Which tensors and nodes lie on the differentiated path: forward reachability from the input
 * through differentiable edges, intersected with backward reachability from the outputs.
 */

import type { onnx } from './proto.js';
import { isFloatType } from './proto.js';
import type { ShapeContext } from './rank-inference.js';

/** Result of the path analysis. */
export interface DifferentiationPath {
  /** Tensors that depend differentiably on the input (floating point, not through a cut). */
  readonly active: ReadonlySet<string>;
  /** Active tensors from which a differentiated output is reachable: they need cotangents. */
  readonly needed: ReadonlySet<string>;
  /** Nodes to differentiate, in graph order: some output is needed. */
  readonly nodes: readonly onnx.INodeProto[];
}

/** Tensor names a node reads, including those its subgraphs (If, Loop, Scan) read from outside. */
export function nodeInputs(node: onnx.INodeProto): string[] {
  const names = (node.input ?? []).filter((name) => name);
  for (const attribute of node.attribute ?? []) {
    for (const graph of [attribute.g, ...(attribute.graphs ?? [])]) {
      if (!graph) continue;
      for (const inner of graph.node ?? []) names.push(...nodeInputs(inner));
    }
  }
  return names;
}

/**
 * Computes the differentiated path.
 *
 * @param graph - the forward graph, topologically sorted.
 * @param ctx - rank and type inference of the graph (types decide differentiability).
 * @param input - the graph input to differentiate with respect to.
 * @param outputs - the differentiated graph outputs.
 * @param cuts - whether an operator's outputs never carry a gradient (Shape, Equal, Floor...).
 */
export function analysePath(
  graph: onnx.IGraphProto,
  ctx: ShapeContext,
  input: string,
  outputs: readonly string[],
  cuts: (node: onnx.INodeProto) => boolean,
): DifferentiationPath {
  const nodes = graph.node ?? [];
  const active = new Set<string>([input]);
  for (const node of nodes) {
    if (cuts(node)) continue;
    if (!nodeInputs(node).some((name) => active.has(name))) continue;
    for (const name of node.output ?? []) {
      const dtype = ctx.info(name)?.dtype ?? null;
      if (name && (dtype === null || isFloatType(dtype))) active.add(name);
    }
  }

  const needed = new Set<string>(outputs.filter((name) => active.has(name)));
  const path: onnx.INodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!(node.output ?? []).some((name) => needed.has(name))) continue;
    path.push(node);
    for (const name of nodeInputs(node)) if (active.has(name)) needed.add(name);
  }
  path.reverse();
  return { active, needed, nodes: path };
}
