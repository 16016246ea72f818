/**
 * TensorFlow.js graph models (`tensorflowjs_converter` output, `tf.loadGraphModel`) as flows.
 */
import { InvalidArgumentError, describeValue } from '@latent-langevin/core';
import * as tf from '@tensorflow/tfjs';
import { TfjsFlowError } from './errors.js';
import { splitFusedActivations, unsupportedFusedActivations } from './fused-activations.js';
import { registerGradients } from './gradients/register-gradients.js';
import {
  type ModelEndpoint,
  type ModelIo,
  latentRowShape,
  resolveInput,
  resolveOutputs,
} from './model-io.js';
import {
  type TfjsFlow,
  type TfjsFlowOptions,
  createTfjsFlow,
  parseLogger,
  parseMaxBatch,
  parseShape,
} from './tfjs-flow.js';

/** A graph model however it was loaded: `tf.loadGraphModel()` or `tf.loadGraphModelSync()`. */
export type AnyGraphModel = tf.GraphModel<string | tf.io.IOHandler | tf.io.IOHandlerSync>;

/** Options of {@link fromGraphModel}. */
export interface GraphModelFlowOptions extends TfjsFlowOptions {
  /** Name of the latent input (node name or signature key); needed with several inputs. */
  readonly input?: string;
  /** Names of the outputs (node names or signature keys); found by themselves when unambiguous. */
  readonly outputs?: { readonly x?: string; readonly logDet?: string };
  /** Shape of one latent row, when the model leaves its input's shape unknown. */
  readonly latentShape?: readonly number[];
  /** Whether `flow.dispose()` also disposes the model; default true. */
  readonly disposeModel?: boolean;
}

/** A flow over a graph model, with what the adapter found in the graph. */
export interface GraphModelFlow extends TfjsFlow {
  readonly source: 'graph-model';
  /** The names the adapter resolved. */
  readonly io: ModelIo;
  /** Operator types of the graph, sorted, without repeats. */
  readonly operators: readonly string[];
  /**
   * Fused nodes split into the nodes they were fused from, so that tfjs runs and differentiates
   * them right on every backend (see `splitFusedActivations()`).
   */
  readonly splitActivations: readonly string[];
}

/** The parts of a graph model the adapter reads that its type declares private. */
interface GraphModelInternals {
  readonly artifacts?: tf.io.ModelArtifacts;
}

interface SignatureEntry {
  readonly name?: string;
  readonly tensorShape?: { readonly dim?: readonly { readonly size?: string | number }[] };
}

interface Signature {
  readonly inputs?: Readonly<Record<string, SignatureEntry>>;
  readonly outputs?: Readonly<Record<string, SignatureEntry>>;
}

/** Operators of tfjs-converter's control-flow category, which only `executeAsync` runs. */
const CONTROL_FLOW = new Set([
  'Enter',
  'Exit',
  'NextIteration',
  'Merge',
  'Switch',
  'LoopCond',
  'If',
  'StatelessIf',
  'While',
  'StatelessWhile',
]);

const plain = (name: string) => name.replace(/:0$/, '');

/** The model's inputs or outputs with their signature keys and shapes. */
function endpoints(
  infos: readonly { readonly name: string; readonly shape?: readonly number[] }[],
  signature: Readonly<Record<string, SignatureEntry>> | undefined,
): ModelEndpoint[] {
  return infos.map((info) => {
    const entry = Object.entries(signature ?? {}).find(
      ([, value]) => value.name !== undefined && plain(value.name) === plain(info.name),
    );
    const signatureShape = entry?.[1].tensorShape?.dim?.map((d) => Number(d.size ?? -1));
    const shape = info.shape ?? signatureShape ?? [];
    return {
      name: plain(info.name),
      ...(entry === undefined ? {} : { key: entry[0] }),
      shape: shape.map((d) => (d === null || d < 0 ? null : d)),
    };
  });
}

/** Operator types of a topology and of the functions in its library. */
function operatorsOf(topology: unknown): string[] {
  const graph = topology as {
    node?: { op?: string }[];
    library?: { function?: { nodeDef?: { op?: string }[] }[] };
  } | null;
  const ops = new Set<string>();
  for (const node of graph?.node ?? []) if (node.op) ops.add(node.op);
  for (const fn of graph?.library?.function ?? []) {
    for (const node of fn.nodeDef ?? []) if (node.op) ops.add(node.op);
  }
  return [...ops].sort();
}

