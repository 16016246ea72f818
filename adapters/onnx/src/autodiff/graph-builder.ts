/**
 * The builder that gradient rules emit nodes through: fresh unique names, cached constants and
 * shapes, rank inference of every emitted node, and the broadcast reduction shared by the rules.
 */

import { OnnxAutodiffError } from './errors.js';
import { type AttributeValue, dataTypeName, makeAttribute, makeTensor, onnx } from './proto.js';
import {
  type Dim,
  type ShapeContext,
  type TensorInfo,
  inferNode,
  isNumber,
  sameDims,
} from './rank-inference.js';

/** Emits the nodes of a gradient graph; every emitted tensor has an inferred rank and type. */
export class GradientBuilder {
  /** Emitted nodes, in a valid topological order after the forward nodes. */
  readonly nodes: onnx.NodeProto[] = [];
  /** Emitted constants, as initializers. */
  readonly initializers: onnx.TensorProto[] = [];
  private readonly names: Set<string>;
  private readonly constants = new Map<string, string>();
  private readonly shapes = new Map<string, string>();
  private counter = 0;

  /**
   * @param ctx - the rank inference of the forward graph, extended with every emitted tensor.
   * @param taken - every name the model already uses (tensors and nodes).
   * @param prefix - prefix of emitted names.
   */
  constructor(
    readonly ctx: ShapeContext,
    taken: Iterable<string>,
    private readonly prefix = 'vjp/',
  ) {
    this.names = new Set(taken);
  }

