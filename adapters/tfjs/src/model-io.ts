/**
 * Which model input is the latent `z` and which outputs are `x` and `logDet`: by the names given
 * or, when unambiguous, by themselves, for graph and layers models alike.
 */
import { TfjsFlowError } from './errors.js';

/** A model input or output as the adapter sees it. */
export interface ModelEndpoint {
  /** The name to run the model with: a graph node (`Identity`) or a layer name. */
  readonly name: string;
  /** The serving-signature key that also names it (`x`, `logdet`), when the model has one. */
  readonly key?: string;
  /** Shape with the batch axis first; `-1` or null where unknown. Empty when not known at all. */
  readonly shape: readonly (number | null)[];
}

/** The names the adapter resolved, with the shape of one latent row. */
export interface ModelIo {
  /** Name of the latent input. */
  readonly input: string;
  /** Name of the output `x`. */
  readonly x: string;
  /** Name of the output `logDet`. */
  readonly logDet: string;
  /** Shape of one latent row (the input without its batch axis). */
  readonly latentShape: readonly number[];
}

const LOG_DET = /log.?det|ldj|log_?abs_?det/i;

/** How an endpoint reads in a message: `x = Identity: [?, 2]`. */
export function describeEndpoint(endpoint: ModelEndpoint): string {
  const shape = endpoint.shape.map((d) => (d === null || d < 0 ? '?' : String(d))).join(', ');
  const label = endpoint.key !== undefined ? `${endpoint.key} = ${endpoint.name}` : endpoint.name;
  return endpoint.shape.length === 0 ? label : `${label}: [${shape}]`;
}

/** `[a: [?, 2], b]`, for messages. */
export function listEndpoints(endpoints: readonly ModelEndpoint[]): string {
  return `[${endpoints.map(describeEndpoint).join(', ')}]`;
}

/** Whether `name` (a tensor name `n:0`, a node name or a signature key) names `endpoint`. */
function names(endpoint: ModelEndpoint, name: string): boolean {
  const plain = name.replace(/:0$/, '');
  return endpoint.name === plain || endpoint.key === name || endpoint.key === plain;
}

/** Finds the latent input, by name or as the only one. */
export function resolveInput(
  inputs: readonly ModelEndpoint[],
  name: string | undefined,
  where: string,
): ModelEndpoint {
  if (name !== undefined) {
    const found = inputs.find((i) => names(i, name));
    if (found === undefined) {
      throw new TfjsFlowError(
        'NAME_NOT_FOUND',
        `${where}: input '${name}' not found; the model has inputs ${listEndpoints(inputs)}. ` +
          'Pass input: with one of these names.',
      );
    }
    return found;
  }
  if (inputs.length === 1) return inputs[0];
  throw new TfjsFlowError(
    'AMBIGUOUS_NAME',
    `${where}: the model has ${inputs.length} inputs ${listEndpoints(inputs)} and no input name ` +
      "was given. Pass input: '<name of the latent input>'.",
  );
}

/**
 * Finds the outputs `x` and `logDet`, by name or by themselves: `logDet` is the one output of
 * shape `[batch]` or `[batch, 1]` whose name says log-determinant (or the only such output when
 * the model has two), `x` the other one.
 */
export function resolveOutputs(
  outputs: readonly ModelEndpoint[],
  given: { readonly x?: string; readonly logDet?: string } | undefined,
  where: string,
): { x: ModelEndpoint; logDet: ModelEndpoint } {
  const find = (name: string, role: 'x' | 'logDet') => {
    const found = outputs.find((o) => names(o, name));
    if (found === undefined) {
      throw new TfjsFlowError(
        'NAME_NOT_FOUND',
        `${where}: output '${name}' not found; the model has outputs ${listEndpoints(outputs)}. ` +
          `Pass outputs: { ${role}: '<one of these names>' }.`,
      );
    }
    return found;
  };
  let x = given?.x !== undefined ? find(given.x, 'x') : undefined;
  let logDet = given?.logDet !== undefined ? find(given.logDet, 'logDet') : undefined;
  const label = (o: ModelEndpoint) => `${o.key ?? ''} ${o.name}`;
  if (logDet === undefined) {
    const perRow = (o: ModelEndpoint) =>
      o.shape.length === 0 || o.shape.length === 1 || (o.shape.length === 2 && o.shape[1] === 1);
    const candidates = outputs.filter(
      (o) => o !== x && perRow(o) && (outputs.length === 2 || LOG_DET.test(label(o))),
    );
    const named = candidates.filter((o) => LOG_DET.test(label(o)));
    logDet = named.length === 1 ? named[0] : candidates.length === 1 ? candidates[0] : undefined;
  }
  if (x === undefined) {
    const others = outputs.filter((o) => o !== logDet);
    x = others.length === 1 ? others[0] : others.find((o) => o.key === 'x' || o.name === 'x');
  }
  if (x === undefined || logDet === undefined || x === logDet) {
    throw new TfjsFlowError(
      'AMBIGUOUS_NAME',
      `${where}: cannot tell which outputs are x and logDet among ${listEndpoints(outputs)}. ` +
        "Pass outputs: { x: '<name>', logDet: '<name>' }.",
    );
  }
  return { x, logDet };
}

/**
 * Shape of one latent row: the input's shape without its batch axis, or `given` when the model
 * leaves it unknown.
 */
export function latentRowShape(
  input: ModelEndpoint,
  given: readonly number[] | undefined,
  where: string,
): number[] {
  const rest = input.shape.slice(1);
  const known = input.shape.length >= 2 && rest.every((d) => d !== null && d > 0);
  if (given !== undefined) {
    if (known && (given.length !== rest.length || given.some((d, k) => d !== rest[k]))) {
      throw new TfjsFlowError(
        'SHAPE_MISMATCH',
        `${where}: options.latentShape is [${given.join(', ')}] but the model's input is ` +
          `${describeEndpoint(input)}. Leave latentShape out or match it.`,
      );
    }
    return [...given];
  }
  if (!known) {
    throw new TfjsFlowError(
      'UNKNOWN_SHAPE',
      `${where}: the latent input is ${describeEndpoint(input)}; only ` +
        'its first (batch) axis may be unknown. Pass latentShape, e.g. latentShape: [2].',
    );
  }
  return rest as number[];
}
