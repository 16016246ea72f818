/**
 * The `latent-langevin` program: commands, their help, and one policy for failures (one line
 * on standard error with the fix, a non-zero exit status, a stack trace only with --verbose).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import * as ort from 'onnxruntime-node';
import { SamplingAbortedError } from '@latent-langevin/core';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE } from './cli-error.js';
import { benchCommand } from './commands/bench.js';
import {
  EVALUATE_HELP,
  type EvaluateCommandOptions,
  evaluateCommand,
} from './commands/evaluate.js';
import { type InspectOptions, inspectCommand } from './commands/inspect.js';
import { type SampleCommandOptions, sampleCommand } from './commands/sample.js';
import type { CliIo } from './io.js';
import { oneLine } from './one-line.js';

const PROGRAM = 'latent-langevin';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const SAMPLE_EXAMPLES = `
Targets:
  base                   the flow's own latent N(0, I): reproduces naive sampling (a check)
  tempered[:beta]        q_Z(z) |det J_f(z)|^-beta; beta = 1 (the default) is the flow density
  pullback:<module.mjs>  p_X(f(z)) |det J_f(z)| for an explicit data density: the module's
                         default or 'logDensity' export is (x, n) => { logDensity, gradient? }

Outputs (--out, repeatable):
  run.json  metadata, summary, nested arrays (z, x, logPi, logDet, accepted, naive),
            drawOffset and the checkpoint that --resume continues from
  run.npz   NumPy arrays z [chains, draws, d], x [chains, draws, ...], log_pi, log_det,
            accepted [chains, draws], step_size, draw_offset, naive_z, naive_x, naive_log_det
  run.npy   x alone, [chains, draws, ...dataShape]

Resuming (--resume run.json):
  continues the run saved in run.json bit for bit, with its recorded options unless given
  again (flags the checkpoint binds must match); --draws is the new total per chain, e.g. 2000
  to extend a 1000-draw run. The outputs hold only the new draws: draw_offset (drawOffset in
  JSON) is the index of their first draw within the whole run. Ctrl-C with --out run.json
  writes the partial run and its checkpoint there, ready for --resume.

Examples:
  $ ${PROGRAM} sample model.onnx --target tempered --out run.npz --plot run.png
  $ ${PROGRAM} sample model.onnx -t pullback:./density.mjs -c 8 -n 2000 --global 0.1
  $ ${PROGRAM} sample model.onnx -n 1000 --out run.json
  $ ${PROGRAM} sample model.onnx --resume run.json -n 2000 --out more.json
`;

/** Where a failure is reported from: the program or one of its commands. */
interface Failure {
  readonly error: unknown;
  readonly command: string;
}

/** The one line and exit status a failure is reported with. */
function describeFailure({ error, command }: Failure): { line: string; exitCode: number } {
  const where = command === PROGRAM ? PROGRAM : `${PROGRAM} ${command}`;
  if (error instanceof CommanderError) {
    const text = oneLine(error.message.replace(/^error: /, ''));
    return {
      line: `${where}: ${text}. Run '${where} --help' for usage.`.replace('.. Run', '. Run'),
      exitCode: EXIT_USAGE,
    };
  }
  if (error instanceof SamplingAbortedError) {
    return {
      line:
        `${where}: interrupted after ${error.checkpoint.iteration} iterations; ` +
        'nothing was written.',
      exitCode: EXIT_INTERRUPTED,
    };
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return { line: `${where}: interrupted; nothing more was written.`, exitCode: EXIT_INTERRUPTED };
  }
  if (error instanceof CliError) {
    return { line: `${where}: ${oneLine(error.message)}`, exitCode: error.exitCode };
  }
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    // The library's errors already name the argument and the fix.
    return { line: `${where}: ${oneLine(error.message)}`, exitCode: EXIT_FAILURE };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    line:
      `${where}: ${oneLine(message)} ` +
      '(unexpected; run again with --verbose for the stack trace)',
    exitCode: EXIT_FAILURE,
  };
}

