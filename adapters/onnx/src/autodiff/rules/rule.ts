/**
 * The contract of a gradient rule: one function per operator, given the node, the builder and
 * the cotangents of the node's outputs, returning the cotangents of its inputs.
 */

import type { GradientBuilder } from '../graph-builder.js';
import { type onnx, attrFloat, attrInt, attrInts, attrString } from '../proto.js';
import type { ShapeContext } from '../rank-inference.js';

/** A node as a rule sees it: inputs, outputs, attributes, and which inputs need gradients. */
export class NodeView {
  /**
   * @param proto - the node.
   * @param active - whether a tensor depends differentiably on the differentiated input.
   * @param opset - the model's default-domain opset.
   */
  constructor(
    readonly proto: onnx.INodeProto,
    private readonly active: (name: string) => boolean,
    readonly opset: number,
  ) {}

  get opType(): string {
    return this.proto.opType ?? '';
  }

  /** A readable name for messages: the node name, or its first output. */
  get label(): string {
    return this.proto.name || this.proto.output?.[0] || this.opType;
  }

  /** Number of input slots, including empty optional ones. */
  get inputCount(): number {
    return (this.proto.input ?? []).length;
  }

  /** Number of outputs. */
  get outputCount(): number {
    return (this.proto.output ?? []).length;
  }

  /** Name of input `i`, `''` when absent (optional input left out). */
  input(i: number): string {
    return this.proto.input?.[i] ?? '';
  }

  /** Name of output `i`, `''` when absent. */
  output(i: number): string {
    return this.proto.output?.[i] ?? '';
  }

  /** Whether input `i` is given. */
  has(i: number): boolean {
    return this.input(i) !== '';
  }

  /** Whether input `i` depends differentiably on the differentiated input, so needs a cotangent. */
  needs(i: number): boolean {
    return this.has(i) && this.active(this.input(i));
  }

  int(name: string, fallback: number): number {
    return attrInt(this.proto, name, fallback);
  }

  float(name: string, fallback: number): number {
    return attrFloat(this.proto, name, fallback);
  }

  ints(name: string): number[] | null {
    return attrInts(this.proto, name);
  }

  string(name: string, fallback: string): string {
    return attrString(this.proto, name, fallback);
  }
}

/**
 * A gradient rule: from the cotangents of a node's outputs (`null` for an output that gets none),
 * emits the nodes that compute the cotangents of its inputs and returns their names, `null` for
 * an input that needs none. A rule must return a cotangent for every input where `node.needs(i)`.
 */
export type GradientRule = (
  node: NodeView,
  b: GradientBuilder,
  dy: readonly (string | null)[],
) => readonly (string | null)[];

/** Returns why a rule cannot differentiate this node (attribute or input not handled), or null. */
export type RuleCheck = (node: NodeView, ctx: ShapeContext) => string | null;

/** One entry of the rule table. */
export type OperatorRule =
  | { readonly vjp: GradientRule; readonly check?: RuleCheck }
  /** Outputs carry no gradient (integer or boolean results, or piecewise constant functions). */
  | { readonly nonDifferentiable: true };

/** Refuses gradients with respect to inputs a rule does not differentiate. */
export function onlyInputs(...allowed: number[]): (node: NodeView) => string | null {
  return (node: NodeView): string | null => {
    const refused = Array.from({ length: node.inputCount }, (_, i) => i).filter(
      (i) => node.needs(i) && !allowed.includes(i),
    );
    const named = refused.map((i) => `${i} ('${node.input(i)}')`);
    return named.length > 0 ? `no gradient with respect to input ${named.join(', ')}` : null;
  };
}
