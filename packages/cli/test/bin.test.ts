/**
 * The built executable, run as a child process the way a shell runs it: through its shebang,
 * with real exit statuses and signals.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MOONS, ROOT, tempDir } from './helpers.js';

const BIN = join(ROOT, 'packages/cli/bin/latent-langevin.js');

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
});
