import { describe, expect, it } from 'vitest';
import {
  CONTEXT_FIELDS,
  addLogSink,
  createLogger,
  extractTraceContext,
  openSpan,
  setBreadcrumbPredicate,
  withContext,
  withOtelContext,
} from '../../src/index.js';
import { captureStream } from '../helpers.js';

// Built at run time so no secret-looking literal sits in the repository.
const fakeJwt = [
  Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
  Buffer.from('{"sub":"alice","iat":1700000000}').toString('base64url'),
  'c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU',
].join('.');
const fakeGithub = `ghp_${'A1b2C3d4E5'.repeat(4).slice(0, 36)}`;

describe('createLogger', () => {
  it('writes NDJSON with the identity fields and every context field that is set', () => {
    const out = captureStream();
    const log = createLogger({ service: 'sbom-service', version: '1.2.3', env: 'test', region: 'eu-1', instanceId: 'i-1', destination: out.stream });
    const fields = Object.fromEntries(CONTEXT_FIELDS.map((k) => [k, `v-${k}`]));
    const scope = openSpan('api.x', {}, extractTraceContext({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }));
    withOtelContext(scope.ctx, () => withContext(fields, () => log.info('hello')));
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 'info',
      service: 'sbom-service',
      version: '1.2.3',
      env: 'test',
      region: 'eu-1',
      instance_id: 'i-1',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      parent_span_id: '00f067aa0ba902b7',
      msg: 'hello',
      ...fields,
    });
    expect(line!['span_id']).toMatch(/^[0-9a-f]{16}$/);
    expect(Date.parse(line!['ts'] as string)).not.toBeNaN();
  });

  it('omits absent context fields instead of writing null or "undefined"', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    log.info({ job_id: undefined }, 'no context');
    const raw = out.raw()[0]!;
    expect(raw).not.toMatch(/null|undefined/);
    const line = out.lines()[0]!;
    for (const k of ['tenant_id', 'trace_id', 'span_id', 'actor', 'job_id']) expect(k in line).toBe(false);
  });

  it('merges child bindings and lets call-site fields win', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const child = log.child({ job_id: 'job-9', source_id: 'osv' }).child({ run_id: 'run-1' });
    child.info({ source_id: 'ghsa' }, 'fetched');
    expect(out.lines()[0]).toMatchObject({ job_id: 'job-9', run_id: 'run-1', source_id: 'ghsa', msg: 'fetched' });
  });

  it('scrubs messages, nested objects, arrays, child bindings and format arguments', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    log.child({ authorization: `Bearer ${fakeJwt}` }).warn(
      { request: { headers: { cookie: 'session=abc' } }, tokens: [fakeGithub], note: `user alice@example.com sent ${fakeJwt}` },
      `login with ${fakeGithub} %s`,
      `password=hunter2-${'x'.repeat(6)}`,
    );
    const raw = out.raw().join('\n');
    expect(raw).not.toContain(fakeJwt);
    expect(raw).not.toContain(fakeGithub);
    expect(raw).not.toContain('alice@example.com');
    expect(raw).not.toContain('session=abc');
    expect(raw).not.toContain('hunter2');
    expect(raw).toContain('[REDACTED:');
  });

  it('folds errors into error_code, a one-line scrubbed error_message and a bounded details.stack with causes', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const cause = new Error(`db refused postgres://admin:${'s3cr3t'}@db.internal:5432/app`);
    const err = Object.assign(new Error(`advisory parse failed\nline 2 with ${fakeJwt}`, { cause }), { code: 'ADVISORY_MALFORMED' });
    log.error(err);
    log.error({ err: new Error('x'.repeat(1000)), resource: 'advisory' }, 'explicit message');
    const [first, second] = out.lines();
    expect(first!['error_code']).toBe('ADVISORY_MALFORMED');
    expect(first!['error_message']).toBe('advisory parse failed');
    expect(first!['msg']).toBe('advisory parse failed');
    const stack = (first!['details'] as { stack: string }).stack;
    expect(stack).toContain('Caused by: Error: db refused postgres://');
    expect(stack).not.toContain('s3cr3t');
    expect(stack).not.toContain(fakeJwt);
    expect(second!['error_code']).toBe('Error');
    expect((second!['error_message'] as string).length).toBeLessThanOrEqual(256);
    expect(second!['msg']).toBe('explicit message');
    expect(second!['resource']).toBe('advisory');
    expect('err' in second!).toBe(false);
  });

  it('bounds details.stack to 8 KiB', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const err = new Error('deep');
    err.stack = `Error: deep\n${'    at frame (file.js:1:1)\n'.repeat(2000)}`;
    log.error(err);
    const stack = (out.lines()[0]!['details'] as { stack: string }).stack;
    expect(Buffer.byteLength(stack)).toBeLessThanOrEqual(8 * 1024);
    expect(stack.endsWith('[truncated]')).toBe(true);
  });

  it('never throws into the caller', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const hostile = { toJSON() { throw new Error('boom'); } };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(() => log.info({ hostile }, 'x')).not.toThrow();
    expect(() => log.info({ cyclic }, 'y')).not.toThrow();
  });

  it('honours the level and turns on debug breadcrumbs per tenant through the predicate', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', level: 'info', destination: out.stream });
    log.debug('hidden');
    setBreadcrumbPredicate(({ tenantId }) => tenantId === 'incident-tenant');
    try {
      withContext({ tenant_id: 'incident-tenant' }, () => log.debug('breadcrumb'));
      withContext({ tenant_id: 'calm-tenant' }, () => log.debug('still hidden'));
    } finally {
      setBreadcrumbPredicate(undefined);
    }
    expect(out.lines().map((l) => l['msg'])).toEqual(['breadcrumb']);
    expect(log.isLevelEnabled('debug')).toBe(false);
    log.level = 'debug';
    expect(log.isLevelEnabled('debug')).toBe(true);
    expect(() => createLogger({ service: '' })).toThrow(/service/);
  });

  it('feeds finished lines to sinks above their level, and a failing sink breaks nothing', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const got: number[] = [];
    const removeGood = addLogSink({ minLevel: 50, write: (_line, level) => got.push(level) });
    const removeBad = addLogSink({ minLevel: 10, write: () => { throw new Error('sink down'); } });
    log.info('a');
    log.error('b');
    log.fatal('c');
    removeGood();
    removeBad();
    log.error('d');
    expect(got).toEqual([50, 60]);
    expect(out.lines()).toHaveLength(4);
  });
});

