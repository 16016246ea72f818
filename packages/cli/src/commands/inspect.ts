/**
 * `latent-langevin inspect <model>`: what the ONNX model takes and returns, which operators it
 * uses, whether this package's autodiff covers the differentiated path, and which execution
 * providers run it here.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type ModelValue,
  type OnnxFlow,
  decodeModel,
  listExecutionProviders,
  loadOnnxFlow,
  modelInterface,
} from '@latent-langevin/onnx';
import { CliError } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { type ModelNameOptions, flowNames, withNameHint } from '../model-names.js';
import { oneLine } from '../one-line.js';
import { type ProviderStatus, probeProvider } from '../provider-probe.js';

export type { ProviderStatus } from '../provider-probe.js';

/** Options of {@link inspectModel}. */
export interface InspectOptions extends ModelNameOptions {
  /** Try to start every provider the runtime lists (a fraction of a second each); default true. */
  readonly probe?: boolean;
  /** Print JSON instead of text. */
  readonly json?: boolean;
}

/** What `inspect` reports. */
export interface InspectReport {
  readonly model: string;
  readonly bytes: number;
  readonly opset: number;
  readonly inputs: readonly ModelValue[];
  readonly outputs: readonly ModelValue[];
  readonly operators: readonly string[];
  /** Why the sampler cannot use the model as it is, or null when it can. */
  readonly problem: string | null;
  /** The latent input and its row shape; null when the model cannot be used. */
  readonly latent: { readonly input: string; readonly shape: readonly number[] } | null;
  readonly data: { readonly output: string; readonly shape: readonly number[] } | null;
  readonly logDet: string | null;
  /** Where the sampler's gradients come from with the default `gradient: 'auto'`. */
  readonly gradientSource: OnnxFlow['gradientSource'] | null;
  /** True when autodiff has a rule for every operator on the path from `z` to the outputs. */
  readonly autodiffCoversModel: boolean | null;
  readonly unsupportedOperators: readonly string[];
  readonly executionProviders: readonly ProviderStatus[];
}

const ELEMENT_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

const shapeText = (dims: readonly (number | string | null)[]) =>
  `[${dims.map((d) => d ?? '?').join(', ')}]`;

const valueText = (v: ModelValue) =>
  `${v.name} ${ELEMENT_TYPES[v.elemType] ?? `type ${v.elemType}`} ${shapeText(v.dims)}`;

/**
 * Tries each GPU provider the runtime lists on the model, each in a child process (see
 * provider-probe.ts), all at once; `cpu` needs no try once the model has loaded.
 */
async function probeProviders(
  modelPath: string,
  options: InspectOptions,
): Promise<ProviderStatus[]> {
  return Promise.all(
    listExecutionProviders().map(async (name): Promise<ProviderStatus> => {
      if (name === 'cpu') return { name, works: true };
      if (options.probe === false || (name !== 'cuda' && name !== 'webgpu')) {
        return { name, works: null };
      }
      const status = await probeProvider(modelPath, name, flowNames(options));
      return status.works ? status : { name, works: false, reason: status.reason };
    }),
  );
}

/**
 * Reads an ONNX flow and reports its interface, operators, autodiff coverage and the execution
 * providers that run it here.
 *
 * @param path the `.onnx` file, relative to `cwd`
 * @throws CliError when the file is missing; OnnxFlowError when it is not a usable flow
 * @example
 * ```ts
 * const report = await inspectModel('model.onnx', process.cwd());
 * console.log(report.autodiffCoversModel);
 * ```
 */
