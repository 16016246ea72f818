/**
 * The executable's policy for a reader that goes away (see broken-pipe.ts), on fake streams;
 * bin.test.ts checks it on real pipes.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { EXIT_BROKEN_PIPE, handleBrokenPipes } from '../src/broken-pipe.js';

/** A stream that records writes and emits the errors a test hands it. */
class FakeStream extends EventEmitter {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

const failure = (code: string, message: string) => Object.assign(new Error(message), { code });

function setUp() {
  const stdout = new FakeStream();
  const stderr = new FakeStream();
  const exits: number[] = [];
  handleBrokenPipes(stdout, stderr, (code) => exits.push(code));
  return { stdout, stderr, exits };
}

describe('handleBrokenPipes', () => {
  it('exits with status 0, writing nothing, on EPIPE on standard output', () => {
    const { stdout, stderr, exits } = setUp();

    stdout.emit('error', failure('EPIPE', 'write EPIPE'));

    expect(EXIT_BROKEN_PIPE).toBe(0);
    expect(exits).toEqual([0]);
    expect(stderr.text).toBe('');
  });

  it('exits with status 1 and one line on any other failure to write standard output', () => {
    const { stdout, stderr, exits } = setUp();

    stdout.emit('error', failure('ENOSPC', 'ENOSPC: no space left on device, write'));

    expect(exits).toEqual([1]);
    expect(stderr.text).toBe(
      'latent-langevin: cannot write to standard output (ENOSPC: no space left on device, ' +
        'write).\n',
    );
  });

  it('carries on when standard error is closed: its exit status still tells', () => {
    const { stderr, exits } = setUp();

    expect(() => stderr.emit('error', failure('EPIPE', 'write EPIPE'))).not.toThrow();
    expect(exits).toEqual([]);
  });
});
