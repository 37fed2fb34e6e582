/**
 * Prometheus series selectors — `name{label="v",other=~"re"}` — the only query shape an SLO
 * may hold: the generated rules wrap it as `sum(rate(<selector>[window]))`, and the service's
 * embedded evaluator matches it against stored series with `matchesSelector`.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
}

export interface SeriesSelector {
  /** The metric name written before `{`, if any (a `__name__` matcher is kept as a matcher). */
  metricName?: string;
  /** Matchers in the order written. */
  matchers: readonly LabelMatcher[];
  /** Canonical PromQL text: `name{a="b",c=~"d"}`, values double-quoted and escaped. */
  text: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses one series selector; throws `Error` with a message fit for the user on anything else. */
export function parseSelector(input: string): SeriesSelector {
  let pos = 0;
  const src = input;
  const skipSpace = (): void => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${pos + 1} of \`${input.trim()}\``);
  };

  skipSpace();
  let metricName: string | undefined;
  const name = METRIC_NAME.exec(src.slice(pos));
  if (name) {
    metricName = name[0];
    pos += metricName.length;
    skipSpace();
  }
  const matchers: LabelMatcher[] = [];
  if (src[pos] === '{') {
    pos++;
    skipSpace();
    while (src[pos] !== '}') {
      const label = LABEL_NAME.exec(src.slice(pos));
      if (!label) fail('expected a label name');
      pos += label![0].length;
      skipSpace();
      const op = (['=~', '!~', '!=', '='] as const).find((o) => src.startsWith(o, pos));
      if (!op) fail('expected one of = != =~ !~');
      pos += op!.length;
      skipSpace();
      const [value, next] = readString(src, pos, fail);
      pos = next;
      matchers.push({ name: label![0], op: op!, value });
      skipSpace();
      if (src[pos] === ',') {
        pos++;
        skipSpace();
      } else if (src[pos] !== '}') {
        fail('expected "," or "}"');
      }
    }
    pos++;
    skipSpace();
  }
  if (pos < src.length) fail('a series selector ends here; functions, ranges, offsets and operators belong to the generated rules');
  if (metricName === undefined && matchers.length === 0) fail('expected a metric name or "{"');
  for (const m of matchers) {
    if (m.op === '=~' || m.op === '!~') {
      try {
        compileRegex(m.value);
      } catch (e) {
        throw new Error(`${m.name}${m.op}"${m.value}" is not a regular expression this tooling understands: ${(e as Error).message}`, { cause: e });
      }
    }
  }
  if (metricName === undefined && matchers.every((m) => matcherMatches(m, ''))) {
    throw new Error(`\`${input.trim()}\` needs a metric name or at least one matcher that does not match the empty string`);
  }
  const selector: Omit<SeriesSelector, 'text'> = metricName === undefined ? { matchers } : { metricName, matchers };
  return { ...selector, text: formatSelector(selector) };
}

