/**
 * What the benchmark ran on: CPU, cores, memory, Node, the ONNX Runtime builds and the versions
 * of this project's libraries, read from their package.json files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, freemem, totalmem, availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The machine and software of a benchmark run. */
export interface MachineInfo {
  /** CPU model as the OS reports it. */
  readonly cpuModel: string;
  /** Logical cores available to this process. */
  readonly cores: number;
  /** Total memory, GiB. */
  readonly memoryGiB: number;
  /** Free memory when the run started, GiB. */
  readonly freeMemoryGiB: number;
  /** Load averages over 1, 5 and 15 minutes when the run started (other jobs on the machine). */
  readonly loadAverage: readonly number[];
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  /** Versions of the runtimes and of this project's packages; `null` when not found. */
  readonly versions: Readonly<Record<string, string | null>>;
  /** ISO 8601 time the run started. */
  readonly date: string;
}

/** Root of the repository: `bench/src` (sources) and `bench/dist` (build) are two levels down. */
export function repositoryRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * Version of an installed package, found by walking up from `from` through `node_modules`
 * folders as Node's resolution does; `null` when it is not installed.
 *
 * @example
 * ```ts
 * packageVersion('onnxruntime-node', repositoryRoot()); // '1.30.0'
 * ```
 */
export function packageVersion(name: string, from: string): string | null {
  let dir = from;
  for (;;) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
        return typeof parsed.version === 'string' ? parsed.version : null;
      } catch {
        return null;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

const PACKAGES = [
  'onnxruntime-node',
  'onnxruntime-web',
  '@latent-langevin/core',
  '@latent-langevin/onnx',
  '@latent-langevin/finite-difference',
  '@latent-langevin/bench',
  '@latent-langevin/tfjs',
  '@tensorflow/tfjs',
] as const;

/**
 * Describes the machine and software this process runs on.
 *
 * @returns CPU model, cores, memory, load, Node and package versions, and the date
 * @example
 * ```ts
 * const machine = describeMachine();
 * console.log(`${machine.cpuModel}, ${machine.cores} cores`);
 * ```
 */
export function describeMachine(): MachineInfo {
  const root = join(repositoryRoot(), 'bench');
  const versions: Record<string, string | null> = {};
  for (const name of PACKAGES) versions[name] = packageVersion(name, root);
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: totalmem() / 2 ** 30,
    freeMemoryGiB: freemem() / 2 ** 30,
    loadAverage: loadavg(),
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    versions,
    date: new Date().toISOString(),
  };
}
