/**
 * Reverse-mode automatic differentiation of ONNX graphs, emitted as ONNX: `buildVjpModel` turns a
 * model into one that also returns the vector-Jacobian product of chosen outputs with respect to
 * one input, using standard operators only, so the gradient runs on any execution provider.
 */

import { OnnxAutodiffError, type UnsupportedOperator } from './errors.js';
import { GradientBuilder } from './graph-builder.js';
import { analysePath, type DifferentiationPath } from './path.js';
import { dataTypeName, isFloatType, onnx, toNumber } from './proto.js';
import { type ShapeContext, type TensorInfo, inferGraph } from './rank-inference.js';
import { NodeView } from './rules/rule.js';
import { ruleFor, ruleTable } from './rules/table.js';

/** The lowest default-domain opset the autodiff accepts (axes of ReduceSum became an input). */
export const MIN_OPSET = 13;

/** Options of {@link buildVjpModel}. */
export interface VjpOptions {
  /** The graph input to differentiate with respect to, e.g. `z` of shape `[batch, d]`. */
  readonly input: string;
  /** The graph outputs to differentiate, e.g. `['x', 'logdet']`; at least one, no repeats. */
  readonly outputs: readonly string[];
  /**
   * Names of the added cotangent inputs, keyed by output; an output left out gets
   * `cotangent_<output>`, e.g. `cotangent_x`.
   */
  readonly cotangentNames?: Readonly<Record<string, string>>;
  /** Name of the added output holding the VJP; default `vjp_<input>`, e.g. `vjp_z`. */
  readonly gradientName?: string;
}

/**
 * Every operator type (default ONNX domain) the autodiff handles, sorted: those with a gradient
 * rule and those whose outputs carry no gradient (Shape, Equal, Floor...).
 *
 * @example
 * supportedOperators.includes('Conv'); // true
 */
export const supportedOperators: readonly string[] = Object.keys(ruleTable).sort();

/** The default-domain opset of a model. */
function opsetOf(model: onnx.IModelProto, where: string): number {
  const entry = (model.opsetImport ?? []).find((item) => !item.domain || item.domain === 'ai.onnx');
  const version = entry ? toNumber(entry.version) : 0;
  if (version < MIN_OPSET) {
    throw new OnnxAutodiffError(
      'UNSUPPORTED_OPSET',
      `${where}: the model imports default-domain opset ${entry ? version : '(none)'}, expected ` +
        `${MIN_OPSET} or above. Re-export it at opset ${MIN_OPSET}+ (torch.onnx.export(..., ` +
        `opset_version=17)) or convert it with onnx.version_converter.`,
    );
  }
  return version;
}

/** What both public functions need: validated names, inference and the differentiated path. */
interface Analysis {
  readonly graph: onnx.IGraphProto;
  readonly opset: number;
  readonly ctx: ShapeContext;
  readonly path: DifferentiationPath;
}

function analyse(
  model: onnx.IModelProto,
  input: string,
  outputs: readonly string[],
  where: string,
): Analysis {
  const graph = model.graph;
  if (!graph) throw new OnnxAutodiffError('INVALID_MODEL', `${where}: the model has no graph.`);
  const opset = opsetOf(model, where);
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  const inputs = (graph.input ?? []).map((value) => value.name ?? '');
  const free = inputs.filter((name) => !initializers.has(name));
  if (typeof input !== 'string' || !free.includes(input)) {
    throw new OnnxAutodiffError(
      'INVALID_ARGUMENT',
      `${where}: input ${JSON.stringify(input)} is not an input of the graph; its inputs are ` +
        `[${free.join(', ')}]. Pass one of them as input.`,
    );
  }
  const graphOutputs = (graph.output ?? []).map((value) => value.name ?? '');
  if (!Array.isArray(outputs) || outputs.length === 0) {
    throw new OnnxAutodiffError(
      'INVALID_ARGUMENT',
      `${where}: outputs must list at least one of the graph outputs [${graphOutputs.join(', ')}].`,
    );
  }
  const missing = outputs.filter((name) => !graphOutputs.includes(name));
  if (missing.length > 0) {
    throw new OnnxAutodiffError(
      'INVALID_ARGUMENT',
      `${where}: outputs [${missing.join(', ')}] are not outputs of the graph; its outputs are ` +
        `[${graphOutputs.join(', ')}].`,
    );
  }
  if (new Set(outputs).size !== outputs.length) {
    throw new OnnxAutodiffError(
      'INVALID_ARGUMENT',
      `${where}: outputs [${outputs.join(', ')}] name an output twice; list each once.`,
    );
  }
  const ctx = inferGraph(graph, opset);
  const path = analysePath(graph, ctx, input, outputs, (node) => {
    const rule = ruleFor(node.opType ?? '', node.domain ?? '');
    return rule !== undefined && 'nonDifferentiable' in rule;
  });
  return { graph, opset, ctx, path };
}

