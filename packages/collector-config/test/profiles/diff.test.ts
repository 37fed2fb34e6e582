/** Semantic diff of profiles: behaviour changes only, never formatting. */
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { diffProfiles, formatProfileDiff, renderProfile } from '../../src/index.ts';

describe('diffProfiles', () => {
  it('finds nothing between a profile and itself, its YAML, or its YAML re-ordered and re-commented', () => {
    const r = renderProfile('default');
    expect(diffProfiles(r, r)).toEqual([]);
    expect(diffProfiles(r, r.yaml)).toEqual([]);
    const header = r.yaml.split('\n').filter((l) => l.startsWith('# stellaops.')).join('\n');
    const reordered = `${header}\n# a comment an operator added\n${stringify(parse(r.yaml), { sortMapEntries: true, indent: 4 })}`;
    expect(diffProfiles(r.yaml, reordered)).toEqual([]);
  });

  it('default → forensic: sampling, retries, the archive exporters and their pipelines', () => {
    const changes = diffProfiles(renderProfile('default'), renderProfile('forensic'));
    const text = formatProfileDiff(changes);
    expect(text).toContain('~ processors.tail_sampling.decision_wait: "10s" → "30s"');
    expect(text).toContain('- processors.tail_sampling.policies[name=errors].and: ');
    expect(text).toContain('~ processors.tail_sampling.policies[name=errors].type: "and" → "status_code"');
    expect(text).toContain('~ processors.tail_sampling.policies[name=baseline].probabilistic.sampling_percentage: 10 → 25');
    expect(text).toContain('+ exporters.file/traces: ');
    expect(text).toContain('~ service.pipelines.traces.exporters: ["otlp/tempo"] → ["otlp/tempo","file/traces"]');
    expect(text).toContain('~ extensions.file_storage/queue.directory: "/var/lib/stellaops/otelcol/default/queue" → "/var/lib/stellaops/otelcol/forensic/queue"');
    expect(changes.every((c) => !c.path.startsWith('stellaops.'))).toBe(true);
  });

  it('reports list members added and removed where order means nothing, and the header\'s sealed mode', () => {
    const a = renderProfile('default', { tls: false });
    const b = renderProfile('default', { tls: false, sealed: true, policy: { version: 1, allowKeys: ['build_id'], redactKeys: ['iban'], egress: { allowlist: [] } } });
    const changes = diffProfiles(a, b);
    expect(changes).toEqual(
      expect.arrayContaining([
        { kind: 'changed', path: 'stellaops.sealed', before: false, after: true },
        { kind: 'added', path: 'processors.redaction/policy.ignored_keys[]', after: 'build_id' },
        { kind: 'added', path: 'processors.redaction/policy.blocked_key_patterns[]', after: '(?i)iban' },
      ]),
    );
    expect(changes.find((c) => c.path === 'stellaops.policy')?.kind).toBe('changed');
  });

  it('compares a pipeline\'s processors as an ordered whole', () => {
    const a = renderProfile('default').config;
    const b = structuredClone(a);
    b.service.pipelines['logs']!.processors = ['resourcedetection', 'memory_limiter', 'redaction/policy', 'transform/policy', 'batch'];
    expect(diffProfiles(a, b)).toEqual([
      {
        kind: 'changed',
        path: 'service.pipelines.logs.processors',
        before: ['memory_limiter', 'resourcedetection', 'redaction/policy', 'transform/policy', 'batch'],
        after: ['resourcedetection', 'memory_limiter', 'redaction/policy', 'transform/policy', 'batch'],
      },
    ]);
  });
});
