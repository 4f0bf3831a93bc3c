/**
 * A bounded reader of the Prometheus text exposition format (version 0.0.4): the samples of one
 * scrape as `{ name, labels, value }`. Comments and blank lines are skipped; a malformed line is
 * counted and skipped, never thrown, so one bad line cannot poison the rest of a scrape.
 */

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromParseResult {
  readonly samples: PromSample[];
  /** Lines that were neither a comment nor a valid sample. */
  readonly badLines: number;
  /** True when `maxSamples` stopped the reading early. */
  readonly truncated: boolean;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string): number | undefined {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Parse `{a="x",b="y"}` starting at `line[start] === '{'`; returns the labels and the index after `}`. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const m = LABEL_NAME.exec(line.slice(i));
    if (!m) return undefined;
    const name = m[0];
    i += name.length;
    while (line[i] === ' ') i++;
    if (line[i] !== '=') return undefined;
    i++;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') return undefined;
    i++;
    let value = '';
    for (;;) {
      if (i >= line.length) return undefined;
      const c = line[i]!;
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else return undefined;
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++;
    labels[name] = value;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') return undefined;
  }
}

export function parsePromText(text: string, maxSamples = 100_000): PromParseResult {
  const samples: PromSample[] = [];
  let badLines = 0;
  let truncated = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (samples.length >= maxSamples) {
      truncated = true;
      break;
    }
    const m = NAME.exec(line);
    if (!m) {
      badLines++;
      continue;
    }
    let rest = m[0].length;
    let labels: Record<string, string> = {};
    if (line[rest] === '{') {
      const l = parseLabels(line, rest);
      if (!l) {
        badLines++;
        continue;
      }
      labels = l.labels;
      rest = l.end;
    }
    const fields = line.slice(rest).trim().split(/\s+/);
    // value, then an optional integer timestamp
    const value = fields.length >= 1 && fields.length <= 2 ? parseValue(fields[0]!) : undefined;
    if (value === undefined || (fields.length === 2 && !/^-?\d+$/.test(fields[1]!))) {
      badLines++;
      continue;
    }
    samples.push({ name: m[0], labels, value });
  }
  return { samples, badLines, truncated };
}