  /** A name no tensor or node of the model has, e.g. `vjp/Mul_12`. */
  fresh(hint: string): string {
    let name: string;
    do {
      this.counter += 1;
      name = `${this.prefix}${hint}_${this.counter}`;
    } while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** Reserves a caller-chosen name; false when the model already uses it. */
  reserve(name: string): boolean {
    if (this.names.has(name)) return false;
    this.names.add(name);
    return true;
  }

  /** The info of a tensor. */
  info(name: string): TensorInfo {
    return this.ctx.info(name) ?? { dtype: null, dims: null };
  }

  /**
   * Dimensions of a tensor.
   *
   * @throws {OnnxAutodiffError} `RANK_INFERENCE` when its rank is unknown.
   */
  dims(name: string): readonly Dim[] {
    const dims = this.info(name).dims;
    if (!dims) {
      throw new OnnxAutodiffError(
        'RANK_INFERENCE',
        `buildVjpModel(): the rank of tensor '${name}' could not be inferred, and a gradient ` +
          'rule needs it. Add value_info with its shape to the model (onnx.shape_inference), ' +
          'or re-export it with static ranks.',
      );
    }
    return dims;
  }

  /** Rank of a tensor; throws `RANK_INFERENCE` when unknown. */
  rank(name: string): number {
    return this.dims(name).length;
  }

  /** Element type of a tensor; throws `RANK_INFERENCE` when unknown. */
  dtype(name: string): number {
    const dtype = this.info(name).dtype;
    if (dtype === null) {
      throw new OnnxAutodiffError(
        'RANK_INFERENCE',
        `buildVjpModel(): the element type of tensor '${name}' could not be inferred, and a ` +
          'gradient rule needs it. Add value_info for it to the model (onnx.shape_inference).',
      );
    }
    return dtype;
  }

  /** Emits a node with several outputs and returns their names. */
  ops(
    opType: string,
    inputs: readonly string[],
    outputs: number,
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType));
    this.emit(opType, inputs, names, attributes);
    return names;
  }

  /** Emits a node whose output names the caller chose (and reserved). */
  emit(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): void {
    const node = onnx.NodeProto.create({
      name: this.fresh(`${opType}_node`),
      opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([key, value]) => makeAttribute(key, value)),
    });
    this.nodes.push(node);
    inferNode(node, this.ctx);
  }

  /** Emits a node with one output and returns its name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string {
    return this.ops(opType, inputs, 1, attributes)[0];
  }

  /** A constant tensor (an initializer), shared by every use of the same values. */
  constant(values: readonly number[], dtype: number, dims: readonly number[]): string {
    const key = `${dtype}|${dims.join(',')}|${values.join(',')}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const name = this.fresh('const');
    this.initializers.push(makeTensor(values, dtype, dims, name));
    this.ctx.setTensor(name, { dtype, dims }, values);
    this.constants.set(key, name);
    return name;
  }

  /** A 1-D int64 constant. */
  int64(values: readonly number[]): string {
    return this.constant(values, onnx.TensorProto.DataType.INT64, [values.length]);
  }

  /** A scalar (rank 0) constant of the element type of `like`. */
  scalar(value: number, like: string): string {
    return this.constant([value], this.floatType(like), []);
  }

  /** Element type of a tensor that must be floating point, for constants mixed with it. */
  private floatType(name: string): number {
    const dtype = this.dtype(name);
    const DataType = onnx.TensorProto.DataType;
    if (![DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16].includes(dtype)) {
      throw new OnnxAutodiffError(
        'INVALID_MODEL',
        `buildVjpModel(): tensor '${name}' carries a gradient but has element type ` +
          `${dataTypeName(dtype)}; only floating-point tensors can.`,
      );
    }
    return dtype;
  }

  /** The run-time shape of a tensor (a 1-D int64 tensor), emitted once per tensor. */
  shapeOf(name: string): string {
    let shape = this.shapes.get(name);
    if (!shape) {
      shape = this.op('Shape', [name]);
      this.shapes.set(name, shape);
    }
    return shape;
  }

  /** The run-time sizes of axes `[from, to)` of a tensor, a 1-D int64 tensor. */
  dimsOf(name: string, from: number, to: number): string {
    return this.op('Slice', [this.shapeOf(name), this.int64([from]), this.int64([to])]);
  }

  /** Zeros with the shape and element type of a tensor. */
  zerosLike(name: string): string {
    const value = makeTensor([0], this.floatType(name), [1]);
    return this.op('ConstantOfShape', [this.shapeOf(name)], { value });
  }

  /** Casts an integer or boolean tensor to the floating-point type of `like`. */
  castLike(name: string, like: string): string {
    return this.op('Cast', [name], { to: this.floatType(like) });
  }

  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }

  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }

  neg(a: string): string {
    return this.op('Neg', [a]);
  }

  /** Sum of gradient contributions to one tensor (a single one is returned as is). */
  sum(terms: readonly string[]): string {
    if (terms.length === 1) return terms[0];
    return this.op('Sum', terms);
  }

  /**
   * Reduces a gradient that has the broadcast shape of an operation back to the shape of one of
   * its inputs: sums over the leading axes the input lacks and over the axes where the input
   * has size 1 and the gradient does not.
   *
   * Where the dims tell statically which axes to sum (equal symbols are equal sizes; a number
   * above 1 in the input means no broadcast on that axis), the axes are a constant; otherwise they
   * are computed at run time: `Compress(iota, Not(Equal(padded Shape(target), Shape(grad))))`, fed
   * to `ReduceSum(keepdims=1, noop_with_empty_axes=1)`. The leading axes, size 1 afterwards, are
   * then squeezed away.
   *
   * @param grad - the gradient, shaped like the broadcast result.
   * @param target - the input whose shape the result must have.
   * @returns a tensor with the run-time shape of `target`.
   * @throws {OnnxAutodiffError} `RANK_INFERENCE` when a rank is unknown, `INTERNAL` when
   * `target` has a higher rank than `grad` (a bug in the calling rule).
   */
  reduceTo(grad: string, target: string): string {
    const g = this.dims(grad);
    const t = this.dims(target);
    if (sameDims(g, t)) return grad;
    if (t.length > g.length) {
      throw new OnnxAutodiffError(
        'INTERNAL',
        `buildVjpModel(): a gradient rule asked to reduce '${grad}' (rank ${g.length}) to the ` +
          `shape of '${target}' (rank ${t.length}), of higher rank; a broadcast result never ` +
          'has a lower rank than its inputs, so this is a bug in the rule. Report it with the ' +
          "model, and pass gradient: 'finite-difference' meanwhile.",
      );
    }
    if (t.length === 0) return this.op('ReduceSum', [grad], { keepdims: 0 });

    const lead = g.length - t.length;
    const axes: number[] = [];
    let dynamic = false;
    g.forEach((dim, i) => {
      if (i < lead) {
        if (dim !== 1) axes.push(i);
        return;
      }
      const wanted = t[i - lead];
      if (wanted === dim || (isNumber(wanted) && wanted !== 1)) return;
      if (wanted === 1) axes.push(i);
      else dynamic = true;
    });

    let reduced = grad;
    if (dynamic) {
      const shape = this.shapeOf(target);
      const padded =
        lead > 0
          ? this.op('Concat', [this.int64(new Array<number>(lead).fill(1)), shape], { axis: 0 })
          : shape;
      const differs = this.op('Not', [this.op('Equal', [padded, this.shapeOf(grad)])]);
      const iota = this.int64(g.map((_, i) => i));
      const dynamicAxes = this.op('Compress', [iota, differs], { axis: 0 });
      reduced = this.op('ReduceSum', [grad, dynamicAxes], { keepdims: 1, noop_with_empty_axes: 1 });
    } else if (axes.length > 0) {
      reduced = this.op('ReduceSum', [grad, this.int64(axes)], { keepdims: 1 });
    }
    if (lead > 0) {
      reduced = this.op('Squeeze', [
        reduced,
        this.int64(Array.from({ length: lead }, (_, i) => i)),
      ]);
    }
    if (reduced !== grad) this.ctx.infos.set(reduced, { dtype: this.info(grad).dtype, dims: t });
    return reduced;
  }
}