/** The error for a graph that only `executeAsync` can run. */
function asyncOnly(where: string, detail: string, cause?: unknown): TfjsFlowError {
  return new TfjsFlowError(
    'ASYNC_ONLY_GRAPH',
    `${where}: the graph needs model.executeAsync() (${detail}), and tf.grad only ` +
      'differentiates what runs synchronously, so this graph has no exact gradient here. Use ' +
      'finite differences from @latent-langevin/finite-difference: finiteDifferenceFlow(async ' +
      '(z, n) => { const [x, logDet] = await model.executeAsync(...); ... }, { latentDim }), or ' +
      're-export the model without control flow on the path from z to x and logDet.',
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Turns a TensorFlow.js graph model into a `DifferentiableFlow` with exact gradients: `tf.grad`
 * through a synchronous `model.execute()`, with the gradients tfjs lacks for converter-emitted
 * kernels (`StridedSlice`, `Einsum`, `GatherNd`, ...) registered once. Fused nodes tfjs cannot
 * run right (a fused Tanh, for one) are split into nodes of their own (`splitActivations`).
 *
 * @param model a loaded `tf.GraphModel`; `z` is its input of shape `[batch, ...latentShape]`, `x`
 *   and `logDet` (`[batch]` or `[batch, 1]`) two of its outputs
 * @param options input and output names, `latentShape`, `dataShape`, `maxBatch` (default 4096),
 *   `logger`, `disposeModel` (default true)
 * @returns a {@link GraphModelFlow}; it runs on the current tfjs backend (`flow.backend`)
 * @throws TfjsFlowError `ASYNC_ONLY_GRAPH` for control flow or dynamic shapes, `NAME_NOT_FOUND` or
 *   `AMBIGUOUS_NAME` for names (listing those there are), `UNKNOWN_SHAPE`, `SHAPE_MISMATCH`,
 *   `UNSUPPORTED_MODEL`, `UNSUPPORTED_OPERATOR` for a kernel without a gradient
 * @throws InvalidArgumentError for a malformed option
 * @example
 * ```ts
 * const model = await tf.loadGraphModel('https://example.com/flow/model.json');
 * const flow = fromGraphModel(model, { outputs: { x: 'x', logDet: 'logdet' } });
 * const run = await sample(flow, { target: tempered({ beta: 1 }), chains: 256, seed: 1 });
 * ```
 */
export function fromGraphModel(
  model: AnyGraphModel,
  options: GraphModelFlowOptions = {},
): GraphModelFlow {
  const where = 'fromGraphModel()';
  if (
    model === null ||
    typeof model !== 'object' ||
    typeof (model as { execute?: unknown }).execute !== 'function' ||
    !Array.isArray((model as { inputs?: unknown }).inputs)
  ) {
    throw new InvalidArgumentError(where, [
      `model must be a loaded tf.GraphModel; received ${describeValue(model)}. Load it with ` +
        'await tf.loadGraphModel(url) (or tf.loadGraphModelSync) first.',
    ]);
  }
  const maxBatch = parseMaxBatch(where, options.maxBatch);
  const latentShapeOption = parseShape(where, 'latentShape', options.latentShape);
  const dataShapeOption = parseShape(where, 'dataShape', options.dataShape);
  const logger = parseLogger(where, options.logger);
  const registered = registerGradients();

  // Fused nodes tfjs cannot run, runs wrongly or cannot differentiate: rebuild the model with
  // them split into the nodes they were fused from.
  const artifacts = (model as unknown as GraphModelInternals).artifacts;
  const operators = operatorsOf(artifacts?.modelTopology);
  const stuck = unsupportedFusedActivations(artifacts?.modelTopology).filter((f) => !f.splittable);
  if (stuck.length > 0) {
    throw new TfjsFlowError(
      'UNSUPPORTED_OPERATOR',
      `${where}: TensorFlow.js cannot run the fused activation(s) ` +
        `${stuck.map((f) => `${f.activation} of ${f.op} node '${f.node}'`).join(', ')}. Convert ` +
        'the model with TF_ENABLE_ONEDNN_OPTS=0 so that grappler leaves the activation as a ' +
        'node of its own.',
    );
  }
  let runModel = model;
  let split: string[] = [];
  const rewritten = artifacts === undefined ? null : splitFusedActivations(artifacts);
  if (rewritten !== null && rewritten.split.length > 0) {
    if (artifacts?.weightData === undefined) {
      throw new TfjsFlowError(
        'UNSUPPORTED_OPERATOR',
        `${where}: the fused node(s) ${rewritten.split.map((n) => `'${n}'`).join(', ')} must be ` +
          `split to run right (${rewritten.reasons.join('; ')}), and the model kept no weights ` +
          'to rebuild it with. Load it with tf.loadGraphModel() or tf.loadGraphModelSync() from ' +
          'its model.json and weights, or split it yourself with splitFusedActivations().',
      );
    }
    runModel = tf.loadGraphModelSync(rewritten.artifacts);
    split = rewritten.split;
    logger?.info(
      `${where}: split ${split.length} fused node(s) into the nodes they were fused from, which ` +
        `gives the same numbers: ${rewritten.reasons.join('; ')}.`,
    );
  }
  const release = () => {
    if (runModel !== model) runModel.dispose();
    if (options.disposeModel !== false) model.dispose();
  };

  try {
    const signature = runModel.modelSignature as Signature | undefined;
    const inputs = endpoints(runModel.inputs, signature?.inputs);
    const outputs = endpoints(runModel.outputs, signature?.outputs);
    const input = resolveInput(inputs, options.input, where);
    const latentShape = latentRowShape(input, latentShapeOption, where);
    const batch = input.shape[0];
    const fixedBatch = typeof batch === 'number' && batch > 0 ? batch : null;

    // Control-flow operators of the graph, named when a run turns out to need executeAsync.
    const control = operators.filter((op) => CONTROL_FLOW.has(op));
    const explain = (error: unknown): Error | undefined => {
      const message = (error as Error)?.message ?? '';
      if (!message.includes('executeAsync')) return undefined;
      const found = /node '([^']+)', which has the dynamic op '([^']+)'/.exec(message);
      const detail =
        found === null ? message : `node '${found[1]}' is the dynamic op '${found[2]}'`;
      const listed =
        control.length === 0 ? '' : `; control flow in the graph: ${control.join(', ')}`;
      return asyncOnly(where, detail + listed, error);
    };

    // Output shapes: from the model or its signature, else from one run on zero rows.
    let known = outputs;
    if (outputs.some((o) => o.shape.length === 0)) {
      const rows = fixedBatch ?? 1;
      try {
        tf.tidy(() => {
          const z = tf.zeros([rows, ...latentShape]);
          const result = runModel.execute(
            { [input.name]: z },
            outputs.map((o) => o.name),
          );
          const tensors = Array.isArray(result) ? result : [result];
          known = outputs.map((o, k) => ({ ...o, shape: [null, ...tensors[k].shape.slice(1)] }));
        });
      } catch (error) {
        throw (
          explain(error) ??
          new TfjsFlowError(
            'RUN_FAILED',
            `${where}: the model failed on ${rows} zero row(s) of shape ` +
              `[${latentShape.join(', ')}]: ${(error as Error)?.message ?? String(error)}`,
            { cause: error },
          )
        );
      }
    }
    const { x, logDet } = resolveOutputs(known, options.outputs, where);
    const names = [x.name, logDet.name];

    const flow = createTfjsFlow({
      where,
      source: 'graph-model',
      run: (z) => {
        const result = runModel.execute({ [input.name]: z }, names) as tf.Tensor[];
        return { x: result[0], logDet: result[1] };
      },
      forwardOnly:
        `model.execute({ '${input.name}': t }, ['${x.name}', '${logDet.name}'])` +
        (runModel === model ? '' : ', on the model loaded from splitFusedActivations(artifacts)'),
      explain,
      latentShape,
      ...(dataShapeOption === undefined ? {} : { dataShape: dataShapeOption }),
      fixedBatch,
      maxBatch,
      registeredGradients: registered,
      release,
    });
    return Object.defineProperties(flow, {
      io: {
        value: { input: input.name, x: x.name, logDet: logDet.name, latentShape },
        enumerable: true,
      },
      operators: { value: operators, enumerable: true },
      splitActivations: { value: split, enumerable: true },
    }) as GraphModelFlow;
  } catch (error) {
    if (runModel !== model) runModel.dispose();
    throw error;
  }
}
