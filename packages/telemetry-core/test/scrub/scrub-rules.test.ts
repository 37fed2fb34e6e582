import { describe, expect, it } from 'vitest';
import { REDACTION_CLASSES, compileScrubPolicy, scrubText, scrubValue } from '../../src/scrub/index.js';
import { CORPUS_REPO_ROOT, negativeCorpus, positiveSamples } from './corpus.js';

const policy = compileScrubPolicy({ repoRoot: CORPUS_REPO_ROOT });
const samples = positiveSamples();
const json = (v: unknown): string => JSON.stringify(v);

describe('value patterns in every carrier', () => {
  it('covers every shape of every class', () => {
    expect(samples.length).toBeGreaterThanOrEqual(40);
  });

  it.each(samples.map((s) => [s.kind, s] as const))('%s: plain text', (_kind, sample) => {
    const out = scrubText(sample.line, policy);
    expect(out).not.toContain(sample.secret);
    expect(out).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
  });

  it.each(samples.map((s) => [s.kind, s] as const))('%s: nested objects and arrays', (_kind, sample) => {
    const value = { a: { b: [1, { c: sample.line }], d: 'clean' }, list: ['x', sample.line] };
    const out = scrubValue(value, policy) as { a: { d: string } };
    expect(json(out)).not.toContain(sample.secret);
    expect(out.a.d).toBe('clean');
    expect(value.list[1]).toBe(sample.line); // the input is never mutated
  });

  it.each(samples.map((s) => [s.kind, s] as const))('%s: Error message and stack', (_kind, sample) => {
    const err = new Error(`request failed: ${sample.line}`, { cause: new Error(sample.line) });
    const out = scrubValue({ err }, policy) as { err: { message: string; stack: string; cause: { message: string } } };
    expect(json(out)).not.toContain(sample.secret);
    expect(out.err.stack).toContain('request failed');
    expect(out.err.cause.message).toMatch(/REDACTED/);
  });

  it.each(samples.map((s) => [s.kind, s] as const))('%s: JSON inside a string', (_kind, sample) => {
    const out = scrubText(json({ event: 'upstream', detail: sample.line }), policy);
    expect(out).not.toContain(sample.secret);
    expect(out).not.toContain(json(sample.secret).slice(1, -1)); // nor its escaped form
  });
});

describe('typed markers', () => {
  const cases: [string, string, string][] = [
    ['jwt', `t=${'ey' + 'J'}hbGciOiJIUzI1NiJ9.${'ey' + 'J'}zdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl`, 't=[REDACTED:jwt]'],
    ['email', 'mail alice@example.com now', 'mail [REDACTED:email] now'],
    ['aws', `id ${'AK' + 'IA'}ABCDEFGHIJKLMNOP here`, 'id [REDACTED:aws-access-key] here'],
    ['url', `postgres://app:${'pw' + '123456'}@db:5432/app`, 'postgres://[REDACTED:url-credentials]@db:5432/app'],
    ['path outside', 'open /home/alice/notes.txt', 'open [REDACTED:path]'],
    ['path inside', `at f (${CORPUS_REPO_ROOT}/src/main.ts:3:9)`, 'at f (src/main.ts:3:9)'],
    ['file url inside', `file://${CORPUS_REPO_ROOT}/src/a.ts`, 'src/a.ts'],
    ['windows', 'C:\\Users\\bob\\key.pem missing', '[REDACTED:path] missing'],
    ['query', `/cb?code=1&access_token=${'abc' + 'DEF123'}&x=1`, '/cb?code=1&access_token=[REDACTED:key]&x=1'],
    ['json', `{"user":"u","password":"${'p' + 'w1'}"}`, '{"user":"u","password":"[REDACTED:key]"}'],
    ['pem', `k=-----BEGIN ${'EC'} PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----.`, 'k=[REDACTED:private-key].'],
    ['truncated pem', `-----BEGIN ${'OPENSSH'} PRIVATE KEY-----\nAAAA`, '[REDACTED:private-key]'],
    // Provider tokens (values assembled here so no literal looks like a token).
    ['token after a JSON newline escape', `out: "done\\n${'gh' + 'p_'}${'a1B2c3D4e5'.repeat(4).slice(0, 36)}\\n"`, 'out: "done\\n[REDACTED:github-token]\\n"'],
    ['twilio auth token after its account', `sid=${'A' + 'C'}${'0123456789abcdef'.repeat(2)} token ${'fedcba9876543210'.repeat(2)}`, `sid=${'A' + 'C'}${'0123456789abcdef'.repeat(2)} token [REDACTED:twilio-key]`],
    ['ruby hash assignment', `{ api_secret => "${'s3cr' + 'etValue9'}" }`, '{ api_secret => "[REDACTED:key]" }'],
    ['go short assignment', `dbPassword := "${'hunt' + 'er2x'}"`, 'dbPassword := "[REDACTED:key]"'],
    ['scheme kept under authorization', `{"authorization":"Bearer ${'abcDEF123' + '456ghiJKL'}"}`, '{"authorization":"Bearer [REDACTED:bearer]"}'],
    ['provider named before the key', `{"datadog":{"app_key":"${'0123456789abcdef'.repeat(2) + '01234567'}"}}`, '{"datadog":{"app_key":"[REDACTED:datadog-key]"}}'],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(scrubText(input, policy)).toBe(expected);
  });

  it('uses only declared classes', () => {
    const seen = new Set<string>();
    for (const s of samples) {
      for (const m of scrubText(s.line, policy).matchAll(/\[REDACTED:([a-z0-9-]+)\]/g)) seen.add(m[1]!);
    }
    for (const cls of seen) expect(REDACTION_CLASSES).toContain(cls);
    expect(seen.size).toBeGreaterThanOrEqual(15);
  });

  it('never redacts a marker again (scrubbing is idempotent)', () => {
    for (const s of samples) {
      const once = scrubText(s.line, policy);
      expect(scrubText(once, policy)).toBe(once);
    }
  });
});