export async function inspectModel(
  path: string,
  cwd: string,
  options: InspectOptions = {},
): Promise<InspectReport> {
  const bytes = await readModel(path, cwd);
  const io = modelInterface(decodeModel(bytes, 'inspect', `'${path}'`));
  const common = {
    model: path,
    bytes: bytes.length,
    opset: io.opset,
    inputs: io.inputs,
    outputs: io.outputs,
    operators: io.operators,
  };
  let flow: OnnxFlow;
  try {
    flow = await loadOnnxFlow(bytes, {
      gradient: 'auto',
      logger: { warn() {} },
      ...flowNames(options),
    });
  } catch (error) {
    const explained = withNameHint(error);
    return {
      ...common,
      problem: oneLine(explained instanceof Error ? explained.message : String(explained)),
      latent: null,
      data: null,
      logDet: null,
      gradientSource: null,
      autodiffCoversModel: null,
      unsupportedOperators: [],
      executionProviders: [],
    };
  }
  try {
    return {
      ...common,
      problem: null,
      latent: { input: flow.io.input, shape: flow.io.latentShape },
      data: { output: flow.io.x, shape: flow.dataShape },
      logDet: flow.io.logDet,
      gradientSource: flow.gradientSource,
      autodiffCoversModel: flow.unsupportedOperators.length === 0,
      unsupportedOperators: flow.unsupportedOperators,
      executionProviders: await probeProviders(resolve(cwd, path), options),
    };
  } finally {
    await flow.dispose();
  }
}

/** Why a model path cannot be read, from the error's code. */
function unreadable(path: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message;
  return new CliError(
    'MODEL_NOT_FOUND',
    `cannot read model '${path}' (${why}). Pass the path of an .onnx file, e.g. ` +
      'fixtures/two-moons-realnvp/model.onnx.',
    { cause: error },
  );
}

/**
 * Reads a model file, with a one-line error when it is missing.
 *
 * @throws CliError when the file cannot be read
 */
export async function readModel(path: string, cwd: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(resolve(cwd, path)));
  } catch (error) {
    throw unreadable(path, error);
  }
}

/**
 * Checks that a model path names a readable file, without reading it.
 *
 * @returns the absolute path
 * @throws CliError when it is missing, a directory or unreadable
 */
export async function checkModel(path: string, cwd: string): Promise<string> {
  const absolute = resolve(cwd, path);
  try {
    const info = await stat(absolute);
    if (info.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    await access(absolute, constants.R_OK);
    return absolute;
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** The report as aligned text. */
export function formatInspectReport(report: InspectReport): string {
  const providers = report.executionProviders
    .map((p) =>
      p.works === true
        ? `${p.name} (works)`
        : p.works === false
          ? `${p.name} (listed, does not start: ${p.reason})`
          : `${p.name} (listed, not tried)`,
    )
    .map((line, k) => (k === 0 ? line : `${' '.repeat(14)}${line}`))
    .join('\n');
  const autodiff = report.autodiffCoversModel
    ? 'covers every operator on the path from z to x and logDet'
    : `no rule for ${report.unsupportedOperators.join(', ')}: sampling falls back to finite ` +
      'differences (exact MALA, slower)';
  const rows: [string, string][] = [
    ['model', `${report.model} (${report.bytes} bytes, opset ${report.opset})`],
    ['inputs', report.inputs.map(valueText).join('; ')],
    ['outputs', report.outputs.map(valueText).join('; ')],
    ['operators', `${report.operators.join(', ')} (${report.operators.length})`],
  ];
  if (report.problem !== null || report.latent === null || report.data === null) {
    rows.push(['sampling', `not possible as it is: ${report.problem}`]);
  } else {
    rows.push(
      ['latent z', `${report.latent.input} ${shapeText(report.latent.shape)} per row`],
      ['data x', `${report.data.output} ${shapeText(report.data.shape)} per row`],
      ['log-det', report.logDet ?? ''],
      ['autodiff', autodiff],
      ['gradients', report.gradientSource ?? ''],
      ['providers', providers],
    );
  }
  return rows.map(([key, value]) => `${key.padEnd(14)}${value}`).join('\n') + '\n';
}

/** Runs the `inspect` command. */
export async function inspectCommand(
  model: string,
  options: InspectOptions,
  io: CliIo,
): Promise<void> {
  const report = await inspectModel(model, io.cwd ?? process.cwd(), options);
  io.stdout.write(
    options.json === true ? JSON.stringify(report, null, 2) + '\n' : formatInspectReport(report),
  );
  if (report.problem !== null) {
    throw new CliError('MODEL_NOT_USABLE', report.problem);
  }
}
