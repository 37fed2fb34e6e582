/**
 * Deterministic YAML for rendered configs: mapping keys sorted at every level (lists keep their
 * order — pipeline and policy order mean something), the top level in a fixed order, no line
 * folding, LF endings, a comment header. Identical input gives identical bytes.
 */
import { stringify } from 'yaml';

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy with every mapping's keys sorted; `undefined` members are dropped. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareKeys)) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

/**
 * YAML text of `value`: top-level keys in `topOrder` first (in that order), any others after
 * them sorted; everything below sorted. `header` lines become `# ` comments.
 */
export function canonicalYaml(value: Record<string, unknown>, header: readonly string[] = [], topOrder: readonly string[] = []): string {
  const ordered: Record<string, unknown> = {};
  const rest = Object.keys(value).filter((k) => !topOrder.includes(k)).sort(compareKeys);
  for (const key of [...topOrder.filter((k) => k in value), ...rest]) {
    const v = value[key];
    if (v !== undefined) ordered[key] = sortKeysDeep(v);
  }
  const body = stringify(ordered, { version: '1.1', lineWidth: 0, minContentWidth: 0, indent: 2, indentSeq: true, sortMapEntries: false, aliasDuplicateObjects: false });
  const comment = header.map((l) => (l ? `# ${l}` : '#')).join('\n');
  return `${comment ? `${comment}\n` : ''}${body}`;
}
