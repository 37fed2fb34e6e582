/**
 * A strict OpenMetrics 1.0 text parser for tests: it rejects what a Prometheus server in
 * OpenMetrics mode would reject (samples outside their family, bad suffixes, non-cumulative
 * buckets, exemplars on the wrong lines or outside their bucket, a missing `# EOF`).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: { labels: Record<string, string>; value: number; timestamp?: number };
}

export interface MetricFamily {
  name: string;
  type: string;
  unit?: string;
  help?: string;
  samples: Sample[];
}

const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  info: ['_info'],
  unknown: [''],
};

function parseNumber(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad number "${text}"`);
  return Number(text);
}

function parseLabels(text: string, pos: number): { labels: Record<string, string>; end: number } {
  if (text[pos] !== '{') throw new Error(`expected { at ${pos}`);
  const labels: Record<string, string> = {};
  let i = pos + 1;
  while (text[i] !== '}') {
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!m) throw new Error(`bad label name at ${i} in ${text}`);
    const name = m[0];
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new Error(`expected =" after ${name}`);
    i += 2;
    let value = '';
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error('unterminated label value');
      if (text[i] === '\\') {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : next;
        i += 2;
      } else {
        value += text[i];
        i += 1;
      }
    }
    i += 1;
    if (name in labels) throw new Error(`duplicate label ${name}`);
    labels[name] = value;
    if (text[i] === ',') i += 1;
    else if (text[i] !== '}') throw new Error(`expected , or } at ${i} in ${text}`);
  }
  return { labels, end: i + 1 };
}

export function parseOpenMetrics(text: string): MetricFamily[] {
  if (!text.endsWith('# EOF\n')) throw new Error('exposition must end with "# EOF"');
  const lines = text.slice(0, -'# EOF\n'.length).split('\n');
  if (lines.at(-1) === '') lines.pop();
  const families: MetricFamily[] = [];
  const seen = new Set<string>();
  let family: MetricFamily | undefined;
  for (const line of lines) {
    if (line.startsWith('#')) {
      const m = /^# (TYPE|UNIT|HELP) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
      if (!m) throw new Error(`bad comment line: ${line}`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (seen.has(name)) throw new Error(`family ${name} appears twice`);
        if (!(rest in SUFFIXES)) throw new Error(`unknown type ${rest}`);
        seen.add(name);
        family = { name, type: rest, samples: [] };
        families.push(family);
      } else {
        if (!family || family.name !== name) throw new Error(`${kind} for ${name} outside its family`);
        if (kind === 'UNIT') {
          if (!name.endsWith(`_${rest}`)) throw new Error(`family ${name} must end with its unit ${rest}`);
          family.unit = rest;
        } else family.help = rest;
      }
      continue;
    }
    if (!family) throw new Error(`sample before any TYPE: ${line}`);
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`bad sample line: ${line}`);
    const name = nameMatch[0];
    const suffix = name.slice(family.name.length);
    if (!name.startsWith(family.name) || !(SUFFIXES[family.type] ?? []).includes(suffix)) {
      throw new Error(`sample ${name} does not belong to family ${family.name} (${family.type})`);
    }
    let pos = name.length;
    let labels: Record<string, string> = {};
    if (line[pos] === '{') ({ labels, end: pos } = parseLabels(line, pos));
    if (line[pos] !== ' ') throw new Error(`expected space before value: ${line}`);
    const [valueAndTs, exemplarText] = line.slice(pos + 1).split(' # ');
    const parts = (valueAndTs as string).split(' ');
    if (parts.length > 2) throw new Error(`too many fields: ${line}`);
    const sample: Sample = { name, labels, value: parseNumber(parts[0] as string) };
    if (exemplarText !== undefined) {
      if (!(suffix === '_bucket' || suffix === '_total')) throw new Error(`exemplar not allowed on ${name}`);
      const ex = parseLabels(exemplarText, 0);
      const exParts = exemplarText.slice(ex.end).trim().split(' ');
      const exLabelChars = Object.entries(ex.labels).reduce((n, [k, v]) => n + k.length + v.length, 0);
      if (exLabelChars > 128) throw new Error('exemplar label set longer than 128 characters');
      sample.exemplar = { labels: ex.labels, value: parseNumber(exParts[0] as string) };
      if (exParts[1] !== undefined) sample.exemplar.timestamp = parseNumber(exParts[1]);
      if (suffix === '_bucket' && !(sample.exemplar.value <= parseNumber(labels['le'] ?? 'NaN'))) {
        throw new Error(`exemplar value ${sample.exemplar.value} outside bucket le=${labels['le']}`);
      }
    }
    family.samples.push(sample);
  }
  for (const f of families) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: MetricFamily): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name.endsWith('_bucket'))) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    let prev = -1;
    let prevLe = -Infinity;
    for (const b of buckets) {
      const le = parseNumber(b.labels['le'] as string);
      if (!(le > prevLe)) throw new Error(`buckets of ${f.name} not in increasing le order`);
      if (b.value < prev) throw new Error(`buckets of ${f.name} not cumulative`);
      prev = b.value;
      prevLe = le;
    }
    if (prevLe !== Infinity) throw new Error(`${f.name}${key} lacks a +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
    if (!count || count.value !== prev) throw new Error(`${f.name}${key}: _count must equal the +Inf bucket`);
  }
}
