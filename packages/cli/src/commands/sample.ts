/**
 * `latent-langevin sample <model>`: latent MALA on an ONNX flow, with progress on standard
 * error, the run written as JSON, `.npz` or `.npy`, an optional plot against naive draws, and
 * the summary on standard output.
 */
import { basename } from 'node:path';
import {
  LatentLangevinError,
  type PreconditionerOption,
  type SampleResult,
  SamplingAbortedError,
  naive,
  sample,
  summarize,
} from '@latent-langevin/core';
import { type NodeExecutionProvider, OnnxFlowError, loadOnnxFlow } from '@latent-langevin/onnx';
import { CliError, EXIT_INTERRUPTED, usageError } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { type ModelNameOptions, flowNames, withNameHint } from '../model-names.js';
import { oneLine } from '../one-line.js';
import { plotKind, plotRun } from '../plot.js';
import { createProgress } from '../progress.js';
import { type ResumeFile, readResumeFile } from '../resume-file.js';
import {
  type PlannedOutput,
  planOutput,
  runArrays,
  runJson,
  runNumpy,
  writeOutput,
} from '../run-files.js';
import { createTarget, parseTargetSpec } from '../target-spec.js';
import { probeProvider, providerFailure } from '../provider-probe.js';
import { checkModel } from './inspect.js';

/** Options of `sample` as commander hands them over: strings, checked here. */
export interface SampleCommandOptions extends ModelNameOptions {
  readonly target: string;
  readonly chains: string;
  readonly warmup: string;
  readonly draws: string;
  readonly seed: string;
  readonly preconditioner: string;
  readonly global: string;
  readonly kernel: string;
  readonly stepSize?: string;
  readonly executionProvider: string;
  readonly gradient: string;
  readonly naive?: string;
  readonly out: readonly string[];
  readonly plot?: string;
  readonly progress: boolean;
  readonly resume?: string;
}

/** Parses a whole number option, with a usage error that shows an example. */
export function parseInteger(flag: string, value: string, min: number, example: number): number {
  const parsed = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw usageError(
      `${flag} must be a whole number >= ${min}; received '${value}'. ` +
        `Pass e.g. ${flag} ${example}.`,
    );
  }
  return parsed;
}

/** Parses a number option in `[min, max)` (or `(0, inf)` for a positive one). */
export function parseNumber(
  flag: string,
  value: string,
  check: (x: number) => boolean,
  expected: string,
  example: string,
): number {
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(parsed) || !check(parsed)) {
    throw usageError(
      `${flag} must be ${expected}; received '${value}'. Pass e.g. ${flag} ${example}.`,
    );
  }
  return parsed;
}

/** Options checked and converted, ready for `sample()`. */
interface CheckedOptions {
  readonly chains: number;
  readonly warmup: number;
  readonly draws: number;
  readonly seed: number;
  readonly preconditioner: PreconditionerOption;
  readonly globalMoveProbability: number;
  readonly kernel: 'mala' | 'rwm';
  readonly stepSize: number | undefined;
  readonly executionProvider: NodeExecutionProvider;
  readonly gradient: 'auto' | 'autodiff' | 'finite-difference';
  readonly naiveCount: number;
}

function checkOptions(options: SampleCommandOptions, drawOffset = 0): CheckedOptions {
  const chains = parseInteger('--chains', options.chains, 1, 4);
  const draws = parseInteger('--draws', options.draws, 1, 1000);
  return {
    chains,
    warmup: parseInteger('--warmup', options.warmup, 0, 500),
    draws,
    seed: parseInteger('--seed', options.seed, 0, 42),
    preconditioner: options.preconditioner as PreconditionerOption,
    globalMoveProbability: parseNumber(
      '--global',
      options.global,
      (p) => p >= 0 && p < 1,
      'a probability in [0, 1)',
      '0.1',
    ),
    kernel: options.kernel as 'mala' | 'rwm',
    stepSize:
      options.stepSize === undefined
        ? undefined
        : parseNumber('--step-size', options.stepSize, (h) => h > 0, 'a number > 0', '0.1'),
    executionProvider: options.executionProvider as NodeExecutionProvider,
    gradient: options.gradient as CheckedOptions['gradient'],
    naiveCount:
      options.naive === undefined
        ? chains * Math.max(1, draws - drawOffset)
        : parseInteger('--naive', options.naive, 1, 4000),
  };
}

/** Options a checkpoint binds: they must equal the saved run's, as `--flag`s for messages. */
const BOUND_OPTIONS = [
  ['chains', '--chains'],
  ['warmup', '--warmup'],
  ['seed', '--seed'],
  ['preconditioner', '--preconditioner'],
  ['globalMoveProbability', '--global'],
  ['kernel', '--kernel'],
] as const;