describe('what survives', () => {
  it('leaves every negative corpus line byte-identical', () => {
    for (const n of negativeCorpus(60)) expect(scrubText(n.line, policy)).toBe(n.line);
  });

  it('keeps base64 hashes that begin like a token, and lookalike words', () => {
    const sri = `sha512-${'EA' + 'AA'}${'Zm9vYmFyYmF6'.repeat(5)}==`;
    for (const t of [sri, 'task-scheduler disk-pressure hf_hub_download', `key-rotation sk-learn ${'0123456789abcdef'.repeat(2)}-us-east-1`]) {
      expect(scrubText(t, policy)).toBe(t);
    }
  });

  it('keeps HTTP routes, relative paths and URLs without credentials', () => {
    for (const s of ['/api/v1/runs/42', 'src/scrub/index.ts', 'https://example.com/a?b=c', 'ws://h:80/x']) {
      expect(scrubText(s, policy)).toBe(s);
    }
  });
});

describe('key rules', () => {
  it('redacts values under sensitive keys at any depth, whatever they look like', () => {
    const out = scrubValue(
      {
        Password: 'x',
        db: { passwd: 12345, nested: [{ 'Set-Cookie': ['a=b'] }] },
        headers: { authorization: 'whatever', 'X-Api-Key': 'k', cookie: 'c' },
        client_secret: { any: 'thing' },
        userSessionId: 'abc',
        GITHUB_TOKEN: 'plain',
        private_key: 'p',
        aws_credentials: 'c',
        pwd: 'p',
      },
      policy,
    );
    expect(out).toEqual({
      Password: '[REDACTED:key]',
      db: { passwd: '[REDACTED:key]', nested: [{ 'Set-Cookie': '[REDACTED:key]' }] },
      headers: { authorization: '[REDACTED:key]', 'X-Api-Key': '[REDACTED:key]', cookie: '[REDACTED:key]' },
      client_secret: '[REDACTED:key]',
      userSessionId: '[REDACTED:key]',
      GITHUB_TOKEN: '[REDACTED:key]',
      private_key: '[REDACTED:key]',
      aws_credentials: '[REDACTED:key]',
      pwd: '[REDACTED:key]',
    });
  });

  it('keeps absence and flags under sensitive keys', () => {
    expect(scrubValue({ password: null, token: undefined, has_secret: true, secret: '' }, policy)).toEqual({
      password: null,
      token: undefined,
      has_secret: true,
      secret: '',
    });
  });

  it('applies extra redactKeys from the policy', () => {
    const p = compileScrubPolicy({ redactKeys: ['ssn'], repoRoot: CORPUS_REPO_ROOT });
    expect(scrubValue({ customer_ssn: '123', name: 'n' }, p)).toEqual({ customer_ssn: '[REDACTED:key]', name: 'n' });
    expect(scrubText('lookup customer_ssn=123-45-6789 ok', p)).toBe('lookup customer_ssn=[REDACTED:key] ok');
  });
});

