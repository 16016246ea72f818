/**
 * Messages for option keys that a function does not know. A misspelt key silently dropped would
 * leave its option at the default (`warmUp: 5` running 500 warm-up iterations), so every options
 * parser of the library refuses unknown keys and names the closest valid one.
 */

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1.
 */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const table = new Uint16Array(rows * cols);
  for (let i = 0; i < rows; i++) table[i * cols] = i;
  for (let j = 0; j < cols; j++) table[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        table[(i - 1) * cols + j] + 1,
        table[i * cols + j - 1] + 1,
        table[(i - 1) * cols + j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, table[(i - 2) * cols + j - 2] + 1);
      }
      table[i * cols + j] = best;
    }
  }
  return table[rows * cols - 1];
}

/**
 * The known key closest to `key`, when it is near enough to be a misspelling of it: equal but
 * for case, or at most one edit in three characters away; otherwise undefined.
 *
 * @param key the key received
 * @param known the keys accepted
 * @example
 * ```ts
 * closestKey('warmUp', ['warmup', 'draws']); // 'warmup'
 * closestKey('speed', ['warmup', 'draws']); // undefined
 * ```
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/**
 * One error line per unknown key of an options object, each naming the key and the closest
 * valid one, or listing the valid keys when none is close.
 *
 * @param keys the keys received that are not options, e.g. from zod's `unrecognized_keys` issue
 * @param known every key the function accepts
 * @param prefix path of the options object in messages; default `options`
 * @returns one line per key, ready for an `InvalidArgumentError`
 * @example
 * ```ts
 * unknownKeyIssues(['warmUp'], ['target', 'warmup', 'draws']);
 * // ["options.warmUp is not an option; did you mean 'warmup'? Rename it."]
 * ```
 */
export function unknownKeyIssues(
  keys: readonly string[],
  known: readonly string[],
  prefix = 'options',
): string[] {
  return keys.map((key) => {
    const closest = closestKey(key, known);
    return closest === undefined
      ? `${prefix}.${key} is not an option; expected one of [${known.join(', ')}]. Remove it, ` +
          'or correct its spelling.'
      : `${prefix}.${key} is not an option; did you mean '${closest}'? Rename it.`;
  });
}