/** The stack of an error and of its causes, for --verbose. */
function stackTrace(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\nCaused by: ') + '\n';
}

/** Builds the program with its commands, writing through `io`. */
function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command(PROGRAM)
    .description(
      'Metropolis-adjusted Langevin sampling in the latent space of pre-trained normalizing ' +
        'flows (ONNX).',
    )
    .version(version, '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces of errors')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {}, // reported as one line by run()
      getOutHelpWidth: () => Math.min(io.stdout.columns ?? 100, 100),
      getErrHelpWidth: () => Math.min(io.stderr.columns ?? 100, 100),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .addHelpText(
      'after',
      `\nRun '${PROGRAM} <command> --help' for a command's options. Exit status: 0 success, ` +
        '1 failure,\n2 usage error, 130 interrupted; 0 as well when the reader of standard ' +
        'output closes it early\n(latent-langevin ... | head).\n',
    );

  program
    .command('inspect')
    .description(
      "an ONNX flow's inputs, outputs, shapes and operators, whether autodiff covers it, and " +
        'which execution providers run it here',
    )
    .argument('<model>', 'the .onnx file')
    .option('--json', 'print the report as JSON')
    .option('--no-probe', 'do not try to start the GPU providers the runtime lists')
    .option('--input <name>', 'the latent input, when the model has several')
    .option('--x-output <name>', 'the output x = f(z), when the adapter cannot tell')
    .option('--log-det-output <name>', 'the output log|det J_f(z)|, when the adapter cannot tell')
    .action(async (model: string, options: InspectOptions) => {
      await inspectCommand(model, options, io);
    });

  program
    .command('sample')
    .description('latent MALA on an ONNX flow; writes the run and prints its diagnostics')
    .argument('<model>', 'the .onnx file: z [batch, d] -> x [batch, ...], logdet [batch]')
    .option('-t, --target <target>', 'base, tempered[:beta] or pullback:<module.mjs>', 'tempered')
    .option('-c, --chains <n>', 'chains, advanced together in one batch', '4')
    .option('-w, --warmup <n>', 'warm-up iterations (step size and metric adapt)', '500')
    .option('-n, --draws <n>', 'draws kept per chain', '1000')
    .option('-s, --seed <n>', 'seed; the same seed gives the same draws', '0')
    .addOption(
      new Option('-p, --preconditioner <name>', 'proposal preconditioner')
        .choices(['identity', 'diagonal', 'jacobian'])
        .default('identity'),
    )
    .option('-g, --global <p>', 'probability of an independence move from N(0, I)', '0')
    .addOption(
      new Option('--kernel <name>', 'mala, or rwm (random-walk Metropolis, no gradients)')
        .choices(['mala', 'rwm'])
        .default('mala'),
    )
    .option('--step-size <h>', 'initial step size (default: found by a doubling search)')
    .addOption(
      new Option('-e, --execution-provider <name>', 'ONNX Runtime execution provider')
        .choices(['cpu', 'cuda', 'webgpu'])
        .default('cpu'),
    )
    .addOption(
      new Option(
        '--gradient <mode>',
        'where gradients come from; auto falls back to finite differences',
      )
        .choices(['auto', 'autodiff', 'finite-difference'])
        .default('auto'),
    )
    .option('--input <name>', 'the latent input, when the model has several')
    .option('--x-output <name>', 'the output x = f(z), when the adapter cannot tell')
    .option('--log-det-output <name>', 'the output log|det J_f(z)|, when the adapter cannot tell')
    .option('--naive <count>', 'naive draws to write and plot (default: chains x draws)')
    .option(
      '-o, --out <file>',
      'write the run to a .json, .npz or .npy file (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--plot <file.png>',
      'plot the draws beside naive draws: a scatter for 2-D data, an image grid for images',
    )
    .option(
      '--resume <run.json>',
      'continue the run saved by an earlier --out run.json (see Resuming below)',
    )
    .option('--no-progress', 'no progress display on standard error')
    .addHelpText('after', SAMPLE_EXAMPLES)
    .action(async (model: string, options: SampleCommandOptions, command: Command) => {
      const explicit = new Set(
        Object.keys(options).filter((key) => command.getOptionValueSource(key) === 'cli'),
      );
      await sampleCommand(model, options, io, explicit);
    });

  program
    .command('evaluate')
    .description(
      "run the evaluation package's experiments: methods scored against exact draws on the " +
        "repository's fixtures",
    )
    .option('--quick', 'a smoke-test size that runs in seconds (default: the reported size)')
    .option(
      '-o, --out <dir>',
      'folder for results.json, results.md and the pictures',
      'out/experiments',
    )
    .option('--seeds <list>', 'comma-separated seeds (default: 1,2,3,4,5; quick: 1,2)')
    .option('--fixtures <dir>', "the repository's fixtures/ folder (default: found in a clone)")
    .option('--only <names>', 'comma-separated fixture names, e.g. two-moons-realnvp')
    .option('--no-progress', 'no progress lines on standard error')
    .addHelpText('after', EVALUATE_HELP)
    .action(async (options: EvaluateCommandOptions) => {
      setExitCode(await evaluateCommand(options, io));
    });

  program
    .command('bench')
    .description('run the benchmarks of the repository checkout (bench/)')
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[bench-options...]', 'passed to bench/dist/main.js, e.g. --size tiny --no-race')
    .addHelpText(
      'after',
      `
Repository only: @latent-langevin/bench is private and not published, so this command runs
inside a clone of the latent-langevin repository, after npm ci and npm run build; elsewhere it
exits with status 1 and says so.

The benchmarks take --size tiny|default, --out <dir>, --threads <n>, --wasm-threads <n>,
--python <path> and --no-race (see bench/src/main.ts).

Example:
  $ ${PROGRAM} bench --size tiny --no-race
`,
    )
    .action(async (args: string[]) => {
      setExitCode(await benchCommand(args, io));
    });

  return program;
}