/** The operator type of a node, prefixed with its domain when not the default one. */
function qualifiedType(node: onnx.INodeProto): string {
  const domain = node.domain ?? '';
  return domain && domain !== 'ai.onnx' ? `${domain}.${node.opType}` : `${node.opType}`;
}

/**
 * The error of a rule that failed on one node (a rank it needs is unknown, say), with that
 * operator in `operators`, so that a caller falling back to finite differences can name it.
 */
function ruleFailure(error: unknown, node: onnx.INodeProto, view: NodeView, where: string) {
  if (!(error instanceof OnnxAutodiffError) || error.operators.length > 0) return error;
  const detail = error.message.startsWith(`${where}: `)
    ? error.message.slice(where.length + 2)
    : error.message;
  const reason = detail.split(/[.;] /)[0].replace(/\.$/, '');
  return new OnnxAutodiffError(
    error.code,
    `${where}: the ${view.opType} rule failed at node '${view.label}': ${detail}`,
    { cause: error, operators: [{ opType: qualifiedType(node), nodes: [view.label], reason }] },
  );
}

/** The reason given for an operator without any rule. */
const NO_RULE = 'no gradient rule';

/** The operators on the path without a usable rule, grouped by operator type and reason. */
function collectUnsupported({ opset, ctx, path }: Analysis): UnsupportedOperator[] {
  const found = new Map<string, { opType: string; nodes: string[]; reason: string }>();
  for (const node of path.nodes) {
    const domain = node.domain ?? '';
    const opType = qualifiedType(node);
    const view = new NodeView(node, (name) => path.active.has(name), opset);
    const rule = ruleFor(node.opType ?? '', domain);
    let reason: string | null;
    if (!rule || 'nonDifferentiable' in rule) reason = NO_RULE;
    else reason = rule.check ? rule.check(view, ctx) : null;
    if (reason === null) continue;
    const key = `${opType}\u0000${reason}`;
    const entry = found.get(key) ?? { opType, nodes: [], reason };
    entry.nodes.push(view.label);
    found.set(key, entry);
  }
  return [...found.values()];
}

/** One line per unsupported operator, for error messages. */
function describeUnsupported(operators: readonly UnsupportedOperator[]): string {
  return operators
    .map((op) => {
      const shown = op.nodes.slice(0, 3).join(', ') + (op.nodes.length > 3 ? ', ...' : '');
      return `\n  - ${op.opType}: ${op.reason} (${op.nodes.length} node(s): ${shown})`;
    })
    .join('');
}

/**
 * Lists the operators on the path from `input` to `outputs` that the autodiff cannot
 * differentiate, without building anything; empty exactly when {@link buildVjpModel} will not
 * throw `UNSUPPORTED_OPERATOR`.
 *
 * An operator with no rule is listed by its type (`Einsum`, `com.microsoft.FusedMatMul`); one
 * whose rule refuses this use is listed with the reason, e.g. `Pad (mode 'reflect' ...)`. The
 * `operators` of the error thrown by {@link buildVjpModel} hold the same in structured form.
 *
 * @param model - a decoded ONNX model (`onnx.ModelProto.decode(bytes)`), opset 13 or above.
 * @param input - the graph input to differentiate with respect to.
 * @param outputs - the graph outputs to differentiate.
 * @returns one entry per operator type and reason, in graph order.
 * @throws {OnnxAutodiffError} `INVALID_ARGUMENT` for unknown names, `UNSUPPORTED_OPSET` below
 * opset 13, `INVALID_MODEL` for graphs not topologically sorted.
 * @example
 * const missing = unsupportedOperators(model, 'z', ['x', 'logdet']);
 * if (missing.length > 0) logger.warn(`finite differences: no rule for ${missing.join(', ')}`);
 */
export function unsupportedOperators(
  model: onnx.IModelProto,
  input: string,
  outputs: readonly string[],
): string[] {
  const found = collectUnsupported(analyse(model, input, outputs, 'unsupportedOperators()'));
  return found.map(formatUnsupported);
}

