/**
 * The telemetry policy file format: one versioned document for the attribute allowlist and the
 * sealed-mode egress allowlist, strictly validated, readable through a dependency-free subpath.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUILT_IN_ALLOW_KEYS,
  BUILT_IN_MAX_STRING_LENGTH,
  BUILT_IN_REDACT_KEYS,
  DEFAULT_TELEMETRY_POLICY_FILE,
  TelemetryPolicyError,
  egressEntryProblem,
  loadTelemetryPolicy,
  parseTelemetryPolicy,
} from '../../src/policy/index.js';
import { DEFAULT_ALLOW_KEYS, DEFAULT_MAX_STRING_LENGTH, DEFAULT_REDACT_KEYS, DEFAULT_SCRUB_POLICY_FILE, checkEgress, loadScrubPolicy, scrubValue } from '../../src/index.js';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'telemetry-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function failure(fn: () => unknown): TelemetryPolicyError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TelemetryPolicyError);
    return err as TelemetryPolicyError;
  }
  throw new Error('expected a TelemetryPolicyError');
}

describe('loadTelemetryPolicy', () => {
  it('reads the shipped default: the built-in allowlist, no extra rules, no egress', () => {
    const policy = loadTelemetryPolicy(DEFAULT_TELEMETRY_POLICY_FILE);
    expect(policy.version).toBe(1);
    expect([...policy.allowKeys].sort()).toEqual([...DEFAULT_ALLOW_KEYS].sort());
    expect(policy.redactKeys).toEqual([]);
    expect(policy.egress).toEqual({ allowlist: [] });
    expect(policy.repoRoot).toBeUndefined();
  });

  it('reads a scrub-policy file of the earlier format, and the scrub loader reads the new one', () => {
    const legacy = loadTelemetryPolicy(DEFAULT_SCRUB_POLICY_FILE);
    expect([...legacy.allowKeys].sort()).toEqual([...DEFAULT_ALLOW_KEYS].sort());
    expect(legacy.egress.allowlist).toEqual([]);
    const file = write('both.yaml', 'version: 1\nallowKeys: [token_count]\nredactKeys: [ssn]\negress:\n  allowlist: [otel.enclave.corp]\n');
    const scrub = loadScrubPolicy(file);
    expect(scrub).toEqual({ allowKeys: ['token_count'], redactKeys: ['ssn'] });
    expect(scrubValue({ token_count: 3, customer_ssn: 'x' }, scrub)).toEqual({ token_count: 3, customer_ssn: '[REDACTED:key]' });
  });

  it('gives YAML and JSON the same meaning', () => {
    const doc = {
      version: 1,
      allowKeys: ['token_count'],
      redactKeys: ['ssn'],
      repoRoot: '/srv/stellaops',
      maxStringLength: 4096,
      egress: { allowlist: ['otel.enclave.corp', 'https://10.0.0.5:4318'] },
    };
    const yaml = write(
      'p.yaml',
      'version: 1\nallowKeys: [token_count]\nredactKeys:\n  - ssn\nrepoRoot: /srv/stellaops\nmaxStringLength: 4096\negress:\n  allowlist:\n    - otel.enclave.corp\n    - "https://10.0.0.5:4318"\n',
    );
    const json = write('p.json', JSON.stringify(doc));
    expect(loadTelemetryPolicy(yaml)).toEqual(doc);
    expect(loadTelemetryPolicy(json)).toEqual(doc);
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.yaml'), 'TELEMETRY_POLICY_NOT_FOUND', undefined, /nope\.yaml: file not found/],
    ['a directory', () => dir, 'TELEMETRY_POLICY_UNREADABLE', undefined, /cannot read \(EISDIR\)/],
    ['bad YAML', () => write('bad.yaml', 'version: 1\nallowKeys: [a, b\n'), 'TELEMETRY_POLICY_PARSE_FAILED', undefined, /bad\.yaml: not valid YAML/],
    ['a duplicate key', () => write('dup.yaml', 'version: 1\nallowKeys: [a]\nallowKeys: [b]\n'), 'TELEMETRY_POLICY_PARSE_FAILED', undefined, /dup\.yaml: not valid YAML/],
    ['bad JSON', () => write('bad.json', '{"version": 1,'), 'TELEMETRY_POLICY_PARSE_FAILED', undefined, /bad\.json: not valid JSON/],
    ['a list', () => write('list.yaml', '- a\n'), 'TELEMETRY_POLICY_INVALID', undefined, /list\.yaml: expected a mapping with "version: 1"/],
    ['no version', () => write('nov.yaml', 'allowKeys: [a]\n'), 'TELEMETRY_POLICY_INVALID', 'version', /"version" must be 1 \(got nothing\)/],
    ['version 2', () => write('v2.yaml', 'version: 2\n'), 'TELEMETRY_POLICY_INVALID', 'version', /"version" must be 1 \(got 2\)/],
    ['an unknown field', () => write('unk.yaml', 'version: 1\negres: {}\n'), 'TELEMETRY_POLICY_INVALID', 'egres', /unk\.yaml: unknown field "egres" \(allowed: version, allowKeys, redactKeys, repoRoot, maxStringLength, egress\)/],
    ['an unknown egress field', () => write('unke.yaml', 'version: 1\negress:\n  allow: [a]\n'), 'TELEMETRY_POLICY_INVALID', 'egress.allow', /unknown field "egress\.allow" \(allowed: egress\.allowlist\)/],
    ['allowKeys not a list', () => write('al.yaml', 'version: 1\nallowKeys: trace_id\n'), 'TELEMETRY_POLICY_INVALID', 'allowKeys', /"allowKeys" must be a list of non-empty strings/],
    ['a number in redactKeys', () => write('num.yaml', 'version: 1\nredactKeys: [ssn, 7]\n'), 'TELEMETRY_POLICY_INVALID', 'redactKeys[1]', /item 1 is 7/],
    ['a relative repoRoot', () => write('rr.yaml', 'version: 1\nrepoRoot: srv/app\n'), 'TELEMETRY_POLICY_INVALID', 'repoRoot', /"repoRoot" must be an absolute path/],
    ['a tiny maxStringLength', () => write('max.yaml', 'version: 1\nmaxStringLength: 3\n'), 'TELEMETRY_POLICY_INVALID', 'maxStringLength', /integer ≥ 64 \(got 3\)/],
    ['a fractional maxStringLength', () => write('maxf.yaml', 'version: 1\nmaxStringLength: 100.5\n'), 'TELEMETRY_POLICY_INVALID', 'maxStringLength', /integer ≥ 64/],
    ['egress as a list', () => write('eg.yaml', 'version: 1\negress: [a]\n'), 'TELEMETRY_POLICY_INVALID', 'egress', /"egress" must be a mapping/],
    ['a CIDR range', () => write('cidr.yaml', 'version: 1\negress:\n  allowlist: [otel.corp, 10.0.0.0/8]\n'), 'TELEMETRY_POLICY_INVALID', 'egress.allowlist[1]', /item 1 "10\.0\.0\.0\/8": CIDR ranges are not supported/],
    ['a wildcard', () => write('wild.yaml', 'version: 1\negress:\n  allowlist: ["*.corp"]\n'), 'TELEMETRY_POLICY_INVALID', 'egress.allowlist[0]', /wildcards are not supported/],
    ['a URL with a path', () => write('path.yaml', 'version: 1\negress:\n  allowlist: ["https://otel.corp:4318/v1/traces"]\n'), 'TELEMETRY_POLICY_INVALID', 'egress.allowlist[0]', /an origin has no path.*use https:\/\/otel\.corp:4318/],
  ])('rejects %s with a stable code, naming the file and the field', (_name, file, code, field, message) => {
    const err = failure(() => loadTelemetryPolicy(file()));
    expect(err.code).toBe(code);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`telemetry policy ${err.file}: `)).toBe(true);
  });

  it('keeps the scrub loader its own error codes and message prefix', () => {
    const file = write('scrub-bad.yaml', 'version: 1\nallowList: [a]\n');
    expect(() => loadScrubPolicy(file)).toThrow(/^scrub policy .*scrub-bad\.yaml: unknown field "allowList"/);
    expect(() => loadScrubPolicy(file)).toThrow(expect.objectContaining({ code: 'SCRUB_POLICY_INVALID' }));
  });

  it('parses text given with a name, for readers that hold the content already', () => {
    expect(parseTelemetryPolicy('{"version":1}', 'inline.json').egress.allowlist).toEqual([]);
    expect(failure(() => parseTelemetryPolicy('version: 1\nredactKeys: [""]\n', 'inline.yaml')).message).toMatch(/^telemetry policy inline\.yaml: "redactKeys" must be a list of non-empty strings/);
  });
});

describe('egress allowlist entries', () => {
  const accepted: Array<[entry: string, endpoint: string]> = [
    ['otel.enclave.corp', 'https://otel.enclave.corp:4318/v1/traces'],
    ['OTEL.Enclave.corp', 'https://otel.enclave.corp/v1/traces'],
    ['10.0.0.5', 'http://10.0.0.5:4318/v1/metrics'],
    ['fd00::1', 'http://[fd00::1]:4318/v1/logs'],
    ['[fd00::1]', 'http://[fd00::1]:4318/v1/logs'],
    ['otel.enclave.corp:4318', 'https://otel.enclave.corp:4318/v1/traces'],
    ['[fd00::1]:4318', 'http://[fd00::1]:4318/v1/traces'],
    ['https://otel.enclave.corp:4318', 'https://otel.enclave.corp:4318/v1/traces'],
    ['https://otel.enclave.corp:4318/', 'https://otel.enclave.corp:4318/v1/traces'],
    ['grpc://10.0.0.5:4317', 'grpc://10.0.0.5:4317'],
    ['https://otel.enclave.corp:443', 'https://otel.enclave.corp/v1/traces'],
  ];

  it.each(accepted)('accepts %s, and the sealed-mode guard lets the matching endpoint through', async (entry, endpoint) => {
    expect(egressEntryProblem(entry)).toBeUndefined();
    const verdict = await checkEgress(endpoint, { sealed: true, allowlist: [entry], resolve: async () => ['192.0.2.10'] });
    expect(verdict).toMatchObject({ allowed: true, reason: 'allowlisted' });
  });

  it('matches no endpoint through the opaque origin of grpc: and file: URLs', async () => {
    const sealed = { sealed: true, allowlist: ['null'], resolve: async () => ['192.0.2.10'] };
    expect(await checkEgress('file://fileserver/share/traces.jsonl', sealed)).toMatchObject({ allowed: false, reason: 'remote_file' });
    expect(await checkEgress('grpc://192.0.2.10:4317', sealed)).toMatchObject({ allowed: false });
  });

  it.each([
    ['10.0.0.0/8', /CIDR/],
    ['fd00::/8', /CIDR/],
    ['*.enclave.corp', /wildcards/],
    ['otel.corp/v1', /paths are not supported/],
    ['https://user:pw@otel.corp', /credentials/],
    ['https://otel.corp:4318/v1/traces', /no path/],
    ['https://otel.corp?x=1', /no path, query/],
    ['ftp://otel.corp', /not an exporter scheme/],
    ['otel.corp:99999', /not a port/],
    ['otel corp', /spaces/],
    ['-bad-.corp', /is not a host name/],
    ['null', /is not a host name/],
  ])('refuses %s', (entry, problem) => {
    expect(egressEntryProblem(entry)).toMatch(problem);
  });
});

describe('the @stellaops/telemetry-core/policy subpath', () => {
  it('is exported and imports node built-ins and yaml only', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, string>> };
    expect(pkg.exports['./policy']).toEqual({
      '@stellaops/source': './src/policy/index.ts',
      types: './dist/policy/index.d.ts',
      import: './dist/policy/index.js',
    });
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName).replace(/\.js$/, '.ts'));
        else external.add(fileName);
      }
    };
    visit(join(PACKAGE, 'src/policy/index.ts'));
    expect([...seen].map((f) => f.slice(PACKAGE.length + 1)).sort()).toEqual(['src/policy/index.ts', 'src/policy/telemetry-policy.ts']);
    for (const spec of external) expect(spec === 'yaml' || spec.startsWith('node:')).toBe(true);
  });

  it('carries the built-in key lists the scrubber applies, so other readers enforce the same ones', () => {
    expect(BUILT_IN_ALLOW_KEYS).toBe(DEFAULT_ALLOW_KEYS);
    expect(BUILT_IN_REDACT_KEYS).toBe(DEFAULT_REDACT_KEYS);
    expect(BUILT_IN_MAX_STRING_LENGTH).toBe(DEFAULT_MAX_STRING_LENGTH);
    expect(Object.isFrozen(BUILT_IN_ALLOW_KEYS) && Object.isFrozen(BUILT_IN_REDACT_KEYS)).toBe(true);
  });
});
