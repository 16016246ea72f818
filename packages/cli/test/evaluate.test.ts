import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

describe('latent-langevin evaluate', () => {
  it('runs the quick experiments on one fixture and lists the files it wrote', async () => {
    const dir = tempDir();

    const result = await runCli(
      ['evaluate', '--quick', '--only', 'two-moons-realnvp', '--seeds', '1', '--out', 'ev'],
      { cwd: dir },
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1 fixture, 1 seed, quick size, in \d+s; wrote to .*ev:\n/);
    expect(result.stdout).toContain('  results.json\n');
    expect(result.stderr).toMatch(/^\[\d+\/\d+\] .*loading two-moons-realnvp$/m);
    const results = JSON.parse(readFileSync(join(dir, 'ev', 'results.json'), 'utf8')) as {
      targets: { fixture: string }[];
    };
    expect(results.targets.map((t) => t.fixture)).toEqual(['two-moons-realnvp']);
    expect(existsSync(join(dir, 'ev', 'two-moons-realnvp.png'))).toBe(true);
  });

  it.each([
    [['--seeds', '1,x'], 2, /--seeds must be whole numbers in \[0, 2\^43\) separated by commas/],
    [['--only', 'moons'], 2, /--only: unknown fixture 'moons'; expected names among two-moons/],
    [['--fixtures', 'nowhere'], 1, /--fixtures nowhere: no directory at '.*nowhere'\. Pass the/],
    [['--fixtures', 'empty'], 1, /no fixture could run; \d+ skipped, the first two-moons-realnvp/],
  ])('ends with one line for %j', async (argv, code, message) => {
    const dir = tempDir();
    mkdirSync(join(dir, 'empty'));

    const result = await runCli(['evaluate', '--quick', '--out', 'ev', ...argv], { cwd: dir });

    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('['));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^latent-langevin evaluate: /);
    expect(lines[0]).toMatch(message);
  });
});