/**
 * One entry of {@link unsupportedOperators}' list: the operator type alone when it has no rule,
 * else the type with the reason, e.g. `Pad (mode 'reflect' ...)`.
 *
 * @internal shared with the flow, which lists the operators of a caught error the same way
 */
export function formatUnsupported(op: UnsupportedOperator): string {
  return op.reason === NO_RULE ? op.opType : `${op.opType} (${op.reason})`;
}

/** A value info with the given name and type. */
function valueInfo(name: string, type: onnx.ITypeProto): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.decode(onnx.TypeProto.encode(type).finish()),
  });
}

/** A tensor type built from inferred info, unknown dims as `dim_param`s. */
function typeFromInfo(info: TensorInfo, name: string): onnx.ITypeProto {
  return {
    tensorType: {
      elemType: info.dtype ?? 0,
      shape: info.dims
        ? {
            dim: info.dims.map((dim, i) =>
              typeof dim === 'number' ? { dimValue: dim } : { dimParam: `${name}_dim${i}` },
            ),
          }
        : null,
    },
  };
}

/**
 * Builds a model that returns, besides the original outputs, the vector-Jacobian product of
 * the chosen outputs with respect to one input, `sum over o of J_o(input)^T cotangent_o`.
 *
 * The new model takes the original inputs plus one cotangent per differentiated output (same
 * element type and shape as that output), and returns the original outputs plus the VJP (same
 * element type and shape as the input). It uses standard operators at the model's own opset
 * (13 or above). Nodes off the path from the input to the outputs are kept as they are.
 *
 * @param model - a decoded ONNX model (`onnx.ModelProto.decode(bytes)`); it is not modified.
 * @param options - `input` (e.g. `'z'`, `[batch, d]`), `outputs` (e.g. `['x', 'logdet']`), and
 * optional `cotangentNames` (default `cotangent_<output>`) and `gradientName` (default
 * `vjp_<input>`).
 * @returns a new model; serialise it with `onnx.ModelProto.encode(m).finish()`.
 * @throws {OnnxAutodiffError} `UNSUPPORTED_OPERATOR` naming every operator on the path without a
 * rule (fall back to finite differences), `UNSUPPORTED_OPSET` below opset 13, `INVALID_ARGUMENT`
 * for unknown or colliding names or non-float tensors, `RANK_INFERENCE` when a rule needs a rank
 * that cannot be inferred (with that operator in `operators`), `INVALID_MODEL` for graphs not
 * topologically sorted, `INTERNAL` for a bug of a rule.
 * @example
 * const model = onnx.ModelProto.decode(await readFile('flow.onnx'));
 * const vjp = buildVjpModel(model, { input: 'z', outputs: ['x', 'logdet'] });
 * const session = await ort.InferenceSession.create(onnx.ModelProto.encode(vjp).finish());
 * // feeds: z, cotangent_x, cotangent_logdet; fetches: x, logdet, vjp_z
 */
