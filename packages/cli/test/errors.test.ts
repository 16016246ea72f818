/**
 * Every bad input ends with one line on standard error that names the problem and the fix,
 * nothing on standard output, a non-zero exit status, and no stack trace unless --verbose.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MOONS, runCli, tempDir } from './helpers.js';

const FAST = ['--warmup', '5', '--draws', '5', '--no-progress'];

/** A directory with a few modules and files the cases below point at. */
function workspace(): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'no-function.mjs'),
    'export const logDensity = 42;\nexport const b = 1;\n',
  );
  writeFileSync(join(dir, 'throws.mjs'), "throw new Error('broken on purpose');\n");
  writeFileSync(join(dir, 'density.ts'), 'export default (x: Float32Array) => x;\n');
  writeFileSync(join(dir, 'not-a-model.onnx'), 'this is text, not protobuf');
  writeFileSync(join(dir, 'a-file.txt'), 'not a directory\n');
  mkdirSync(join(dir, 'a-directory.npz'));
  mkdirSync(join(dir, 'read-only'));
  chmodSync(join(dir, 'read-only'), 0o555);
  return dir;
}

interface Case {
  readonly name: string;
  readonly argv: readonly string[];
  readonly code: number;
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'an unknown flag',
    argv: ['sample', MOONS, '--chainz', '4'],
    code: 2,
    message: new RegExp(
      "^latent-langevin sample: unknown option '--chainz' \\(Did you mean --chains\\?\\)\\. " +
        "Run 'latent-langevin sample --help' for usage\\.$",
    ),
  },
  {
    name: 'an unknown command',
    argv: ['sampel', MOONS],
    code: 2,
    message: /^latent-langevin: unknown command 'sampel' \(Did you mean sample\?\)\. Run/,
  },
  {
    name: 'a missing model argument',
    argv: ['sample'],
    code: 2,
    message: /missing required argument 'model'\. Run 'latent-langevin sample --help'/,
  },
  {
    name: 'a missing model file',
    argv: ['sample', 'missing.onnx', ...FAST],
    code: 1,
    message:
      /^latent-langevin sample: cannot read model 'missing\.onnx' \(no such file\)\. Pass the path/,
  },
  {
    name: 'a model file that is not ONNX',
    argv: ['inspect', 'not-a-model.onnx'],
    code: 1,
    message: /could not be read as an ONNX model .* Re-export it with torch\.onnx\.export\.$/,
  },
  {
    name: 'a target module that exports no function',
    argv: ['sample', MOONS, '-t', 'pullback:no-function.mjs', ...FAST],
    code: 1,
    message:
      /exports no function; expected a default or named 'logDensity' export .*\[logDensity, b\]\.$/,
  },
  {
    name: 'a target module that throws when loaded',
    argv: ['sample', MOONS, '-t', 'pullback:throws.mjs', ...FAST],
    code: 1,
    message: /the module failed to load \(broken on purpose\)\. Fix the module/,
  },
  {
    name: 'a target module that is TypeScript',
    argv: ['sample', MOONS, '-t', 'pullback:density.ts', ...FAST],
    code: 1,
    message: /Node cannot import TypeScript here\. Compile it to \.mjs/,
  },
  {
    name: 'a missing target module',
    argv: ['sample', MOONS, '-t', 'pullback:nowhere.mjs', ...FAST],
    code: 1,
    message: /pullback:nowhere\.mjs: no file at '.*nowhere\.mjs'\. Pass the path of an ES module/,
  },
  {
    name: 'an unknown target',
    argv: ['sample', MOONS, '-t', 'posterior', ...FAST],
    code: 2,
    message: /unknown target 'posterior'; expected 'base', 'tempered', 'tempered:<beta>' or/,
  },
  {
    name: 'a negative beta',
    argv: ['sample', MOONS, '-t', 'tempered:-1', ...FAST],
    code: 2,
    message: /beta must be a finite number >= 0; received '-1'\. Pass e\.g\. --target tempered:1/,
  },
  {
    name: 'a non-integer chain count',
    argv: ['sample', MOONS, '--chains', '2.5', ...FAST],
    code: 2,
    message: /--chains must be a whole number >= 1; received '2\.5'\. Pass e\.g\. --chains 4\.$/,
  },
  {
    name: 'a global-move probability of 1',
    argv: ['sample', MOONS, '--global', '1', ...FAST],
    code: 2,
    message:
      /--global must be a probability in \[0, 1\); received '1'\. Pass e\.g\. --global 0\.1\.$/,
  },
  {
    name: 'an unknown preconditioner',
    argv: ['sample', MOONS, '-p', 'full', ...FAST],
    code: 2,
    message: /argument 'full' is invalid\. Allowed choices are identity, diagonal, jacobian\. Run/,
  },
  {
    name: 'an output in a directory that does not exist',
    argv: ['sample', MOONS, ...FAST, '--out', 'no/such/dir/run.npz'],
    code: 1,
    message: /--out no\/such\/dir\/run\.npz: cannot write there, directory '.*' does not exist\./,
  },
  {
    name: 'an output on a file system that takes no new files',
    argv: ['sample', MOONS, ...FAST, '--out', '/proc/run.npz'],
    code: 1,
    message: /^latent-langevin sample: --out \/proc\/run\.npz: cannot write '\/proc\/run\.npz' \(/,
  },
  {
    name: 'an output whose directory is a regular file',
    argv: ['sample', MOONS, ...FAST, '--out', 'a-file.txt/run.npz'],
    code: 1,
    message: new RegExp(
      "^latent-langevin sample: --out a-file\\.txt/run\\.npz: cannot write there, '.*/a-file" +
        "\\.txt' is a file, not a directory\\. Choose another path\\.$",
    ),
  },
  {
    name: 'an output path that is a directory',
    argv: ['sample', MOONS, ...FAST, '--out', 'a-directory.npz'],
    code: 1,
    message: /--out a-directory\.npz: '.*a-directory\.npz' is a directory\. Pass a file path/,
  },
  {
    name: 'an output with an unknown extension',
    argv: ['sample', MOONS, ...FAST, '--out', 'run.csv'],
    code: 2,
    message:
      /--out run\.csv: unknown file type '\.csv'; expected a path ending in \.json, \.npz, \.npy\./,
  },
  {
    name: 'a plot that is not a PNG',
    argv: ['sample', MOONS, ...FAST, '--plot', 'run.svg'],
    code: 2,
    message: /--plot run\.svg: unknown file type '\.svg'; expected a path ending in \.png\.$/,
  },
  {
    name: 'an unavailable execution provider',
    argv: ['sample', MOONS, ...FAST, '--execution-provider', 'cuda'],
    code: 1,
    message:
      /provider 'cuda' does not start here: .*Or run on the CPU: --execution-provider cpu\.$/,
  },
];