/**
 * The options of a resumed run: those recorded in the run file, except where given again on
 * the command line. Flags given again must agree with the saved run where the checkpoint binds
 * them, and `--draws` must exceed the draws the file already holds.
 *
 * @throws CliError (usage) naming every flag that differs, with the saved value to pass
 */
function resumedOptions(
  options: SampleCommandOptions,
  resume: ResumeFile,
  explicit: ReadonlySet<string>,
): { options: SampleCommandOptions; checked: CheckedOptions } {
  const recorded = Object.fromEntries(
    Object.entries(resume.options).filter(([key]) => !explicit.has(key)),
  );
  const merged = { ...options, ...recorded } as SampleCommandOptions;
  const checked = checkOptions(merged, resume.drawOffset);
  const saved = checkOptions({ ...options, ...resume.options } as SampleCommandOptions);

  const differing = BOUND_OPTIONS.filter(([key]) => checked[key] !== saved[key]).map(
    ([key, flag]) => `${flag} ${String(checked[key])} (the saved run has ${flag} ${saved[key]})`,
  );
  if (differing.length > 0) {
    throw usageError(
      `--resume ${resume.given}: ${differing.join(', ')}; a resumed run keeps the options it ` +
        'was started with. Drop these flags or pass the saved values.',
    );
  }
  if (checked.draws <= resume.drawOffset) {
    throw usageError(
      `--resume ${resume.given}: the run already holds ${resume.drawOffset} draws per chain ` +
        `and --draws is ${checked.draws}. Pass a larger total, e.g. --draws ` +
        `${2 * resume.drawOffset}, to extend it.`,
    );
  }
  return { options: merged, checked };
}

/**
 * Runs the `sample` command: checks every option and output path, loads the model and the
 * target, draws naive samples, runs latent MALA with progress, writes the files and prints the
 * summary. With `--resume` it continues the run of a run file, and the outputs hold the new
 * draws only; on an interrupt, `--out` JSON files receive the partial run and its checkpoint.
 *
 * @param explicit commander's keys of the options given on the command line (not defaults);
 *   with `--resume`, the others are taken from the run file
 * @throws CliError for bad options, paths, run files or target modules, and on an interrupt;
 *   the library's errors otherwise
 */
