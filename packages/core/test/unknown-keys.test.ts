import { closestKey, unknownKeyIssues } from '@latent-langevin/core';
import { describe, expect, it } from 'vitest';

const KNOWN = ['target', 'chains', 'seed', 'warmup', 'draws', 'stepSize', 'keepX'];

describe('closestKey', () => {
  it.each([
    ['warmUp', 'warmup'], // case only
    ['stepsize', 'stepSize'],
    ['seeed', 'seed'], // one insertion
    ['chians', 'chains'], // one swap
    ['draw', 'draws'], // one deletion
    ['keepx', 'keepX'],
  ])('suggests the key that %s misspells: %s', (key, expected) => {
    expect(closestKey(key, KNOWN)).toBe(expected);
  });

  it.each(['colour', 'x', 'iterations', 'verbose'])(
    'suggests nothing for %s, which is not near any key',
    (key) => {
      expect(closestKey(key, KNOWN)).toBeUndefined();
    },
  );
});

describe('unknownKeyIssues', () => {
  it('gives one line per key, with a suggestion or the list of keys', () => {
    expect(unknownKeyIssues(['warmUp', 'colour'], KNOWN)).toEqual([
      "options.warmUp is not an option; did you mean 'warmup'? Rename it.",
      `options.colour is not an option; expected one of [${KNOWN.join(', ')}]. Remove it, or ` +
        'correct its spelling.',
    ]);
  });

  it('names the path given as prefix', () => {
    expect(unknownKeyIssues(['dampening'], ['type', 'damping'], 'options.preconditioner')).toEqual([
      "options.preconditioner.dampening is not an option; did you mean 'damping'? Rename it.",
    ]);
  });
});
