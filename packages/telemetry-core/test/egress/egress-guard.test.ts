import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEgress, createLogger, initTelemetry, isLoopbackAddress, sealedFromEnv, withSpan, type TelemetryHandle } from '../../src/index.js';

const sealed = { sealed: true } as const;
const resolveTo = (addresses: string[]) => async () => addresses;

describe('checkEgress', () => {
  it('allows anything when the installation is not sealed', async () => {
    expect(await checkEgress('https://otel.example.com:4318/v1/traces', { sealed: false })).toMatchObject({ allowed: true, reason: 'not_sealed' });
  });

  it('IPv4: loopback allowed, everything else blocked with a remediation', async () => {
    expect(await checkEgress('http://127.0.0.1:4318/v1/traces', sealed)).toMatchObject({ allowed: true, reason: 'loopback' });
    expect(await checkEgress('http://127.8.9.10:4318', sealed)).toMatchObject({ allowed: true });
    const blocked = await checkEgress('http://10.20.30.40:4318/v1/traces', sealed);
    expect(blocked).toMatchObject({ allowed: false, reason: 'non_loopback_address', endpoint: 'http://10.20.30.40:4318/v1/traces' });
    expect(blocked.remediation).toMatch(/loopback collector.*allowlist/);
    expect(await checkEgress('http://0.0.0.0:4318', sealed)).toMatchObject({ allowed: false });
  });

  it('IPv6: ::1 and IPv4-mapped loopback allowed, others blocked', async () => {
    expect(await checkEgress('http://[::1]:4318/v1/logs', sealed)).toMatchObject({ allowed: true, reason: 'loopback' });
    expect(await checkEgress('http://[::ffff:127.0.0.1]:4318', sealed)).toMatchObject({ allowed: true });
    expect(await checkEgress('http://[2001:db8::1]:4318', sealed)).toMatchObject({ allowed: false, reason: 'non_loopback_address' });
    expect(await checkEgress('http://[::ffff:10.0.0.1]:4318', sealed)).toMatchObject({ allowed: false });
    expect(isLoopbackAddress('fe80::1')).toBe(false);
  });

  it('host names: allowed only if every resolved address is loopback; unresolvable fails closed', async () => {
    expect(await checkEgress('http://collector.local:4318', { ...sealed, resolve: resolveTo(['127.0.0.1', '::1']) })).toMatchObject({ allowed: true, reason: 'loopback' });
    expect(await checkEgress('http://collector.local:4318', { ...sealed, resolve: resolveTo(['127.0.0.1', '192.168.1.9']) })).toMatchObject({
      allowed: false,
      reason: 'resolves_non_loopback',
      addresses: ['127.0.0.1', '192.168.1.9'],
    });
    const failing = async (): Promise<string[]> => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await checkEgress('http://nowhere.invalid:4318', { ...sealed, resolve: failing })).toMatchObject({ allowed: false, reason: 'unresolvable_host' });
    // The real resolver: localhost is loopback on every supported platform.
    expect(await checkEgress('http://localhost:4318', sealed)).toMatchObject({ allowed: true, reason: 'loopback' });
  });

  it('file: exporters: local paths allowed, remote (SMB/NFS style) hosts blocked', async () => {
    expect(await checkEgress('file:///var/spool/otel/traces.jsonl', sealed)).toMatchObject({ allowed: true, reason: 'local_file' });
    expect(await checkEgress('file://fileserver/share/traces.jsonl', sealed)).toMatchObject({ allowed: false, reason: 'remote_file' });
  });

  it('policy allowlist by host or origin; credentials never appear in the verdict', async () => {
    expect(await checkEgress('https://otel.enclave.corp:4318/v1/traces', { ...sealed, allowlist: ['otel.enclave.corp'] })).toMatchObject({ allowed: true, reason: 'allowlisted' });
    expect(await checkEgress('https://otel.enclave.corp:4318/v1/traces', { ...sealed, allowlist: ['https://otel.enclave.corp:4318'] })).toMatchObject({ allowed: true });
    expect(await checkEgress('https://otel.enclave.corp:9999/v1/traces', { ...sealed, allowlist: ['https://otel.enclave.corp:4318'], resolve: resolveTo(['10.1.1.1']) })).toMatchObject({ allowed: false });
    const v = await checkEgress('https://user:pa55word@10.1.1.1/v1/traces', sealed);
    expect(v.endpoint).not.toContain('pa55word');
    expect(await checkEgress('ftp://10.1.1.1/x', sealed)).toMatchObject({ allowed: false, reason: 'unsupported_scheme' });
    expect(await checkEgress('not a url', sealed)).toMatchObject({ allowed: false, reason: 'invalid_endpoint' });
  });

  it('reads STELLA_SEALED', () => {
    expect(sealedFromEnv({ STELLA_SEALED: '1' })).toBe(true);
    expect(sealedFromEnv({ STELLA_SEALED: 'true' })).toBe(true);
    expect(sealedFromEnv({})).toBe(false);
    // The service's words, in any case; an unknown value seals (the service refuses to start on it).
    for (const v of ['yes', 'ON', 'True']) expect(sealedFromEnv({ STELLA_SEALED: v })).toBe(true);
    for (const v of ['0', 'false', 'No', 'off', '']) expect(sealedFromEnv({ STELLA_SEALED: v })).toBe(false);
    expect(sealedFromEnv({ STELLA_SEALED: 'sealed-please' })).toBe(true);
  });
});

