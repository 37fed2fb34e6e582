/**
 * The one error handler on failures that get past validation: database data exceptions are the
 * client's 400, database and disk outages a 503 with Retry-After, classified by SQLSTATE or
 * errno (also on a `cause`), never by message text. Plus the pieces the schemas rest on: the
 * query-string decoder and the safe-text rules.
 */
import Fastify from 'fastify';
import { createLogger } from '@stellaops/telemetry-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { errorHandler } from '../../src/http/error-handler.js';
import { decodeQueryComponent, parseQueryString } from '../../src/http/query-string.js';
import { findUnsafeJson, isSafeId, isSafeText } from '../../src/http/safe-schema.js';
import { StoreError } from '../../src/store/store-error.js';

const coded = (code: string, message = 'whatever the driver says'): Error => Object.assign(new Error(message), { code });

const THROWN: Record<string, () => unknown> = {
  'nul-in-text': () => coded('22021', 'invalid byte sequence for encoding "UTF8": 0x00'),
  'untranslatable': () => coded('22P05', 'unsupported Unicode escape sequence'),
  'out-of-range': () => coded('22003', 'value "99999999999" is out of range for type integer'),
  'bad-date': () => coded('22008'),
  'connection': () => coded('08006'),
  'admin-shutdown': () => coded('57P01'),
  'disk-full': () => coded('53100', 'could not extend file: No space left on device'),
  'io-error': () => coded('58030'),
  'enospc': () => coded('ENOSPC'),
  'erofs': () => coded('EROFS'),
  'eio': () => coded('EIO'),
  'wrapped-enospc': () => new Error('append failed', { cause: new Error('write failed', { cause: coded('ENOSPC') }) }),
  'wrapped-22': () => new Error('insert failed', { cause: coded('22P02') }),
  'store-unavailable': () => new StoreError('store.unavailable', 'the database is unreachable'),
  'service-error': () => new ServiceError('timeline.not_found', 'no such event', { field: 'params.event_id' }),
  // Message text that looks like a database outage decides nothing.
  'text-only': () => new Error('Connection terminated: no space left on device (SQLSTATE 08006)'),
  'unrelated-code': () => coded('ERR_SOMETHING'),
};

describe('error handler', () => {
  const app = Fastify({ logger: false });
  beforeAll(async () => {
    app.setErrorHandler(errorHandler(createLogger({ service: 'error-handler-test', level: 'fatal' })));
    app.get('/throw/:what', async (request) => {
      throw THROWN[(request.params as { what: string }).what]!();
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const hit = (what: string) => app.inject({ url: `/throw/${what}` });

  it('maps SQLSTATE class 22 (data exception) to 400 request.invalid, without the driver message', async () => {
    for (const what of ['nul-in-text', 'untranslatable', 'out-of-range', 'bad-date', 'wrapped-22']) {
      const res = await hit(what);
      expect({ what, status: res.statusCode, code: res.json().error_code }).toEqual({ what, status: 400, code: 'request.invalid' });
      expect(res.json<{ message: string }>().message).not.toMatch(/whatever|UTF8|out of range for type/);
      expect(res.headers['retry-after']).toBeUndefined();
    }
  });

  it('maps database connection, shutdown, resource and I/O failures and file-system failures to 503 store.unavailable with Retry-After', async () => {
    for (const what of ['connection', 'admin-shutdown', 'disk-full', 'io-error', 'enospc', 'erofs', 'eio', 'wrapped-enospc', 'store-unavailable']) {
      const res = await hit(what);
      expect({ what, status: res.statusCode, code: res.json().error_code }).toEqual({ what, status: 503, code: 'store.unavailable' });
      expect(res.headers['retry-after']).toBe('5');
    }
  });

  it('keeps domain errors as they are and never classifies by message text', async () => {
    expect((await hit('service-error')).json()).toEqual({ error_code: 'timeline.not_found', message: 'no such event', field: 'params.event_id' });
    for (const what of ['text-only', 'unrelated-code']) {
      const res = await hit(what);
      expect({ what, status: res.statusCode, code: res.json().error_code }).toEqual({ what, status: 500, code: 'internal' });
    }
  });
});

describe('query-string decoding', () => {
  it('decodes like Fastify for valid input', () => {
    expect(parseQueryString('a=1&b=x%20y+z&a=2&c&=e&f=%E2%9C%93')).toEqual({ a: ['1', '2'], b: 'x y z', c: '', '': 'e', f: '✓' });
    expect(Object.getPrototypeOf(parseQueryString('a=1'))).toBeNull();
    expect(parseQueryString('__proto__=x')['__proto__']).toBe('x');
    expect(parseQueryString('')).toEqual({});
  });

  it('turns bytes that are not UTF-8 into lone surrogates, keeps a stray % literal', () => {
    expect(decodeQueryComponent('%ED%A0%80')).toBe('\udced\udca0\udc80');
    expect(decodeQueryComponent('a%FFb')).toBe('a\udcffb');
    expect(decodeQueryComponent('%C0%80')).toBe('\udcc0\udc80');
    expect(decodeQueryComponent('%F0%9F%98%80%FF')).toBe('😀\udcff');
    expect(decodeQueryComponent('100%')).toBe('100%');
    expect(decodeQueryComponent('50%zz%25')).toBe('50%zz%');
    expect(decodeQueryComponent('%00')).toBe('\u0000');
    for (const text of ['%ED%A0%80', 'a%FFb', '%C0%80', '%E2%9C']) expect(isSafeText(decodeQueryComponent(text))).toBe(false);
  });
});

describe('safe text rules', () => {
  it('free text refuses NUL and lone surrogates only; identifiers also control characters', () => {
    expect(isSafeText('tab\there\nline 😀 é')).toBe(true);
    expect(isSafeText('a\u0000')).toBe(false);
    expect(isSafeText('\ud800')).toBe(false);
    expect(isSafeText('\udc00x')).toBe(false);
    expect(isSafeText('x\ud83d')).toBe(false);
    expect(isSafeId('sbom-1 😀 é/x')).toBe(true);
    expect(isSafeId('a\tb')).toBe(false);
    expect(isSafeId('a\u007f')).toBe(false);
  });

  it('free-form JSON: names the first unsafe member by JSON pointer, without recursion', () => {
    expect(findUnsafeJson({ a: [1, 'x', { b: null }] })).toBeUndefined();
    expect(findUnsafeJson({ a: [1, { 'b/c': '\u0000' }] })).toMatchObject({ pointer: '/a/1/b~1c' });
    expect(findUnsafeJson({ 'k\ud800': 1 })).toMatchObject({ pointer: '/k\ud800' });
    expect(findUnsafeJson({ n: Infinity })).toMatchObject({ pointer: '/n', rule: 'must be a finite number' });
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnsafeJson(deep)).toMatchObject({ rule: 'must not nest deeper than 32 levels' });
  });
});