describe('deep debug through the logger', () => {
  it('relaxes e-mail redaction for the opted-in tenant only, logs the opt-in and its expiry once', async () => {
    const { enableDeepDebug, setScrubClock, setDefaultLogger } = await import('../../src/index.js');
    let now = Date.parse('2026-01-01T00:00:00Z');
    setScrubClock(() => now);
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    setDefaultLogger(log);
    try {
      enableDeepDebug('tenant-a', { ttlMs: 60_000, actor: 'user:sre-1', reason: 'support case 4711' });
      withContext({ tenant_id: 'tenant-a' }, () => log.info({ contact: 'dev@tenant-a.example' }, 'a'));
      withContext({ tenant_id: 'tenant-b' }, () => log.info({ contact: 'dev@tenant-b.example' }, 'b'));
      now += 61_000;
      withContext({ tenant_id: 'tenant-a' }, () => log.info({ contact: 'dev@tenant-a.example' }, 'a-after'));
      withContext({ tenant_id: 'tenant-a' }, () => log.info({ contact: 'dev@tenant-a.example' }, 'a-after-2'));
    } finally {
      setScrubClock();
    }
    const lines = out.lines();
    const byMsg = (m: string): Record<string, unknown> => lines.find((l) => l['msg'] === m)!;
    expect(byMsg('a')['contact']).toBe('dev@tenant-a.example');
    expect(byMsg('b')['contact']).toBe('[REDACTED:email]');
    expect(byMsg('a-after')['contact']).toBe('[REDACTED:email]');
    const audit = lines.filter((l) => String(l['action']).startsWith('deep_debug.'));
    expect(audit.map((l) => l['action'])).toEqual(['deep_debug.enabled', 'deep_debug.expired']);
    expect(audit[0]).toMatchObject({ tenant_id: 'tenant-a', actor: 'user:sre-1', level: 'warn' });
  });
});

describe('context keys set at the call site', () => {
  it('appear once per line, the call-site value winning', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    withContext({ tenant_id: 'acme', job_id: 'job-1' }, () => {
      log.info({ job_id: 'job-2' }, 'override');
      log.info({ job_id: undefined }, 'undefined keeps context');
    });
    const [first, second] = out.raw();
    expect(first!.match(/"job_id"/g)).toHaveLength(1);
    expect(JSON.parse(first!)).toMatchObject({ job_id: 'job-2', tenant_id: 'acme' });
    expect(JSON.parse(second!)).toMatchObject({ job_id: 'job-1', tenant_id: 'acme' });
  });
});

