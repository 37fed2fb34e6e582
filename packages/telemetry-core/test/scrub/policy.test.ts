import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ALLOW_KEYS,
  DEFAULT_SCRUB_POLICY_FILE,
  ScrubError,
  compileScrubPolicy,
  loadScrubPolicy,
  scrubText,
  scrubValue,
} from '../../src/scrub/index.js';

const dir = mkdtempSync(join(tmpdir(), 'scrub-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScrubError);
    return (err as ScrubError).code;
  }
  return undefined;
}

describe('allowlist', () => {
  it('lets an allowlisted key pass untouched although a key rule matches it', () => {
    const record = { token_count: 512, session_ttl: '30m', token: 'x' };
    expect(scrubValue(record)).toEqual({ token_count: '[REDACTED:key]', session_ttl: '[REDACTED:key]', token: '[REDACTED:key]' });
    const policy = { allowKeys: ['Token_Count', 'session_ttl'] };
    expect(scrubValue(record, policy)).toEqual({ token_count: 512, session_ttl: '30m', token: '[REDACTED:key]' });
    expect(scrubValue({ nested: [{ TOKEN_COUNT: 3 }] }, policy)).toEqual({ nested: [{ TOKEN_COUNT: 3 }] });
  });

  it('passes default allowlisted keys untouched, value patterns included', () => {
    const value = { trace_id: 'a'.repeat(32), digest: 'sha256:' + 'b'.repeat(64), purl: 'pkg:npm/x@1.0.0' };
    expect(scrubValue(value)).toBe(value);
  });

  it('applies a free-text key only when it is allowlisted exactly', () => {
    const policy = compileScrubPolicy({ allowKeys: ['token_count'] });
    expect(scrubText('usage token_count=512 token=abc123', policy)).toBe('usage token_count=512 token=[REDACTED:key]');
  });
});

describe('policy files', () => {
  it('loads YAML and JSON with the same meaning', () => {
    const yaml = write('p.yaml', 'version: 1\nallowKeys: [token_count]\nredactKeys:\n  - ssn\nrepoRoot: /srv/app\n');
    const jsonFile = write('p.json', JSON.stringify({ version: 1, allowKeys: ['token_count'], redactKeys: ['ssn'], repoRoot: '/srv/app' }));
    const a = loadScrubPolicy(yaml);
    const b = loadScrubPolicy(jsonFile);
    expect(a).toEqual({ allowKeys: ['token_count'], redactKeys: ['ssn'], repoRoot: '/srv/app' });
    expect(b).toEqual(a);
    expect(scrubValue({ token_count: 1, customer_ssn: '1' }, a)).toEqual({ token_count: 1, customer_ssn: '[REDACTED:key]' });
    expect(scrubText('at x (/srv/app/src/a.ts:1:1)', a)).toBe('at x (src/a.ts:1:1)');
  });

  it('ships a default policy file whose allowlist is the built-in one', () => {
    const policy = loadScrubPolicy(DEFAULT_SCRUB_POLICY_FILE);
    expect([...(policy.allowKeys ?? [])].sort()).toEqual([...DEFAULT_ALLOW_KEYS].sort());
    for (const key of ['trace_id', 'span_id', 'parent_span_id', 'digest', 'sha256', 'purl', 'request_id', 'job_id', 'run_id', 'tenant_id']) {
      expect(policy.allowKeys).toContain(key);
    }
  });

  it.each([
    ['missing file', () => join(dir, 'nope.yaml'), 'SCRUB_POLICY_NOT_FOUND'],
    ['unreadable (a directory)', () => dir, 'SCRUB_POLICY_UNREADABLE'],
    ['bad YAML', () => write('bad.yaml', 'version: 1\nallowKeys: [a, b\n'), 'SCRUB_POLICY_PARSE_FAILED'],
    ['bad JSON', () => write('bad.json', '{"version": 1,'), 'SCRUB_POLICY_PARSE_FAILED'],
    ['no version', () => write('nov.yaml', 'allowKeys: [a]\n'), 'SCRUB_POLICY_INVALID'],
    ['wrong version', () => write('v2.yaml', 'version: 2\n'), 'SCRUB_POLICY_INVALID'],
    ['unknown field', () => write('unk.yaml', 'version: 1\nallowkeys: [a]\n'), 'SCRUB_POLICY_INVALID'],
    ['list of numbers', () => write('num.yaml', 'version: 1\nallowKeys: [1, 2]\n'), 'SCRUB_POLICY_INVALID'],
    ['empty key', () => write('empty.json', '{"version":1,"redactKeys":[""]}'), 'SCRUB_POLICY_INVALID'],
    ['not a mapping', () => write('list.yaml', '- a\n- b\n'), 'SCRUB_POLICY_INVALID'],
    ['tiny maxStringLength', () => write('max.yaml', 'version: 1\nmaxStringLength: 3\n'), 'SCRUB_POLICY_INVALID'],
  ])('rejects %s with a stable code', (_name, file, code) => {
    expect(codeOf(() => loadScrubPolicy(file()))).toBe(code);
  });

  it('names the file and the field in the message', () => {
    const file = write('unk2.yaml', 'version: 1\nallowList: [a]\n');
    expect(() => loadScrubPolicy(file)).toThrow(/unk2\.yaml: unknown field "allowList"/);
  });

  it('rejects invalid programmatic policies', () => {
    expect(codeOf(() => compileScrubPolicy({ allowKeys: 'trace_id' as unknown as string[] }))).toBe('SCRUB_POLICY_INVALID');
    expect(codeOf(() => compileScrubPolicy({ hashKey: '' }))).toBe('SCRUB_POLICY_INVALID');
  });
});
