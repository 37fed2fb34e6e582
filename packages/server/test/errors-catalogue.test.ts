/**
 * The one error catalogue (src/errors.ts) holds every code the service raises; docs/errors.md
 * lists them (its table is generated from the catalogue: `STELLA_UPDATE_DOCS=1` rewrites it);
 * the Fastify error handler and the OTLP receivers answer every coded error through it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { createLogger, TimelineError } from '@stellaops/telemetry-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../src/auth/token-verifier.js';
import { BlobError } from '../src/blob/blob-error.js';
import { answeredAs, ERROR_CODES, ERRORS, isErrorCode, isResponseCode, responseSpec, RETRY_AFTER_SECONDS, ServiceError, type ErrorCode, type InternalSpec, type ResponseSpec } from '../src/errors.js';
import { errorHandler } from '../src/http/error-handler.js';
import { KeyManagerError } from '../src/keys/key-manager.js';
import { OtlpAuthenticator } from '../src/otlp/otlp-auth.js';
import { OtlpError, toOtlpError } from '../src/otlp/otlp-error.js';
import { SegmentError } from '../src/segments/segment-store.js';
import { StoreError } from '../src/store/store-error.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const DOC = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));
const BEGIN = '<!-- error-catalogue:begin -->';
const END = '<!-- error-catalogue:end -->';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** `new XxxError('a.b', ...)` anywhere in src/, also with the code on the next line. */
function thrownCodes(): { file: string; cls: string; code: string }[] {
  const found: { file: string; cls: string; code: string }[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new\s+([A-Z]\w*Error)\(\s*'([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)'/g)) found.push({ file: file.slice(SRC.length), cls: m[1]!, code: m[2]! });
  }
  return found;
}

const spec = (code: ErrorCode): ResponseSpec | InternalSpec => ERRORS[code];
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The generated part of docs/errors.md. */
function renderCatalogue(): string {
  const lines = [
    BEGIN,
    '<!-- Generated from packages/server/src/errors.ts; `STELLA_UPDATE_DOCS=1 npx vitest run packages/server/test/errors-catalogue.test.ts` rewrites it. -->',
    '',
    '### Codes in answers',
    '',
    '| `error_code` | HTTP | gRPC (OTLP) | retry | meaning |',
    '|---|---|---|---|---|',
  ];
  for (const code of ERROR_CODES) {
    const s = spec(code);
    if (!('http' in s)) continue;
    lines.push(`| \`${code}\` | ${s.http} | ${s.grpc === undefined ? '' : `\`${GrpcStatus[s.grpc]}\``} | ${s.retryable ? 'yes, after `Retry-After`' : 'no'} | ${cell(s.meaning)} |`);
  }
  lines.push('', '### Codes raised inside the service', '', 'They are never an `error_code`; they appear in the service log, and a request that meets one is answered as the code named.', '');
  lines.push('| code | answered as | meaning |', '|---|---|---|');
  for (const code of ERROR_CODES) {
    const s = spec(code);
    if ('http' in s) continue;
    lines.push(`| \`${code}\` | \`${s.answeredAs}\` | ${cell(s.meaning)} |`);
  }
  lines.push(END);
  return lines.join('\n');
}

describe('the error catalogue', () => {
  it('has every code thrown in src/', () => {
    const thrown = thrownCodes();
    // The scan itself works: it sees the service's error classes and many codes.
    expect(new Set(thrown.map((t) => t.cls))).toEqual(new Set(['ServiceError', 'OtlpError', 'StoreError', 'SegmentError', 'BlobError', 'KeyManagerError', 'TimelineError']));
    expect(thrown.length).toBeGreaterThan(100);
    expect(thrown.filter((t) => !isErrorCode(t.code))).toEqual([]);
    // Answers carry response codes only.
    const answers = thrown.filter((t) => t.cls === 'ServiceError' || t.cls === 'OtlpError');
    expect(answers.filter((t) => !(isErrorCode(t.code) && isResponseCode(t.code)))).toEqual([]);
  });

  it('is consistent: retryable is 429 and 503, OTLP codes have a gRPC status, internal codes are answered with a fixed message', () => {
    for (const code of ERROR_CODES) {
      const s = spec(code);
      expect(s.meaning.length, code).toBeGreaterThan(10);
      // `<area>.<code>`, or `<area>.<part>.<code>` (the federation library's codes: `federation.dsse.sign_failed`).
      expect(code).toMatch(/^(internal|[a-z]+(\.[a-z_]+){1,2})$/);
      if ('http' in s) {
        expect({ code, retryable: s.retryable }).toEqual({ code, retryable: s.http === 429 || s.http === 503 });
        if (code.startsWith('otlp.')) expect(s.grpc, code).toBeDefined();
      } else {
        const target = answeredAs(code);
        expect(isResponseCode(target), code).toBe(true);
        expect(responseSpec(target).message, code).toBeTruthy();
      }
    }
  });

  it('is listed in docs/errors.md', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    expect(start, 'docs/errors.md has the generated catalogue').toBeGreaterThanOrEqual(0);
    const current = doc.slice(start, end + END.length);
    const expected = renderCatalogue();
    if (current !== expected && process.env['STELLA_UPDATE_DOCS'] === '1') writeFileSync(DOC, doc.slice(0, start) + expected + doc.slice(end + END.length));
    else expect(current).toBe(expected);
    for (const code of ERROR_CODES) expect(readFileSync(DOC, 'utf8')).toContain(`\`${code}\``);
  });
});

