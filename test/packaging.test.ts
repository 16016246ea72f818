/**
 * The packages as npm would publish them: each publishable workspace is built (`tsc -b`),
 * packed with `npm pack`, and installed from its tarball into a fresh project outside the
 * repository, where the first ```ts example of every README, every export and the command line
 * must work. A file left out of `files`, an export pointing at nothing, a dependency missing
 * from package.json, or a README example that does not run as printed fails here rather than
 * for the first user.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MOONS = join(ROOT, 'fixtures/two-moons-realnvp/model.onnx');

/** Every workspace that is published to npm. */
const PUBLISHABLE = [
  'packages/core',
  'packages/eval',
  'packages/cli',
  'adapters/onnx',
  'adapters/finite-difference',
  'adapters/tfjs',
] as const;

/**
 * The fixture a file that a README example reads stands for, by the file's extension; a name
 * that is a path of the repository (`fixtures/...`) is copied from there instead.
 */
const EXAMPLE_FIXTURES: Record<string, Record<string, string>> = {
  'adapters/tfjs': {
    '.json': 'fixtures/two-moons-tfjs/model.json',
    '.bin': 'fixtures/two-moons-tfjs/weights.bin',
  },
  default: { '.onnx': 'fixtures/two-moons-realnvp/model.onnx' },
};

/** What an example prints, where it prints the sampler's summary. */
const EXAMPLE_OUTPUT: Record<string, RegExp> = {
  'packages/core': /acceptance \d\.\d+/,
  'packages/cli': /acceptance \d\.\d+/,
  'adapters/onnx': /acceptance \d\.\d+/,
  'adapters/finite-difference': /acceptance \d\.\d+/,
  'adapters/tfjs': /acceptance \d\.\d+/,
  'packages/eval': /MMD² -?\d/,
};

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  sideEffects?: boolean;
  engines?: { node?: string };
  files?: string[];
  bin?: Record<string, string>;
  exports?: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

const manifest = (workspace: string): Manifest =>
  JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as Manifest;

/** Runs a command, failing with its output when it exits non-zero. */
function sh(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; allowFailure?: boolean },
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0 && options.allowFailure !== true) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.status}:\n` +
        `${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/** The version of a package installed in the workspace, e.g. `onnxruntime-node@1.30.0`. */
function workspaceVersion(name: string): string {
  const pkg = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
  ) as Manifest;
  return `${name}@${pkg.version}`;
}

/**
 * Registry packages the consumer project installs beside the tarballs: every peer dependency
 * of a published package, optional ones included (the README examples use them), at the
 * version the workspace has, so that npm finds them in its cache.
 */
const peerDependencies = (): string[] => [
  ...new Set(PUBLISHABLE.flatMap((w) => Object.keys(manifest(w).peerDependencies ?? {}))),
];

