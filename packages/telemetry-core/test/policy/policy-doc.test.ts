/**
 * The example in docs/redaction-and-privacy.md ("Policy file") is loaded as written, sets every
 * field the table documents, and starts an instance.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEgress, createLogger, createTelemetry, loadTelemetryPolicy } from '../../src/index.js';
import { captureStream } from '../helpers.js';

const DOC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../docs/redaction-and-privacy.md');
const dir = mkdtempSync(join(tmpdir(), 'telemetry-policy-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policySection(): string {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf('\n## Policy file\n');
  expect(start).toBeGreaterThan(-1);
  const next = text.indexOf('\n## ', start + 1);
  return text.slice(start, next === -1 ? undefined : next);
}

describe('docs: Policy file', () => {
  const section = policySection();
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  const fields = [...section.matchAll(/^\| `([a-zA-Z.]+)` \|/gm)].map((m) => m[1]!);

  it('has an example and a field table', () => {
    expect(example).toBeDefined();
    expect(fields).toEqual(['version', 'allowKeys', 'redactKeys', 'repoRoot', 'maxStringLength', 'egress.allowlist']);
  });

  it('loads the example as written, with every documented field set', async () => {
    const file = join(dir, 'telemetry-policy.yaml');
    writeFileSync(file, example!);
    const policy = loadTelemetryPolicy(file) as unknown as Record<string, unknown>;
    for (const field of fields) {
      const value = field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], policy);
      expect(value, field).toBeDefined();
      if (Array.isArray(value)) expect(value.length, field).toBeGreaterThan(0);
    }
    const egress = (policy['egress'] as { allowlist: string[] }).allowlist;
    // Each documented entry form lets the guard through an endpoint on it.
    for (const entry of egress) {
      const host = entry.replace(/^[a-z]+:\/\//, '').replace(/:\d+$/, '');
      const port = /:(\d+)$/.exec(entry)?.[1] ?? '4318';
      const verdict = await checkEgress(`https://${host}:${port}/v1/traces`, { sealed: true, allowlist: [entry], resolve: async () => ['192.0.2.1'] });
      expect(verdict, entry).toMatchObject({ allowed: true, reason: 'allowlisted' });
    }

    const handle = await createTelemetry({
      service: 'policy-doc',
      endpoint: '',
      policyFile: file,
      policyReload: false,
      logger: createLogger({ service: 'policy-doc', destination: captureStream().stream }),
    });
    try {
      expect(handle.policy.file).toBe(file);
      expect(handle.policy.scrub.extraRedactKeys).toEqual(['ssn', 'badge']);
      expect(handle.policy.egressAllowlist).toEqual(egress);
    } finally {
      await handle.shutdown({ timeoutMs: 2000 });
    }
  });
});