describe('errors raised inside the service, at the API', () => {
  const app = Fastify({ logger: false });
  const THROWN: Record<string, () => unknown> = {
    'blob-unavailable': () => new BlobError('blob.unavailable', 'PUT s3://bucket/key: socket hang up'),
    'blob-exists': () => new BlobError('blob.exists', 'acme/evidence/x: already committed'),
    'keys-unavailable': () => new KeyManagerError('keys.unavailable', 'cannot read the key ring file'),
    'segment-corrupt': () => new SegmentError('segment.corrupt', 'record at offset 10 fails its checksum'),
    'segment-eio': () => new SegmentError('segment.io_error', 'appending failed', { cause: Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }) }),
    'bus-closed': () => new TimelineError('bus.closed', 'the bus is closed'),
    'timeline-kind': () => new TimelineError('timeline.kind_invalid', 'kind must be a dotted lower-case name'),
    'store-locked': () => new StoreError('store.locked', 'held by pid 42'),
    'retryable-service-error': () => new ServiceError('evidence.storage_unavailable', 'the evidence store is unavailable; retry shortly'),
  };
  beforeAll(async () => {
    app.setErrorHandler(errorHandler(createLogger({ service: 'errors-catalogue-test', level: 'fatal' })));
    app.get('/throw/:what', async (request) => {
      throw THROWN[(request.params as { what: string }).what]!();
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers each as the catalogue says, with a fixed message for codes raised inside', async () => {
    const answers: Record<string, unknown> = {};
    for (const what of Object.keys(THROWN)) {
      const res = await app.inject({ url: `/throw/${what}` });
      answers[what] = { status: res.statusCode, body: res.json(), retryAfter: res.headers['retry-after'] };
    }
    const retry = String(RETRY_AFTER_SECONDS);
    expect(answers).toEqual({
      'blob-unavailable': { status: 503, body: { error_code: 'evidence.storage_unavailable', message: 'the evidence store is unavailable; retry shortly' }, retryAfter: retry },
      'blob-exists': { status: 500, body: { error_code: 'internal', message: 'internal error; the request id in x-request-id locates it in the service log' } },
      'keys-unavailable': { status: 503, body: { error_code: 'evidence.keys_unavailable', message: 'the signing key is unavailable; see the service log' }, retryAfter: retry },
      'segment-corrupt': { status: 500, body: { error_code: 'internal', message: 'internal error; the request id in x-request-id locates it in the service log' } },
      'segment-eio': { status: 503, body: { error_code: 'store.unavailable', message: 'the database or data directory is unavailable; retry shortly' }, retryAfter: retry },
      'bus-closed': { status: 503, body: { error_code: 'bus.unavailable', message: 'the message bus is unavailable; retry shortly' }, retryAfter: retry },
      'timeline-kind': { status: 400, body: { error_code: 'timeline.kind_invalid', message: 'kind must be a dotted lower-case name' } },
      'store-locked': { status: 500, body: { error_code: 'internal', message: 'internal error; the request id in x-request-id locates it in the service log' } },
      'retryable-service-error': { status: 503, body: { error_code: 'evidence.storage_unavailable', message: 'the evidence store is unavailable; retry shortly' }, retryAfter: retry },
    });
  });

});

describe('OTLP refusals through the catalogue', () => {
  it('take their HTTP status, gRPC status and Retry-After from the catalogue', () => {
    const quota = new OtlpError('otlp.quota_exceeded', 'over quota', 2);
    expect([quota.httpStatus, quota.grpcCode, quota.retryAfterSeconds, quota.message]).toEqual([429, GrpcStatus.RESOURCE_EXHAUSTED, 2, 'otlp.quota_exceeded: over quota']);
    const overloaded = new OtlpError('otlp.overloaded', 'busy');
    expect([overloaded.httpStatus, overloaded.grpcCode, overloaded.retryAfterSeconds]).toEqual([503, GrpcStatus.UNAVAILABLE, RETRY_AFTER_SECONDS]);
    const malformed = new OtlpError('otlp.malformed_json', 'not JSON');
    expect([malformed.httpStatus, malformed.grpcCode, malformed.retryAfterSeconds]).toEqual([400, GrpcStatus.INVALID_ARGUMENT, undefined]);
    expect(toOtlpError(new ServiceError('auth.token_expired', 'the token has expired')).grpcCode).toBe(GrpcStatus.UNAUTHENTICATED);
    // A code the receivers do not answer, or any other failure, is otlp.internal.
    expect(toOtlpError(new ServiceError('timeline.not_found', 'x')).code).toBe('otlp.internal');
    expect(toOtlpError(new Error('boom')).httpStatus).toBe(500);
  });

  it('answer an unreachable authority with 503 auth.authority_unavailable (UNAVAILABLE, Retry-After), not a crash', async () => {
    const verifier = new TokenVerifier({ jwks: { url: 'http://127.0.0.1:9/jwks.json' }, audience: 'stella' });
    const auth = new OtlpAuthenticator(verifier);
    const token = 'Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2ln';
    const error = await auth.authenticate(token, 'acme', 'POST /v1/traces').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OtlpError);
    const e = error as OtlpError;
    expect([e.code, e.httpStatus, e.grpcCode, e.retryAfterSeconds]).toEqual(['auth.authority_unavailable', 503, GrpcStatus.UNAVAILABLE, RETRY_AFTER_SECONDS]);
  });
});
