/**
 * The `--target` option: `base`, `tempered[:beta]`, or `pullback:<module>`, where the module
 * exports the data-space log-density `(x, n) => { logDensity, gradient? }`.
 */
import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type DataLogDensity,
  type LatentTarget,
  base,
  pullback,
  tempered,
} from '@latent-langevin/core';
import { CliError, usageError } from './cli-error.js';

/** A parsed `--target`, before any module is loaded. */
export type TargetSpec =
  | { readonly kind: 'base' }
  | { readonly kind: 'tempered'; readonly beta: number }
  | { readonly kind: 'pullback'; readonly module: string };

const FORMS = "'base', 'tempered', 'tempered:<beta>' or 'pullback:<module.mjs>'";

/**
 * Parses a `--target` value.
 *
 * @param value e.g. `tempered:0.5`; `tempered` alone means beta = 1
 * @throws CliError (usage) for an unknown form or a beta that is not a finite number >= 0
 * @example
 * ```ts
 * parseTargetSpec('tempered:0.5'); // { kind: 'tempered', beta: 0.5 }
 * ```
 */
export function parseTargetSpec(value: string): TargetSpec {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const argument = colon < 0 ? null : value.slice(colon + 1);
  if (name === 'base' && argument === null) return { kind: 'base' };
  if (name === 'tempered') {
    const beta = argument === null ? 1 : Number(argument);
    if (argument === '' || !Number.isFinite(beta) || beta < 0) {
      throw usageError(
        `--target ${value}: beta must be a finite number >= 0; received '${argument}'. ` +
          'Pass e.g. --target tempered:1 (the flow density) or tempered:0.5.',
      );
    }
    return { kind: 'tempered', beta };
  }
  if (name === 'pullback') {
    if (argument === null || argument === '') {
      throw usageError(
        `--target ${value}: pullback needs a module. Pass --target pullback:./density.mjs, a ` +
          "module whose default or 'logDensity' export is (x, n) => { logDensity, gradient? }.",
      );
    }
    return { kind: 'pullback', module: argument };
  }
  throw usageError(`--target: unknown target '${value}'; expected ${FORMS}.`);
}

/** Names of a module's exports, for messages. */
function exportNames(module: Record<string, unknown>): string {
  const names = Object.keys(module);
  return names.length === 0 ? 'nothing' : `[${names.join(', ')}]`;
}

/**
 * Imports a pull-back module and returns its log-density: the named `logDensity` export, else
 * the default export.
 *
 * @param path the module, relative to `cwd` (`.mjs`, or `.js` in an ES-module package)
 * @throws CliError when the file is missing, fails to load, or exports no function
 */
export async function loadLogDensity(path: string, cwd: string): Promise<DataLogDensity> {
  const absolute = resolve(cwd, path);
  try {
    await access(absolute);
  } catch (error) {
    throw new CliError(
      'TARGET_MODULE_NOT_FOUND',
      `--target pullback:${path}: no file at '${absolute}'. Pass the path of an ES module ` +
        'that exports logDensity (x, n) => { logDensity, gradient? }.',
      { cause: error },
    );
  }
  const extension = extname(absolute);
  if (extension === '.ts' || extension === '.mts' || extension === '.cts') {
    throw new CliError(
      'TARGET_MODULE_TYPESCRIPT',
      `--target pullback:${path}: Node cannot import TypeScript here. Compile it to .mjs (e.g. ` +
        'with tsc) and pass that file.',
    );
  }

  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CliError(
      'TARGET_MODULE_FAILED',
      `--target pullback:${path}: the module failed to load (${reason}). Fix the module, and ` +
        'write it as an ES module (.mjs, or .js with "type": "module").',
      { cause: error },
    );
  }
  const candidate = typeof module.logDensity === 'function' ? module.logDensity : module.default;
  if (typeof candidate !== 'function') {
    throw new CliError(
      'TARGET_MODULE_NO_FUNCTION',
      `--target pullback:${path}: the module exports no function; expected a default or ` +
        `named 'logDensity' export (x, n) => { logDensity, gradient? }, found ` +
        `${exportNames(module)}.`,
    );
  }
  return candidate as DataLogDensity;
}

/**
 * Turns a parsed `--target` into a latent target, importing the pull-back module if there is
 * one.
 *
 * @throws CliError as {@link loadLogDensity}
 */
export async function createTarget(spec: TargetSpec, cwd: string): Promise<LatentTarget> {
  switch (spec.kind) {
    case 'base':
      return base();
    case 'tempered':
      return tempered({ beta: spec.beta });
    case 'pullback': {
      const logDensity = await loadLogDensity(spec.module, cwd);
      return pullback(logDensity);
    }
  }
}