describe('fields written in one pass with scrubbing', () => {
  it('writes what JSON.stringify would write for scrubValue of the record', async () => {
    const { scrubValue, compileScrubPolicy } = await import('../../src/index.js');
    const { negativeCorpus, positiveSamples } = await import('../scrub/corpus.js');
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const policy = compileScrubPolicy({});
    const keys = ['detail', 'route', 'digest', 'password', 'note', 'purl', 'trace_id', 'x-api-key', 'payload'];
    const values = [...positiveSamples().map((p) => p.line), ...negativeCorpus(80).map((n) => n.line)];
    const records = values.map((v, i) => ({ [keys[i % keys.length]!]: v, [keys[(i + 3) % keys.length]!]: values[(i * 7) % values.length], n: i }));
    // Twice: the second pass is served from the per-key memo of clean values.
    for (let round = 0; round < 2; round++) for (const r of records) log.info(r, 'rec');
    const lines = out.lines();
    expect(lines).toHaveLength(records.length * 2);
    lines.forEach((line, i) => {
      const expected = JSON.parse(JSON.stringify(scrubValue(records[i % records.length], policy))) as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) expect(line[k]).toEqual(v);
    });
  });

  it('escapes quotes, backslashes, control characters and lone surrogates in keys, values and messages', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const tricky = ['say "hi"', 'back\\slash and \\\\ two', 'line1\nline2\ttab', 'bell\u0007', 'lone \ud800 high', 'pair 😀 ok', 'é ü ß'];
    for (const t of tricky) {
      log.info({ value: t, [`k ${t}`]: 1 }, t);
      log.info(t);
    }
    const lines = out.lines(); // JSON.parse throws on any malformed line
    expect(lines).toHaveLength(tricky.length * 2);
    tricky.forEach((t, i) => {
      const expected = JSON.parse(JSON.stringify(t)) as string;
      expect(lines[i * 2]).toMatchObject({ value: expected, [`k ${expected}`]: 1, msg: expected });
      expect(lines[i * 2 + 1]!['msg']).toBe(expected);
    });
  });

  it('writes numbers, booleans, null, bigints and nested values; leaves out undefined and functions', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    log.info({ n: 1.5, inf: Number.POSITIVE_INFINITY, yes: true, nil: null, big: 10n, u: undefined, f: () => 1, nested: { password: 'p', list: ['bob@example.com', 2] } }, 'm');
    const line = out.lines()[0]!;
    expect(line).toMatchObject({ n: 1.5, inf: null, yes: true, nil: null, big: 10, nested: { password: '[REDACTED:key]', list: ['[REDACTED:email]', 2] } });
    expect('u' in line || 'f' in line).toBe(false);
  });

  it('keeps a value relaxed for an opted-in tenant redacted for every other tenant', async () => {
    const { enableDeepDebug, disableDeepDebug } = await import('../../src/index.js');
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const contact = 'ops@tenant-a.example';
    enableDeepDebug('tenant-a', { ttlMs: 60_000, actor: 'user:sre-1', reason: 'support case' });
    try {
      for (const tenant of ['tenant-a', 'tenant-b', 'tenant-a', 'tenant-b']) {
        withContext({ tenant_id: tenant }, () => log.info({ contact }, contact));
      }
    } finally {
      disableDeepDebug('tenant-a', { actor: 'user:sre-1' });
    }
    const lines = out.lines().filter((l) => l['contact'] !== undefined);
    expect(lines.map((l) => [l['tenant_id'], l['contact'], l['msg']])).toEqual([
      ['tenant-a', contact, contact],
      ['tenant-b', '[REDACTED:email]', '[REDACTED:email]'],
      ['tenant-a', contact, contact],
      ['tenant-b', '[REDACTED:email]', '[REDACTED:email]'],
    ]);
  });

  it('scrubs child bindings once, writes a context key they set once, and ignores pino option keys', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const child = log.child({ tenant_id: 'bound', owner: 'carol@example.com', level: 'debug' });
    withContext({ tenant_id: 'acme', job_id: 'job-1' }, () => child.info('hi'));
    const raw = out.raw()[0]!;
    expect(raw.match(/"tenant_id"/g)).toHaveLength(1);
    expect(raw.match(/"level"/g)).toHaveLength(1);
    expect(JSON.parse(raw)).toMatchObject({ tenant_id: 'bound', job_id: 'job-1', owner: '[REDACTED:email]', level: 'info', msg: 'hi' });
  });

  it('writes repeated and alternating values exactly, whatever was written before under the key', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    const seq: Record<string, unknown>[] = [
      { code: 200, ok: true, route: '/api/a', digest: 'sha256:aa', password: 'p1', who: 'x' },
      { code: 200, ok: true, route: '/api/a', digest: 'sha256:aa', password: 'p1', who: 'dana@example.com' },
      { code: 500, ok: false, route: '/api/b', digest: 'sha256:bb', password: 'p2', who: 'dana@example.com' },
      { code: 200, ok: true, route: '/api/a', digest: 'sha256:aa', password: 'p1', who: 'x' },
      { code: Number.NaN, ok: true, route: '', digest: '', password: '', who: 'x' },
      { code: Number.NaN, ok: true, route: '', digest: '', password: '', who: 'x' },
    ];
    for (const r of seq) log.info(r, r['route'] === '/api/b' ? 'other message' : 'same message');
    const lines = out.lines();
    const expected = seq.map((r) => ({ ...r, code: Number.isNaN(r['code']) ? null : r['code'], password: r['password'] === '' ? '' : '[REDACTED:key]', who: r['who'] === 'x' ? 'x' : '[REDACTED:email]' }));
    lines.forEach((line, i) => expect(line).toMatchObject({ ...expected[i], msg: seq[i]!['route'] === '/api/b' ? 'other message' : 'same message' }));
  });

  it('keeps the line when a getter of the record throws', () => {
    const out = captureStream();
    const log = createLogger({ service: 's', destination: out.stream });
    log.warn({ ok: 1, get bad(): string { throw new Error('getter'); } }, 'still logged');
    expect(out.lines()).toEqual([expect.objectContaining({ msg: 'still logged', fields: '[unserializable: Error]' })]);
  });
});