describe('structure handling', () => {
  it('returns the same reference for clean values and clean subtrees (copy-on-write)', () => {
    const clean = { a: 'x', n: 1, list: [1, 'two', { deep: 'ok' }], when: new Date(0) };
    expect(scrubValue(clean, policy)).toBe(clean);
    const mixed = { keep: { a: [1, 2] }, bad: { password: 'p' } };
    const out = scrubValue(mixed, policy) as typeof mixed;
    expect(out).not.toBe(mixed);
    expect(out.keep).toBe(mixed.keep);
    expect(out.bad).toEqual({ password: '[REDACTED:key]' });
    expect(mixed.bad.password).toBe('p');
  });

  it('handles cycles, binary, Map, Set, Date, URL and class instances', () => {
    const cyc: Record<string, unknown> = { name: 'loop', mail: 'bob@example.com' };
    cyc.self = cyc;
    const out = scrubValue(
      {
        cyc,
        buf: Buffer.from('secret bytes'),
        u8: new Uint8Array(3),
        map: new Map<string, unknown>([['token', 'x'], ['ok', 'y']]),
        set: new Set(['carol@example.com']),
        when: new Date(0),
        url: new URL('https://user:pw@example.com/x'),
        inst: new (class Thing { password = 'p'; ok = 1; })(),
      },
      policy,
    ) as Record<string, unknown>;
    expect(out.cyc).toEqual({ name: 'loop', mail: '[REDACTED:email]', self: '[Circular]' });
    expect(out.buf).toBe('[binary 12 bytes]');
    expect(out.u8).toBe('[binary 3 bytes]');
    expect(out.map).toEqual({ token: '[REDACTED:key]', ok: 'y' });
    expect(out.set).toEqual(['[REDACTED:email]']);
    expect(out.when).toEqual(new Date(0));
    expect(out.url).toBe('https://[REDACTED:url-credentials]@example.com/x');
    expect(out.inst).toEqual({ password: '[REDACTED:key]', ok: 1 });
  });

  it('keeps shared (non-cyclic) references and scrubs keys that hold PII', () => {
    const shared = { v: 'dave@example.com' };
    const out = scrubValue({ a: shared, b: shared, 'erin@example.com': 1 }, policy) as Record<string, unknown>;
    expect(out.a).toEqual({ v: '[REDACTED:email]' });
    expect(out.b).toEqual({ v: '[REDACTED:email]' });
    expect(out['[REDACTED:email]']).toBe(1);
  });

  it('folds Errors into plain objects with code, cause and extra fields scrubbed', () => {
    const err = Object.assign(new Error('boom for frank@example.com'), { code: 'E_DB', password: 'p', status: 500 });
    const out = scrubValue(err, policy) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'Error', message: 'boom for [REDACTED:email]', code: 'E_DB', password: '[REDACTED:key]', status: 500 });
    expect(String(out.stack)).not.toContain('frank@example.com');
  });

  it('never throws on hostile values', () => {
    const hostile = { get bad(): string { throw new Error('getter'); } };
    expect(scrubValue({ hostile }, policy)).toBe('[unserializable: Error]');
  });

  it('truncates very long strings after scrubbing them', () => {
    const p = compileScrubPolicy({ maxStringLength: 100, repoRoot: CORPUS_REPO_ROOT });
    const out = scrubText(`${'a '.repeat(45)}gina@example.com ${'b'.repeat(500)}`, p);
    expect(out).not.toContain('gina@example.com');
    expect(out).toMatch(/…\[truncated, 607 chars\]$/);
  });
});