/**
 * Runs the `latent-langevin` command line in-process.
 *
 * @param argv the arguments after the program name, e.g. `['sample', 'model.onnx', '-c', '8']`
 * @param io standard output and error (and optionally `cwd`, `signal`, `env`); nothing is
 *   written anywhere else
 * @returns the exit status: 0 success, 1 failure, 2 usage error, 130 interrupted
 * @example
 * ```ts
 * const io = { stdout: process.stdout, stderr: process.stderr };
 * process.exitCode = await run(['inspect', 'model.onnx'], io);
 * ```
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  // ONNX Runtime logs failed providers to stderr itself; they reach people as one-line errors.
  ort.env.logLevel = verbose ? 'warning' : 'fatal';
  let exitCode = 0;
  let command = PROGRAM;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride((error) => {
      throw { error, command: cmd === program ? PROGRAM : cmd.name() } satisfies Failure;
    });
    if (cmd !== program) {
      cmd.hook('preAction', () => {
        command = cmd.name();
      });
    }
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (thrown) {
    const failure: Failure =
      typeof thrown === 'object' && thrown !== null && 'command' in thrown && 'error' in thrown
        ? (thrown as Failure)
        : { error: thrown, command };
    if (failure.error instanceof CommanderError && failure.error.exitCode === 0) {
      return 0; // --help or --version
    }
    if (failure.error instanceof CommanderError && failure.error.code === 'commander.help') {
      return EXIT_USAGE; // no command given: the help went to standard error
    }
    const { line, exitCode: code } = describeFailure(failure);
    if (verbose) io.stderr.write(stackTrace(failure.error));
    io.stderr.write(`${line}\n`);
    return code;
  }
}
