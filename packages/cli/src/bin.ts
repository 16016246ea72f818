#!/usr/bin/env node
/**
 * The `latent-langevin` executable: runs the command line on the process's streams, cancels a
 * running command on the first Ctrl-C, stops quietly when the reader of its output goes away
 * (see broken-pipe.ts), and exits with the status `run()` returns.
 */
import { handleBrokenPipes } from './broken-pipe.js';
import { run } from './run.js';

handleBrokenPipes(process.stdout, process.stderr, (code) => process.exit(code));

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted (SIGINT)')));

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