export async function sampleCommand(
  model: string,
  given: SampleCommandOptions,
  io: CliIo,
  explicit: ReadonlySet<string> = new Set(),
): Promise<void> {
  const cwd = io.cwd ?? process.cwd();
  const resume = given.resume === undefined ? null : await readResumeFile(given.resume, cwd);
  const { options, checked } =
    resume === null
      ? { options: given, checked: checkOptions(given) }
      : resumedOptions(given, resume, explicit);
  const spec = parseTargetSpec(options.target);
  const outputs: PlannedOutput[] = [];
  for (const out of options.out) {
    outputs.push(await planOutput('--out', out, ['.json', '.npz', '.npy'], cwd));
  }
  const plot =
    options.plot === undefined ? null : await planOutput('--plot', options.plot, ['.png'], cwd);

  const modelPath = await checkModel(model, cwd);
  const target = await createTarget(spec, cwd);
  const unavailable = (reason: string, cause?: unknown) =>
    new CliError(
      'PROVIDER_UNAVAILABLE',
      `execution provider '${checked.executionProvider}' does not start here: ${reason} Or run ` +
        'on the CPU: --execution-provider cpu.',
      cause === undefined ? {} : { cause },
    );
  if (checked.executionProvider === 'webgpu') {
    // Dawn writes to descriptor 2 itself when it finds no adapter (see provider-probe.ts): try
    // WebGPU in a child process first, and start it here only once it is known to start. A
    // child that failed on the model itself (a naming problem) leaves the error to the load.
    const probe = await probeProvider(modelPath, 'webgpu', flowNames(options));
    if (!probe.works && (probe.code === 'PROVIDER_UNAVAILABLE' || probe.code === null)) {
      throw unavailable(probe.reason);
    }
  }
  const flow = await loadOnnxFlow(modelPath, {
    executionProvider: checked.executionProvider,
    gradient: checked.gradient,
    ...flowNames(options),
    logger: {
      warn: (message) => io.stderr.write(`latent-langevin: warning: ${oneLine(message)}\n`),
    },
  }).catch((error: unknown) => {
    if (error instanceof OnnxFlowError && error.code === 'PROVIDER_UNAVAILABLE') {
      throw unavailable(providerFailure(checked.executionProvider, error.message), error);
    }
    throw withNameHint(error);
  });

  const metadata = {
    model,
    target: target.name,
    executionProvider: flow.executionProvider,
    gradientSource: flow.gradientSource,
    options: {
      target: options.target,
      chains: checked.chains,
      warmup: checked.warmup,
      draws: checked.draws,
      seed: checked.seed,
      preconditioner: checked.preconditioner,
      globalMoveProbability: checked.globalMoveProbability,
      kernel: checked.kernel,
      stepSize: checked.stepSize ?? null,
      naive: checked.naiveCount,
      executionProvider: checked.executionProvider,
      gradient: checked.gradient,
      ...flowNamesRecord(options),
    },
  };
  let run: SampleResult;
  let naiveDraws;
  try {
    if (plot !== null) plotKind(flow.dataShape); // fails before the run if it cannot be drawn
    // Naive draws use seed + 1 so that they share no random stream with chain 0.
    naiveDraws = await naive(flow, {
      count: checked.naiveCount,
      seed: (checked.seed + 1) % 2 ** 53,
    });
    const progress = createProgress(
      io.stderr,
      { chains: checked.chains, warmup: checked.warmup, draws: checked.draws },
      { enabled: options.progress },
    );
    try {
      run = await sample(flow, {
        target,
        chains: checked.chains,
        warmup: checked.warmup,
        draws: checked.draws,
        seed: checked.seed,
        preconditioner: checked.preconditioner,
        globalMoveProbability: checked.globalMoveProbability,
        kernel: checked.kernel,
        ...(checked.stepSize === undefined ? {} : { stepSize: checked.stepSize }),
        keepX: true,
        onProgress: (p) => progress.update(p),
        ...(io.signal === undefined ? {} : { signal: io.signal }),
        ...(resume === null ? {} : { resume: resume.checkpoint }),
      });
    } finally {
      progress.stop();
    }
  } catch (error) {
    if (error instanceof LatentLangevinError && error.code === 'INCOMPATIBLE_CHECKPOINT') {
      throw new CliError(
        'INCOMPATIBLE_CHECKPOINT',
        `--resume ${resume?.given ?? ''}: ${oneLine(error.message)} On the command line: ` +
          'drop the flags that differ, or pass the target and model of the saved run.',
        { exitCode: 2, cause: error },
      );
    }
    const jsonOutputs = outputs.filter((output) => output.kind === 'json');
    if (
      error instanceof SamplingAbortedError &&
      jsonOutputs.length > 0 &&
      naiveDraws !== undefined
    ) {
      // Only JSON holds the checkpoint; .npz and .npy of a partial run would not resume.
      const partial = error.partial;
      const summary = partial.draws > 1 ? summarize(partial) : null;
      for (const output of jsonOutputs) {
        await writeOutput(output, '--out', runJson(partial, summary, naiveDraws, metadata));
      }
      const files = jsonOutputs.map((output) => output.given).join(', ');
      throw new CliError(
        'INTERRUPTED',
        `interrupted after ${error.checkpoint.iteration} iterations; wrote ${files} with ` +
          `${partial.draws} draws per chain and a checkpoint. Continue the run with ` +
          `--resume ${jsonOutputs[0].given}.`,
        { exitCode: EXIT_INTERRUPTED, cause: error },
      );
    }
    throw error;
  } finally {
    await flow.dispose();
  }

  const summary = summarize(run);
  const arrays = runArrays(run, naiveDraws);
  for (const output of outputs) {
    const content =
      output.kind === 'json'
        ? runJson(run, summary, naiveDraws, metadata)
        : runNumpy(output.kind === 'npz' ? 'npz' : 'npy', arrays);
    await writeOutput(output, '--out', content);
    io.stderr.write(`wrote ${output.given}\n`);
  }
  if (plot !== null) {
    await writeOutput(plot, '--plot', await plotRun(run, naiveDraws, target.name, basename(model)));
    io.stderr.write(`wrote ${plot.given}\n`);
  }
  io.stdout.write(
    `${target.name} on ${model} (${flow.executionProvider}, ${flow.gradientSource} gradients)\n` +
      summary.text +
      (summary.text.endsWith('\n') ? '' : '\n'),
  );
}

/** The model naming flags that were given, for the run file. */
function flowNamesRecord(options: ModelNameOptions): Record<string, string> {
  return Object.fromEntries(
    (['input', 'xOutput', 'logDetOutput'] as const)
      .filter((key) => options[key] !== undefined)
      .map((key) => [key, options[key] as string]),
  );
}
