/**
 * Command-line entry of the experiments: `node packages/eval/dist/experiments/main.js [--quick]
 * [--out DIR] [--seeds 1,2,3]`. The only file of the package that writes to the terminal: one
 * progress line, rewritten in place on a terminal, then the paths of the written files.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { type ExperimentProgress, runExperiments } from './run-experiments.js';

const USAGE =
  'usage: node packages/eval/dist/experiments/main.js [--quick] [--out DIR] [--seeds 1,2,3]\n' +
  '  --quick       a smoke-test size that runs in seconds (default: the reported size)\n' +
  '  --out DIR     output folder (default: out/experiments)\n' +
  '  --seeds LIST  comma-separated integer seeds (default: 1,2,3,4,5; quick: 1,2)\n';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        out: { type: 'string', default: 'out/experiments' },
        seeds: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const seeds = values.seeds?.split(',').map((s) => Number(s.trim()));
  const outDir = resolve(values.out);
  const tty = process.stdout.isTTY === true;
  const line = (progress: ExperimentProgress) => {
    const seconds = (progress.elapsedMs / 1000).toFixed(0).padStart(4);
    const text = `[${progress.done}/${progress.total}] ${seconds} s  ${progress.message}`;
    if (tty) process.stdout.write(`\r\x1b[2K${text}`);
    else process.stdout.write(`${text}\n`);
  };

  const results = await runExperiments({
    size: values.quick ? 'quick' : 'default',
    outDir,
    ...(seeds === undefined ? {} : { seeds }),
    onProgress: line,
  });
  if (tty) process.stdout.write('\n');
  process.stdout.write(
    `done in ${(results.wallTimeMs / 1000).toFixed(1)} s; wrote ${outDir}/` +
      `{${[results.files.json, results.files.markdown, ...results.files.pictures].join(',')}}\n`,
  );
  for (const skip of results.skipped)
    process.stdout.write(`skipped ${skip.fixture}: ${skip.reason}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    process.exitCode = 1;
  },
);
