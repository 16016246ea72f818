/**
 * JSON text laid out as the repository's formatter (Prettier, 100 columns) lays it out, so that
 * a written RESULTS.json passes `prettier --check` unchanged: objects one key a line, arrays on
 * one line when they fit, otherwise numbers filled line by line and anything else one element
 * a line. NaN and infinities become `null`, as in `JSON.stringify`.
 */

const WIDTH = 100;

function primitive(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function isComposite(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function format(value: unknown, indent: string, prefix: number, suffix: number): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (!value.some(isComposite)) {
      const inline = `[${value.map(primitive).join(', ')}]`;
      if (prefix + inline.length + suffix <= WIDTH) return inline;
    }
    const inner = `${indent}  `;
    if (value.length > 1 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      // Prettier fills arrays of numbers: as many a line as fit, each with its comma.
      const lines: string[] = [];
      let line = inner + primitive(value[0]);
      for (let k = 1; k < value.length; k++) {
        const item = primitive(value[k]);
        const comma = k < value.length - 1 ? 1 : 0;
        if (line.length + 2 + item.length + comma <= WIDTH) {
          line += `, ${item}`;
        } else {
          lines.push(`${line},`);
          line = inner + item;
        }
      }
      lines.push(line);
      return `[\n${lines.join('\n')}\n${indent}]`;
    }
    const items = value.map(
      (item, k) => inner + format(item, inner, inner.length, k < value.length - 1 ? 1 : 0),
    );
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (isComposite(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    const lines = entries.map(([key, v], k) => {
      const head = `${inner}${JSON.stringify(key)}: `;
      return head + format(v, inner, head.length, k < entries.length - 1 ? 1 : 0);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return primitive(value);
}

/**
 * Serialises a JSON-compatible value the way Prettier formats a `.json` file, with a final
 * newline.
 *
 * @example
 * ```ts
 * await writeFile('RESULTS.json', formatJson(results));
 * ```
 */
export function formatJson(value: unknown): string {
  return `${format(value, '', 0, 0)}\n`;
}