export function buildVjpModel(model: onnx.IModelProto, options: VjpOptions): onnx.ModelProto {
  const where = 'buildVjpModel()';
  const { input, outputs } = options ?? ({} as VjpOptions);
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const analysis = analyse(copy, input, outputs, where);
  const { graph, opset, ctx, path } = analysis;

  const unsupported = collectUnsupported(analysis);
  if (unsupported.length > 0) {
    throw new OnnxAutodiffError(
      'UNSUPPORTED_OPERATOR',
      `${where}: cannot differentiate [${outputs.join(', ')}] with respect to '${input}'; ` +
        `operators on the path have no usable gradient rule:${describeUnsupported(unsupported)}` +
        '\nFall back to finite differences, or re-export the model without these operators.',
      { operators: unsupported },
    );
  }
  for (const name of [input, ...outputs]) {
    const dtype = ctx.info(name)?.dtype ?? null;
    if (dtype !== null && !isFloatType(dtype)) {
      throw new OnnxAutodiffError(
        'INVALID_ARGUMENT',
        `${where}: '${name}' has element type ${dataTypeName(dtype)}; only floating-point ` +
          'tensors (FLOAT, DOUBLE, FLOAT16, BFLOAT16) can be differentiated.',
      );
    }
  }

  // Names: every tensor and node name of the model is taken.
  const taken = new Set<string>();
  for (const value of [
    ...(graph.input ?? []),
    ...(graph.output ?? []),
    ...(graph.valueInfo ?? []),
  ]) {
    taken.add(value.name ?? '');
  }
  for (const tensor of graph.initializer ?? []) taken.add(tensor.name ?? '');
  for (const node of graph.node ?? []) {
    taken.add(node.name ?? '');
    for (const name of [...(node.input ?? []), ...(node.output ?? [])]) taken.add(name);
  }
  const builder = new GradientBuilder(ctx, taken);
  const claim = (name: string, what: string, option: string): string => {
    if (typeof name !== 'string' || name === '' || !builder.reserve(name)) {
      throw new OnnxAutodiffError(
        'INVALID_ARGUMENT',
        `${where}: the ${what} name ${JSON.stringify(name)} is empty or already used in the ` +
          `model (or by another added tensor). Pass another one as ${option}.`,
      );
    }
    return name;
  };
  const cotangents = outputs.map((output) =>
    claim(
      options.cotangentNames?.[output] ?? `cotangent_${output}`,
      `cotangent of '${output}'`,
      `cotangentNames['${output}']`,
    ),
  );
  const gradientName = claim(options.gradientName ?? `vjp_${input}`, 'VJP output', 'gradientName');

  // Seed the cotangents, then run the rules over the path in reverse order.
  const contributions = new Map<string, string[]>();
  const contribute = (name: string, cotangent: string): void => {
    const list = contributions.get(name) ?? [];
    list.push(cotangent);
    contributions.set(name, list);
  };
  outputs.forEach((output, i) => {
    ctx.infos.set(cotangents[i], ctx.info(output) ?? { dtype: null, dims: null });
    if (path.needed.has(output)) contribute(output, cotangents[i]);
  });
  const total = (name: string): string | null => {
    const terms = contributions.get(name);
    if (!terms) return null;
    const sum = builder.sum(terms);
    const info = ctx.info(name);
    // A cotangent has the shape of its tensor: give it the tensor's dims (and symbols).
    if (info?.dims)
      ctx.infos.set(sum, { dtype: ctx.info(sum)?.dtype ?? info.dtype, dims: info.dims });
    return sum;
  };
  for (let n = path.nodes.length - 1; n >= 0; n--) {
    const node = path.nodes[n];
    const dy = (node.output ?? []).map((name) => (name ? total(name) : null));
    if (dy.every((cotangent) => cotangent === null)) continue;
    const view = new NodeView(node, (name) => path.active.has(name), opset);
    const rule = ruleFor(node.opType ?? '', node.domain ?? '');
    if (!rule || 'nonDifferentiable' in rule) continue;
    let dx: readonly (string | null)[];
    try {
      dx = rule.vjp(view, builder, dy);
    } catch (error) {
      throw ruleFailure(error, node, view, where);
    }
    for (let i = 0; i < view.inputCount; i++) {
      if (!view.needs(i)) continue;
      const cotangent = dx[i];
      if (!cotangent) {
        const reason = `its rule returned no gradient for input ${i}`;
        throw new OnnxAutodiffError(
          'INTERNAL',
          `${where}: the ${view.opType} rule returned no cotangent for input ${i} of node ` +
            `'${view.label}'; this is a bug in the rule. Report it with the model, and pass ` +
            "gradient: 'finite-difference' meanwhile.",
          { operators: [{ opType: qualifiedType(node), nodes: [view.label], reason }] },
        );
      }
      contribute(view.input(i), cotangent);
    }
  }
  const gradient = total(input) ?? builder.zerosLike(input);
  builder.emit('Identity', [gradient], [gradientName]);

  // Assemble: cotangent inputs, VJP output, gradient nodes and their constants.
  outputs.forEach((output, i) => {
    const declared = graph.output?.find((value) => value.name === output)?.type;
    const type = declared?.tensorType?.shape
      ? declared
      : typeFromInfo(ctx.info(output)!, cotangents[i]);
    graph.input = [...(graph.input ?? []), valueInfo(cotangents[i], type)];
  });
  const inputType = graph.input?.find((value) => value.name === input)?.type ?? {};
  graph.output = [...(graph.output ?? []), valueInfo(gradientName, inputType)];
  graph.node = [...(graph.node ?? []), ...builder.nodes];
  graph.initializer = [...(graph.initializer ?? []), ...builder.initializers];
  return copy;
}
