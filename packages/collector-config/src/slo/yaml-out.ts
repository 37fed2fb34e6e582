import { stringify } from 'yaml';

/**
 * Deterministic YAML for generated files: key order as built, no line folding (PromQL stays on
 * one line), a comment header, LF endings.
 */
export function toYaml(value: unknown, header: string): string {
  const body = stringify(value, { lineWidth: 0, minContentWidth: 0, indent: 2, indentSeq: true, sortMapEntries: false, aliasDuplicateObjects: false });
  const comment = header
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => `# ${l}`)
    .join('\n');
  return `${comment ? `${comment}\n` : ''}${body}`;
}
