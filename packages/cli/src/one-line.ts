/**
 * Collapses a message onto one line: the command line reports every failure as one line, and
 * the library's messages may list several problems on lines of their own.
 *
 * @example
 * ```ts
 * oneLine('f(): the flow breaks its contract:\n  - a\n  - b');
 * // 'f(): the flow breaks its contract: a; b'
 * ```
 */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim().replace(/^- /, ''))
    .filter((line) => line.length > 0)
    .reduce((text, line) => {
      if (text === '') return line;
      return /[:.;]$/.test(text) || line.startsWith('(') ? `${text} ${line}` : `${text}; ${line}`;
    }, '');
}