/** The first ```ts block of a workspace's README, as TypeScript source. */
function firstTsBlock(workspace: string): string {
  const readme = readFileSync(join(ROOT, workspace, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (block === null) throw new Error(`${workspace}/README.md has no \`\`\`ts example`);
  return block[1];
}

/** The files a README example names in string literals, e.g. `flow/model.json`. */
function quotedFiles(example: string): string[] {
  const names = [...example.matchAll(/(['"`])([\w@./-]+\.[A-Za-z]+)\1/g)].map((m) => m[2]);
  return [...new Set(names)].filter((name) => !isAbsolute(name) && !name.startsWith('@'));
}

/**
 * Copies into `dir` the fixture behind each file an example names: the repository's file of
 * that path when there is one, else the fixture for its extension (see EXAMPLE_FIXTURES).
 * Names of no known kind (outputs such as `run.npz`, module specifiers) are left alone.
 */
function copyFixtures(workspace: string, example: string, dir: string): void {
  const byExtension = { ...EXAMPLE_FIXTURES.default, ...EXAMPLE_FIXTURES[workspace] };
  for (const name of quotedFiles(example)) {
    const source = existsSync(join(ROOT, name)) ? name : byExtension[extname(name)];
    if (source === undefined) continue;
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    copyFileSync(join(ROOT, source), join(dir, name));
  }
}

describe('published packages', () => {
  const work = mkdtempSync(join(tmpdir(), 'latent-langevin-packaging-'));
  const packs = join(work, 'tarballs');
  const consumer = join(work, 'consumer');
  let packed: Packed[] = [];

  beforeAll(() => {
    sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], { cwd: ROOT });
    mkdirSync(packs);
    mkdirSync(consumer);
    const out = sh(
      'npm',
      ['pack', '--json', '--pack-destination', packs, ...PUBLISHABLE.flatMap((w) => ['-w', w])],
      { cwd: ROOT },
    );
    packed = JSON.parse(out.stdout) as Packed[];
  }, 180_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(PUBLISHABLE)('%s ships its exports, types, README and licence', (workspace) => {
    const pkg = manifest(workspace);
    const pack = packed.find((p) => p.name === pkg.name);
    expect(pack, `npm pack made no tarball for ${pkg.name}`).toBeDefined();
    const files = new Set((pack as Packed).files.map((f) => f.path));

    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('MIT');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.engines?.node).toMatch(/^>=\d+/);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist']));
    for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/index.js']) {
      expect(files, `${pkg.name} does not ship ${required}`).toContain(required);
    }
    expect([...files].filter((f) => /^test\/|\.test\.|\.tsbuildinfo$/.test(f))).toEqual([]);

    expect(pkg.exports, `${pkg.name} has no exports map`).toBeDefined();
    for (const [subpath, conditions] of Object.entries(pkg.exports ?? {})) {
      expect(Object.keys(conditions)[0], `${pkg.name} ${subpath}: types must come first`).toBe(
        'types',
      );
      for (const target of Object.values(conditions)) {
        expect(files, `${pkg.name} ${subpath} points at ${target}`).toContain(
          target.replace(/^\.\//, ''),
        );
      }
    }
    for (const target of Object.values(pkg.bin ?? {})) {
      const path = target.replace(/^\.\//, '');
      expect(files).toContain(path);
      expect(readFileSync(join(ROOT, workspace, path), 'utf8')).toMatch(
        /^#!\/usr\/bin\/env node\n/,
      );
    }
    for (const [dependency, range] of Object.entries(pkg.dependencies ?? {})) {
      if (!dependency.startsWith('@latent-langevin/')) continue;
      const internal = PUBLISHABLE.map(manifest).find((m) => m.name === dependency);
      expect(
        internal,
        `${pkg.name} depends on ${dependency}, which is not published`,
      ).toBeDefined();
      expect(range).toBe(internal?.version);
    }

    const readme = readFileSync(join(ROOT, workspace, 'README.md'), 'utf8');
    expect(readme).toContain(`npm install`);
    expect(readme).toContain(pkg.name);
    expect(readme).toMatch(/```ts\n/);
    expect(readme).toMatch(/Node(\.js)? \d+/);
  });

  describe('installed from the tarballs into a project outside the repository', () => {
    beforeAll(() => {
      writeFileSync(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module' }) + '\n',
      );
      const tarballs = packed.map((p) => join(packs, p.filename));
      const peers = peerDependencies().map(workspaceVersion);
      sh('npm', ['install', ...tarballs, ...peers, '--prefer-offline', '--no-audit', '--no-fund'], {
        cwd: consumer,
        env: { ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' },
      });
    }, 180_000);

    it('imports every export of every package', () => {
      const specifiers = PUBLISHABLE.flatMap((workspace) => {
        const pkg = manifest(workspace);
        return Object.keys(pkg.exports ?? {}).map((subpath) =>
          subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`,
        );
      });
      const script = [
        `for (const specifier of ${JSON.stringify(specifiers)}) {`,
        '  const module = await import(specifier);',
        "  if (Object.keys(module).length === 0) throw new Error(specifier + ' exports nothing');",
        '}',
        "console.log('imported', " + specifiers.length + ');',
      ].join('\n');

      const result = sh(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });

      expect(result.stdout).toContain(`imported ${specifiers.length}`);
    });

    it.each(PUBLISHABLE)(
      'runs the first ```ts example of the %s README as it is printed',
      (workspace) => {
        const example = firstTsBlock(workspace);
        const dir = join(consumer, 'examples', workspace.replace('/', '-'));
        mkdirSync(dir, { recursive: true });
        copyFixtures(workspace, example, dir);
        // What a user's TypeScript compiler does with it: types go, the code stays as it is.
        const { outputText } = ts.transpileModule(example, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        });
        writeFileSync(join(dir, 'example.mjs'), outputText);

        const result = sh(process.execPath, ['example.mjs'], { cwd: dir, allowFailure: true });

        if (result.status !== 0) {
          throw new Error(
            `${workspace}/README.md: its first \`\`\`ts example exits with status ` +
              `${result.status} in a fresh project with the packed packages installed. It must ` +
              'run as printed: define everything it uses, and read only files this test copies ' +
              `in (${quotedFiles(example).join(', ') || 'none named'}; see EXAMPLE_FIXTURES).\n` +
              `${result.stderr.trim()}`,
          );
        }
        if (workspace in EXAMPLE_OUTPUT) expect(result.stdout).toMatch(EXAMPLE_OUTPUT[workspace]);
      },
      // The examples run at the sizes their READMEs print, each within seconds on the 2-core
      // build machine; installing and importing tfjs takes most of the time.
      300_000,
    );

    it('installs the latent-langevin command, which samples, plots and writes NumPy files', () => {
      copyFileSync(MOONS, join(consumer, 'moons.onnx'));
      const bin = join(consumer, 'node_modules/.bin/latent-langevin');

      const version = sh(bin, ['--version'], { cwd: consumer });
      const run = sh(
        bin,
        ['sample', 'moons.onnx', '-w', '30', '-n', '30', '-o', 'run.npz', '--plot', 'run.png'],
        { cwd: consumer },
      );

      expect(version.stdout.trim()).toBe(manifest('packages/cli').version);
      expect(run.stdout).toMatch(/^tempered\(beta=1\) on moons\.onnx/);
      expect(readFileSync(join(consumer, 'run.npz')).subarray(0, 2).toString()).toBe('PK');
      expect(readFileSync(join(consumer, 'run.png')).subarray(1, 4).toString()).toBe('PNG');
    });

    it('says that bench needs the repository checkout, in one line with exit status 1', () => {
      const bin = join(consumer, 'node_modules/.bin/latent-langevin');

      const result = sh(bin, ['bench'], { cwd: consumer, allowFailure: true });

      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(
        /private and not published: this command runs only inside a clone/,
      );
    });
  });
});