function readString(src: string, start: number, fail: (what: string) => never): [string, number] {
  const quote = src[start];
  if (quote !== '"' && quote !== "'" && quote !== '`') return fail('expected a quoted label value');
  let pos = start + 1;
  if (quote === '`') {
    const end = src.indexOf('`', pos);
    if (end < 0) fail('unterminated raw string');
    return [src.slice(pos, end), end + 1];
  }
  let out = '';
  for (;;) {
    if (pos >= src.length) fail('unterminated string');
    const c = src[pos]!;
    if (c === quote) return [out, pos + 1];
    if (c === '\n') fail('newline inside a string');
    if (c !== '\\') {
      out += c;
      pos++;
      continue;
    }
    const e = src[pos + 1];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (e !== undefined && e in simple) {
      out += simple[e];
      pos += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = src.slice(pos + 2, pos + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(`bad \\${e} escape`);
      out += String.fromCodePoint(parseInt(hex, 16));
      pos += 2 + len;
    } else {
      fail(`unknown escape \\${e ?? ''} (write a regex backslash as \\\\)`);
    }
  }
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Canonical text of a selector (what the rules contain). */
export function formatSelector(selector: Pick<SeriesSelector, 'metricName' | 'matchers'>): string {
  const body = selector.matchers.map((m) => `${m.name}${m.op}${quote(m.value)}`).join(',');
  return `${selector.metricName ?? ''}${body || selector.metricName === undefined ? `{${body}}` : ''}`;
}

/**
 * Prometheus regexes are RE2, fully anchored, with `.` matching newlines; JavaScript accepts
 * the common subset (and a leading `(?i)`). A regex JavaScript cannot compile is refused
 * rather than guessed at.
 */
export function compileRegex(re: string): RegExp {
  // RE2's leading case-insensitive flag is JavaScript's `i`.
  if (re.startsWith('(?i)')) return new RegExp(`^(?:${re.slice(4)})$`, 'si');
  return new RegExp(`^(?:${re})$`, 's');
}

function matcherMatches(m: LabelMatcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return compileRegex(m.value).test(value);
    case '!~':
      return !compileRegex(m.value).test(value);
  }
}

/** Whether a series (its labels, `__name__` included) is selected; a missing label is "". */
export function matchesSelector(selector: Pick<SeriesSelector, 'metricName' | 'matchers'>, labels: Readonly<Record<string, string>>): boolean {
  if (selector.metricName !== undefined && labels['__name__'] !== selector.metricName) return false;
  return selector.matchers.every((m) => matcherMatches(m, labels[m.name] ?? ''));
}

/**
 * Labels of `absent(<selector>)`'s result, as Prometheus builds them: each label with exactly
 * one matcher, an equality, keeps its value; the metric name never appears.
 */
export function absentLabels(selector: Pick<SeriesSelector, 'matchers'>): Record<string, string> {
  const counts = new Map<string, number>();
  for (const m of selector.matchers) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  const out: Record<string, string> = {};
  for (const m of selector.matchers) {
    if (m.name === '__name__' || m.op !== '=' || counts.get(m.name) !== 1 || m.value === '') continue;
    out[m.name] = m.value;
  }
  return out;
}

/** Top-level alternatives of a regex (`a|b(c|d)` → `a`, `b(c|d)`). */
function alternatives(re: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let cur = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      cur += c + (re[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** The literal a regex alternative spells, if it is one (`5\.0` → `5.0`). */
function literalOf(alt: string): string | undefined {
  let out = '';
  for (let i = 0; i < alt.length; i++) {
    const c = alt[i]!;
    if (c === '\\') {
      const n = alt[i + 1];
      if (n === undefined || /[a-zA-Z0-9]/.test(n)) return undefined;
      out += n;
      i++;
    } else if ('.^$*+?()[]{}|'.includes(c)) {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * A string a simple regex matches (`5..` → `5xx`, `[45]0[0-9]` → `400`): the first branch of
 * each alternation, no optional parts, the first character of a class. Undefined for syntax
 * it does not know; the caller checks the result against the real regex anyway.
 */
function regexExample(re: string): string | undefined {
  let i = re.startsWith('(?i)') ? 4 : 0;
  let ok = true;
  const classChar = (): string => {
    // At the character after "[".
    const negated = re[i] === '^';
    if (negated) i++;
    const members: string[] = [];
    let first = true;
    while (i < re.length && (re[i] !== ']' || first)) {
      first = false;
      let c = re[i]!;
      if (c === '\\') {
        const n = re[i + 1] ?? '';
        c = n === 'd' ? '0' : n === 'w' ? 'a' : n;
        i += 2;
      } else {
        i++;
      }
      if (re[i] === '-' && re[i + 1] !== ']' && i + 1 < re.length) {
        const end = re[i + 1]!;
        for (let code = c.charCodeAt(0); code <= end.charCodeAt(0) && members.length < 200; code++) members.push(String.fromCharCode(code));
        i += 2;
      } else {
        members.push(c);
      }
    }
    i++; // "]"
    if (!negated) return members[0] ?? '';
    return ['x', '0', 'a', '_'].find((c) => !members.includes(c)) ?? ((ok = false), '');
  };
  const sequence = (): string => {
    let out = '';
    while (i < re.length && re[i] !== '|' && re[i] !== ')') {
      const c = re[i]!;
      let atom: string;
      if (c === '(') {
        i++;
        if (re.startsWith('?:', i)) i += 2;
        else if (re[i] === '?') ok = false;
        atom = alternation();
        if (re[i] !== ')') ok = false;
        i++;
      } else if (c === '[') {
        i++;
        atom = classChar();
      } else if (c === '\\') {
        const n = re[i + 1] ?? '';
        atom = n === 'd' ? '0' : n === 'w' ? 'a' : n === 's' ? ' ' : /[a-zA-Z0-9]/.test(n) ? ((ok = false), '') : n;
        i += 2;
      } else if (c === '.') {
        atom = 'x';
        i++;
      } else if (c === '^' || c === '$') {
        atom = '';
        i++;
      } else {
        atom = c;
        i++;
      }
      const q = re[i];
      if (q === '*' || q === '?') {
        atom = '';
        i++;
      } else if (q === '+') {
        i++;
      } else if (q === '{') {
        const m = /^\{(\d+)(,\d*)?\}/.exec(re.slice(i));
        if (!m) ok = false;
        else {
          atom = atom.repeat(Number(m[1]));
          i += m[0].length;
        }
      }
      if (re[i] === '?' && (q === '*' || q === '+' || q === '?' || q === '{')) i++;
      out += atom;
    }
    return out;
  };
  const alternation = (): string => {
    const first = sequence();
    while (re[i] === '|') {
      i++;
      sequence();
    }
    return first;
  };
  const example = alternation();
  return ok && i >= re.length ? example : undefined;
}

/**
 * One concrete series the selector selects, for promtool test input: equality values, the
 * first literal alternative of a regex, and labels left out where an empty value matches.
 * Returns undefined when no such series can be named.
 */
export function exampleSeries(selector: Pick<SeriesSelector, 'metricName' | 'matchers'>): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  if (selector.metricName !== undefined) labels['__name__'] = selector.metricName;
  const byLabel = new Map<string, LabelMatcher[]>();
  for (const m of selector.matchers) byLabel.set(m.name, [...(byLabel.get(m.name) ?? []), m]);
  for (const [name, ms] of byLabel) {
    const candidates: string[] = [];
    if (name === '__name__' && labels['__name__'] !== undefined) candidates.push(labels['__name__']);
    for (const m of ms) {
      if (m.op === '=') candidates.push(m.value);
      if (m.op === '=~') {
        for (const alt of alternatives(m.value)) {
          const lit = literalOf(alt);
          if (lit !== undefined) candidates.push(lit);
        }
        const example = regexExample(m.value);
        if (example !== undefined) candidates.push(example);
      }
    }
    candidates.push('', 'example');
    const value = candidates.find((v) => ms.every((m) => matcherMatches(m, v)) && (name !== '__name__' || v !== ''));
    if (value === undefined) return undefined;
    if (value !== '') labels[name] = value;
  }
  if (labels['__name__'] === undefined) return undefined;
  return labels;
}

/** Series text as promtool's input_series writes it: `name{a="b"}`, labels sorted. */
export function formatSeries(labels: Readonly<Record<string, string>>): string {
  const body = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${quote(labels[k]!)}`)
    .join(',');
  return `${labels['__name__'] ?? ''}{${body}}`;
}
