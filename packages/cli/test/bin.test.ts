/**
 * The built executable, run as a child process the way a shell runs it: through its shebang,
 * with real exit statuses and signals.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MOONS, ROOT, tempDir } from './helpers.js';

const BIN = join(ROOT, 'packages/cli/bin/latent-langevin.js');

/** A plain progress line of `sample` (see progress.ts), as written to a pipe or a file. */
const PROGRESS_LINE = new RegExp(
  '^(warm-up|sampling) \\d+/\\d+: \\d+ draws/s, acceptance (\\d\\.\\d\\d|n/a), ' +
    'step size \\S+, \\S+ left$',
);

/** Terminal control sequences: CSI (cursor moves, clearing, modes) and cursor save/restore. */
const CONTROL = /\x1b(?:\[[0-9;?]*[A-Za-z]|[78])/g; // eslint-disable-line no-control-regex

/** Runs the executable with its standard output a pipe that is closed before it writes. */
async function runWithClosedStdout(
  argv: readonly string[],
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(BIN, argv, { cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader goes away, as `| head -1` does once it has its line
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (code, sig) => resolve([code, sig])),
  );
  return { status, signal, stderr };
}

describe('latent-langevin executable', () => {
  beforeAll(() => {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli'],
      {
        cwd: ROOT,
      },
    );
  }, 120_000);

  it('is an executable launcher with a node shebang', () => {
    expect(readFileSync(BIN, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
  });

  it('samples, writes run.npz and plots run.png in a temporary directory, exit status 0', () => {
    const dir = tempDir();
    copyFileSync(MOONS, join(dir, 'model.onnx'));

    const result = spawnSync(
      BIN,
      [
        'sample',
        'model.onnx',
        '--target',
        'tempered',
        '--out',
        'run.npz',
        '--plot',
        'run.png',
        '--warmup',
        '100',
        '--draws',
        '100',
      ],
      { cwd: dir, encoding: 'utf8' },
    );

    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^tempered\(beta=1\) on model\.onnx/);
    expect(result.stderr).toContain('wrote run.npz');
    expect(readFileSync(join(dir, 'run.npz')).subarray(0, 4)).toEqual(
      Buffer.from('PK\x03\x04', 'latin1'),
    );
    expect(readFileSync(join(dir, 'run.png')).subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
  });

  it.each([
    [['sample', MOONS, '--bogus'], 2, /^latent-langevin sample: unknown option '--bogus'/],
    [['sample', 'missing.onnx'], 1, /^latent-langevin sample: cannot read model 'missing\.onnx'/],
    [['inspect'], 2, /^latent-langevin inspect: missing required argument 'model'/],
  ])('exits with one line on standard error for %j', (argv, status, line) => {
    const result = spawnSync(BIN, argv, { cwd: tempDir(), encoding: 'utf8' });

    expect(result.status).toBe(status);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(result.stderr).toMatch(line);
  });

  it('stops on Ctrl-C (SIGINT) with exit status 130 and writes nothing', async () => {
    const dir = tempDir();
    const child = spawn(
      BIN,
      ['sample', MOONS, '--warmup', '100000', '--draws', '10', '--out', 'run.npz'],
      { cwd: dir },
    );
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // One Ctrl-C stops the run; a second one would end the process the default way.
      if (!interrupted && stderr.includes('warm-up')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });

    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(status).toBe(130);
    expect(stderr.trim().split('\n').at(-1)).toMatch(
      /^latent-langevin sample: interrupted after \d+ iterations; nothing was written\.$/,
    );
    expect(() => statSync(join(dir, 'run.npz'))).toThrow();
  });

  it.each([
    ['sample --help', ['sample', '--help']],
    ['inspect --json', ['inspect', MOONS, '--json', '--no-probe']],
    ['the summary of sample', ['sample', MOONS, '-w', '10', '-n', '10', '--no-progress']],
  ])(
    'exits 0 in silence when the reader of standard output closes it early (%s)',
    async (_, argv) => {
      const result = await runWithClosedStdout(argv);

      expect(result.stderr).toBe('');
      expect(result).toMatchObject({ status: 0, signal: null });
    },
  );

  it.runIf(existsSync('/dev/full'))(
    'exits 1 with one line when standard output cannot be written (a full disk)',
    () => {
      const full = openSync('/dev/full', 'w');
      try {
        const result = spawnSync(BIN, ['--help'], {
          cwd: tempDir(),
          stdio: ['ignore', full, 'pipe'],
          encoding: 'utf8',
        });

        expect(result.status).toBe(1);
        expect(result.stderr).toBe(
          'latent-langevin: cannot write to standard output (ENOSPC: no space left on device, ' +
            'write).\n',
        );
      } finally {
        closeSync(full);
      }
    },
  );

  it('prints plain progress lines, not a bar, when standard error is a pipe', () => {
    const result = spawnSync(BIN, ['sample', MOONS, '-w', '300', '-n', '300'], {
      cwd: tempDir(),
      encoding: 'utf8',
    });

    expect(result.status).toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line !== '');
    expect(result.stderr).not.toMatch(/\x1b/); // eslint-disable-line no-control-regex
    for (const line of lines) expect(line).toMatch(PROGRESS_LINE);
    // The first line of each phase, its last line, and one every 2 s at most in between.
    expect(lines[0]).toMatch(/^warm-up 1\/300: /);
    expect(lines).toContainEqual(expect.stringMatching(/^warm-up 300\/300: /));
    expect(lines.at(-1)).toMatch(/^sampling 300\/300: /);
    expect(lines.length).toBeLessThanOrEqual(20);
  });

  // util-linux's script(1) runs the command on a pseudo-terminal, as a person's shell would.
  it.runIf(existsSync('/usr/bin/script'))(
    'draws a progress bar, not plain lines, when standard error is a terminal',
    () => {
      const command = `stty cols 100; '${BIN}' sample '${MOONS}' -w 300 -n 300`;
      const result = spawnSync('/usr/bin/script', ['-qec', command, '/dev/null'], {
        cwd: tempDir(),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });

      expect(result.status).toBe(0);
      const shown = result.stdout.replace(CONTROL, '\n');
      expect(result.stdout).toContain('\x1b[?25l'); // the cursor is hidden while the bar runs
      expect(shown).toMatch(
        /^sampling █+ 100% \d+ draws\/s, acceptance \d\.\d\d, step \S+, 0s left$/m,
      );
      expect(shown).not.toMatch(/^warm-up 1\/300: /m);
    },
  );

  describe('on a machine where a GPU provider does not start', () => {
    let providers: { name: string; works: boolean | null; reason?: string }[] = [];
    let inspectStderr = '';

    beforeAll(() => {
      const result = spawnSync(BIN, ['inspect', MOONS, '--json'], {
        cwd: tempDir(),
        encoding: 'utf8',
      });
      expect(result.status).toBe(0);
      inspectStderr = result.stderr;
      providers = (JSON.parse(result.stdout) as { executionProviders: typeof providers })
        .executionProviders;
    });

    it('inspect tries every GPU provider, and its standard error holds no native output', () => {
      expect(inspectStderr).toBe('');
      for (const provider of providers.filter((p) => ['cuda', 'webgpu'].includes(p.name))) {
        expect(provider.works, `${provider.name} was not tried`).not.toBeNull();
        if (provider.works === false) {
          expect(provider.reason).toMatch(/\w.*\.\)?$/);
          expect(provider.reason).not.toMatch(/::|\/build\/|onnxruntime_src|\n/);
        }
      }
    });

    it('sample -e webgpu ends with one line on standard error without WebGPU', (context) => {
      const webgpu = providers.find((p) => p.name === 'webgpu');
      if (webgpu?.works !== false) {
        context.skip(); // not listed, or it works here: then there is nothing to report
        return;
      }

      const result = spawnSync(BIN, ['sample', MOONS, '-e', 'webgpu', '-w', '5', '-n', '5'], {
        cwd: tempDir(),
        encoding: 'utf8',
      });

      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `latent-langevin sample: execution provider 'webgpu' does not start here: ` +
          `${webgpu.reason} Or run on the CPU: --execution-provider cpu.\n`,
      );
    });
  });
});