// Root ignores file permissions, so the read-only case only means something for other users;
// the cases of /proc and of a regular file in a directory's place above fail for root too.
const IS_ROOT = process.getuid?.() === 0;

describe('latent-langevin on bad input', () => {
  const dir = workspace();

  it.each(CASES)(
    'ends with one line and exit status $code on $name',
    async ({ argv, code, message }) => {
      const result = await runCli(argv, { cwd: dir });

      expect(result.code).toBe(code);
      expect(result.stdout).toBe('');
      const lines = result.stderr.split('\n').filter((line) => line.length > 0);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    },
  );

  it.skipIf(IS_ROOT)('ends with one line on an output in a read-only directory', async () => {
    const result = await runCli(['sample', MOONS, ...FAST, '--out', 'read-only/run.npz'], {
      cwd: dir,
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^latent-langevin sample: --out read-only\/run\.npz: cannot write '.*' \(permission denied\)/,
    );
    expect(result.stderr.split('\n').filter((line) => line !== '')).toHaveLength(1);
  });

  it('prints the stack trace, then the line, with --verbose', async () => {
    const result = await runCli(['--verbose', 'sample', 'missing.onnx', ...FAST], { cwd: dir });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^CliError: cannot read model/);
    expect(result.stderr).toMatch(/\n\s+at /);
    expect(result.stderr).toMatch(/Caused by: Error: ENOENT/);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^latent-langevin sample: cannot read/);
  });

  it.each([
    [['--help'], /^Usage: latent-langevin \[options\] \[command\]/],
    [['sample', '--help'], /^Usage: latent-langevin sample \[options\] <model>/],
    [['inspect', '--help'], /^Usage: latent-langevin inspect \[options\] <model>/],
    [['evaluate', '--help'], /^Usage: latent-langevin evaluate/],
    [
      ['bench', '--help'],
      /^Usage: latent-langevin bench[\s\S]*private and not published, so this command runs\ninside/,
    ],
    [['--version'], /^\d+\.\d+\.\d+\n$/],
  ])('prints help or the version on standard output for %j and exits 0', async (argv, text) => {
    const result = await runCli(argv);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(text);
  });

  it('prints the help on standard error and exits 2 when no command is given', async () => {
    const result = await runCli([]);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Usage: latent-langevin/);
  });
});