describe('initTelemetry in sealed mode', () => {
  let handle: TelemetryHandle | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    delete process.env['STELLA_SEALED'];
  });

  it('disables non-loopback exporters with one structured warning per endpoint, keeps loopback and file ones', async () => {
    process.env['STELLA_SEALED'] = '1';
    dir = mkdtempSync(join(tmpdir(), 'stella-egress-'));
    const lines: string[] = [];
    const logger = createLogger({ service: 'sealed-svc', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) });
    const traceFile = pathToFileURL(join(dir, 'traces.jsonl')).href;
    handle = await initTelemetry({
      service: 'sealed-svc',
      endpoint: 'http://10.9.8.7:4318',
      endpoints: { traces: traceFile },
      logger,
      sampling: { ratio: 1 },
      logs: { spillDir: join(dir, 'spill') },
    });
    expect(handle.egress.map((v) => [v.signal, v.allowed, v.reason])).toEqual([
      ['traces', true, 'local_file'],
      ['metrics', false, 'non_loopback_address'],
      ['logs', false, 'non_loopback_address'],
    ]);
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.action === 'telemetry.egress_blocked');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', resource: 'http://10.9.8.7:4318/v1/metrics http://10.9.8.7:4318/v1/logs' });
    expect(warnings[0].details.blocked).toEqual([
      { signal: 'metrics', endpoint: 'http://10.9.8.7:4318/v1/metrics', reason: 'non_loopback_address', addresses: ['10.9.8.7'] },
      { signal: 'logs', endpoint: 'http://10.9.8.7:4318/v1/logs', reason: 'non_loopback_address', addresses: ['10.9.8.7'] },
    ]);
    expect(warnings[0].details.remediation).toMatch(/allowlist/);
    expect(warnings[0].msg).toContain('http://10.9.8.7:4318/v1/metrics');
    // The allowed file exporter works: spans land in the file as OTLP/JSON.
    withSpan('test.sealed', {}, () => undefined);
    await handle.forceFlush();
    const { readFileSync } = await import('node:fs');
    const exported = JSON.parse(readFileSync(join(dir, 'traces.jsonl'), 'utf8').trim().split('\n')[0]!);
    expect(exported.resourceSpans[0].scopeSpans[0].spans[0].name).toBe('test.sealed');
    expect(handle.stats().exportFailures).toEqual({ traces: 0, metrics: 0, logs: 0 });
  });
});
