/**
 * Semantic diff of two profiles: what a Collector would do differently, not how the text
 * differs. Mappings are compared key by key, named list items (tail-sampling policies,
 * transform contexts) by name, lists whose order means nothing (allowlists, patterns) as sets,
 * and lists whose order means something (a pipeline's processors) as a whole. Comments, key
 * order and formatting never show up.
 */
import type { CollectorConfig } from './collector-config.js';
import { parseProfileYaml, type ProfileHeader, type RenderedProfile } from './render.js';

export type ProfileChangeKind = 'added' | 'removed' | 'changed';

export interface ProfileChange {
  kind: ProfileChangeKind;
  /** Where: `processors.tail_sampling.decision_wait`, `processors.tail_sampling.policies[name=errors]`, `stellaops.sealed`. */
  path: string;
  /** The value in the first profile (absent for `added`). */
  before?: unknown;
  /** The value in the second profile (absent for `removed`). */
  after?: unknown;
}

type Input = RenderedProfile | CollectorConfig | string;

function normalise(input: Input): { config: unknown; header: ProfileHeader } {
  if (typeof input === 'string') return parseProfileYaml(input);
  if ('yaml' in input && 'model' in input) {
    const m = input.model;
    return {
      config: input.config,
      header: { profile: m.name, distribution: m.distribution, sealed: m.sealed, exporterAllowlist: m.exporterAllowlist, policyDigest: m.redaction.policyDigest },
    };
  }
  return { config: input, header: {} };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function segment(key: string): string {
  return /^[A-Za-z0-9_/-]+$/.test(key) ? key : JSON.stringify(key);
}

function join(path: string, key: string): string {
  return path ? `${path}.${segment(key)}` : segment(key);
}

/** Lists whose order changes behaviour: compared whole. */
function ordered(path: string): boolean {
  return /^service\.pipelines\.[^.]+\.(processors|receivers|exporters)$/.test(path) || path.endsWith('.statements');
}

/** The field that names an item of a list of mappings, when every item has a distinct one. */
function nameField(items: unknown[]): string | undefined {
  for (const field of ['name', 'context']) {
    const names = items.map((x) => (isMap(x) && typeof x[field] === 'string' ? x[field] : undefined));
    if (names.every((n) => n !== undefined) && new Set(names).size === names.length) return field;
  }
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortDeep(a)) === JSON.stringify(sortDeep(b));
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isMap(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep(v[k])]));
  return v;
}

function walk(path: string, a: unknown, b: unknown, out: ProfileChange[]): void {
  if (equal(a, b)) return;
  if (a === undefined) {
    out.push({ kind: 'added', path, after: b });
    return;
  }
  if (b === undefined) {
    out.push({ kind: 'removed', path, before: a });
    return;
  }
  if (isMap(a) && isMap(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(join(path, key), a[key], b[key], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && !ordered(path)) {
    const fa = a.length ? nameField(a) : undefined;
    const fb = b.length ? nameField(b) : undefined;
    const field = a.length === 0 ? fb : b.length === 0 ? fa : fa === fb ? fa : undefined;
    if (field) {
      const byName = (list: unknown[]): Map<string, unknown> => new Map(list.map((x) => [(x as Record<string, string>)[field]!, x]));
      const ma = byName(a);
      const mb = byName(b);
      for (const name of [...new Set([...ma.keys(), ...mb.keys()])].sort()) walk(`${path}[${field}=${name}]`, ma.get(name), mb.get(name), out);
      return;
    }
    if ([...a, ...b].every((x) => !isMap(x) && !Array.isArray(x))) {
      const sa = new Map(a.map((x) => [JSON.stringify(x), x]));
      const sb = new Map(b.map((x) => [JSON.stringify(x), x]));
      for (const [k, v] of [...sa].sort(([x], [y]) => (x < y ? -1 : 1))) if (!sb.has(k)) out.push({ kind: 'removed', path: `${path}[]`, before: v });
      for (const [k, v] of [...sb].sort(([x], [y]) => (x < y ? -1 : 1))) if (!sa.has(k)) out.push({ kind: 'added', path: `${path}[]`, after: v });
      return;
    }
  }
  out.push({ kind: 'changed', path, before: a, after: b });
}

/** What differs between two profiles (rendered, configuration objects, or YAML text); empty when they behave alike. */
export function diffProfiles(a: Input, b: Input): ProfileChange[] {
  const na = normalise(a);
  const nb = normalise(b);
  const out: ProfileChange[] = [];
  const ha = na.header;
  const hb = nb.header;
  const headerView = (h: ProfileHeader): Record<string, unknown> => ({
    distribution: h.distribution ? `${h.distribution.name} ${h.distribution.version}` : undefined,
    sealed: h.sealed,
    exporter_allowlist: h.exporterAllowlist,
    policy: h.policyDigest,
  });
  walk('stellaops', headerView(ha), headerView(hb), out);
  walk('', na.config, nb.config, out);
  return out;
}

/** One line per change: `~ path: before → after`, `+ path: value`, `- path: value`. */
export function formatProfileDiff(changes: readonly ProfileChange[]): string {
  const show = (v: unknown): string => JSON.stringify(v);
  return changes
    .map((c) =>
      c.kind === 'added' ? `+ ${c.path}: ${show(c.after)}` : c.kind === 'removed' ? `- ${c.path}: ${show(c.before)}` : `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`,
    )
    .join('\n');
}
