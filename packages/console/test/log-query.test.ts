/** Log search guardrails, the Console's URLs and which routes the hub lists as failing. */
import { describe, expect, it } from 'vitest';
import type { RouteStats } from '../src/api/api-types.js';
import { topFailing } from '../src/hub/top-failing.js';
import { checkLogQuery, logsAroundTrace, windowChoices, type LogQuery } from '../src/logs/log-query.js';
import { hrefOf, parseRoute, type Route } from '../src/routing/routes.js';

const NOW = Date.parse('2030-05-01T12:00:00.000Z');
const LIMITS = { maxWindowHours: 6, maxResults: 50 };
const query = (over: Partial<LogQuery> = {}): LogQuery => ({ q: '', severity: '', service: '', traceId: '', windowMinutes: 60, limit: 50, ...over });

describe('log search guardrails', () => {
  it('turns a query into /obs/logs parameters over a window ending now', () => {
    expect(checkLogQuery(query({ q: 'timeout', severity: 'ERROR', service: 'policy-engine', traceId: 'AB'.repeat(16), windowMinutes: 15, limit: 20 }), LIMITS, NOW)).toEqual({
      ok: true,
      params: { from: '2030-05-01T11:45:00.000Z', to: '2030-05-01T12:00:00.000Z', limit: '20', q: 'timeout', severity: 'ERROR', service: 'policy-engine', trace_id: 'ab'.repeat(16) },
    });
    expect(checkLogQuery(query(), LIMITS, NOW)).toEqual({ ok: true, params: { from: '2030-05-01T11:00:00.000Z', to: '2030-05-01T12:00:00.000Z', limit: '50' } });
  });

  it('refuses what the service would, naming the field and the bound', () => {
    const problems = (q: LogQuery) => {
      const checked = checkLogQuery(q, LIMITS, NOW);
      return checked.ok ? [] : checked.problems;
    };
    expect(problems(query({ windowMinutes: 1440 }))).toEqual([{ field: 'windowMinutes', message: 'The service searches at most 6 h at a time; choose a shorter window.' }]);
    expect(problems(query({ limit: 51 }))).toEqual([{ field: 'limit', message: 'From 1 to 50 rows; narrow the search to see fewer.' }]);
    for (const limit of [0, -1, 1.5, Number.NaN]) expect(problems(query({ limit })).map((p) => p.field), String(limit)).toEqual(['limit']);
    expect(problems(query({ q: 'x'.repeat(201) })).map((p) => p.field)).toEqual(['q']);
    expect(problems(query({ service: 'api\n' })).map((p) => p.message)).toEqual(['No control characters (line breaks, tabs).']);
    expect(problems(query({ severity: 'LOUD' })).map((p) => p.field)).toEqual(['severity']);
    expect(problems(query({ traceId: 'abc' })).map((p) => p.field)).toEqual(['traceId']);
    expect(problems(query({ windowMinutes: 0, limit: 0 })).map((p) => p.field)).toEqual(['windowMinutes', 'limit']);
  });

  it('offers only windows the service allows', () => {
    expect(windowChoices(LIMITS)).toEqual([15, 60, 360]);
    expect(windowChoices({ maxWindowHours: 24, maxResults: 1000 })).toEqual([15, 60, 360, 1440]);
  });

  it("reads a trace's logs from a minute before it to a minute after, within the widest window", () => {
    expect(logsAroundTrace('2030-05-01T12:00:00.000Z', 1500, LIMITS)).toEqual({ from: '2030-05-01T11:59:00.000Z', to: '2030-05-01T12:01:01.500Z' });
    expect(logsAroundTrace('2030-05-01T12:00:00.000Z', 10 * 3_600_000, LIMITS)).toEqual({ from: '2030-05-01T11:59:00.000Z', to: '2030-05-01T17:59:00.000Z' });
  });
});

describe('the Console URLs', () => {
  it('parses each page from its URL and writes it back', () => {
    const cases: [string, string, Route][] = [
      ['/console', '', { page: 'hub' }],
      ['/console/', '', { page: 'hub' }],
      ['/console/trace/4bf92f3577b34da6a3ce929d0e0e4736', '', { page: 'trace', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', query: {} }],
      ['/console/logs', '?q=50%25+off&severity=ERROR&window=15&limit=20&service=api', { page: 'logs', search: { q: '50% off', severity: 'ERROR', service: 'api', trace_id: undefined, window: 15, limit: 20 } }],
      ['/console/logs', '?window=-5&limit=abc', { page: 'logs', search: { q: undefined, severity: undefined, service: undefined, trace_id: undefined, window: undefined, limit: undefined } }],
      ['/console/nope', '', { page: 'not_found', path: '/nope' }],
      ['/console/traces', '?service=api&status=error&ignored=1', { page: 'traces', query: { service: 'api', status: 'error' } }],
      ['/console/traces/compare', '?a=1&b=2', { page: 'trace-compare', query: { a: '1', b: '2' } }],
      ['/console/trace/abc/', '?span=00f067aa0ba902b7', { page: 'trace', traceId: 'abc', query: { span: '00f067aa0ba902b7' } }],
      ['/console/timeline', '?kind=job.failed&touches=partner-osv', { page: 'timeline', query: { kind: 'job.failed', touches: 'partner-osv' } }],
      ['/console/timeline/e1', '?context=5', { page: 'event', eventId: 'e1', query: { context: '5' } }],
      ['/console/evidence/new', '?kind=evaluation', { page: 'snapshot', query: { kind: 'evaluation' } }],
      ['/console/evidence/compare', '?a=acme%2Fb1', { page: 'evaluation-compare', query: { a: 'acme/b1' } }],
      ['/console/evidence/b%2F1', '', { page: 'bundle', bundleId: 'b/1', query: {} }],
      ['/console/evidence/%E0%A4%A', '', { page: 'not_found', path: '/evidence/%E0%A4%A' }],
      ['/console/evidence/a/b', '', { page: 'not_found', path: '/evidence/a/b' }],
    ];
    for (const [path, search, route] of cases) expect(parseRoute(path, search), path + search).toEqual(route);
    expect(hrefOf({ page: 'hub' })).toBe('/console/');
    expect(hrefOf({ page: 'trace', traceId: 'ab/cd', query: {} })).toBe('/console/trace/ab%2Fcd');
    expect(hrefOf({ page: 'logs', search: { q: '50% off', window: 15, severity: '' } })).toBe('/console/logs?q=50%25+off&window=15');
    expect(hrefOf({ page: 'bundle', bundleId: 'b/1', query: {} })).toBe('/console/evidence/b%2F1');
    expect(hrefOf({ page: 'timeline', query: { kind: 'policy.*', actor: '' } })).toBe('/console/timeline?kind=policy.*');
    const round: Route = { page: 'logs', search: { q: 'a&b', severity: 'WARN', service: 's', trace_id: 'ab'.repeat(16), window: 60, limit: 10 } };
    const url = new URL(hrefOf(round), 'http://x');
    expect(parseRoute(url.pathname, url.search)).toEqual(round);
  });
});

describe('top failing routes', () => {
  const route = (service: string, path: string, requests: number, errors: number): RouteStats => ({ service, route: path, requests, errors, error_ratio: requests ? errors / requests : 0, request_rate_per_s: 0, p95_ms: 1 });

  it('lists routes with errors, most errors first, then the worst ratio, at most ten', () => {
    const series = [route('a', '/ok', 100, 0), route('a', '/few', 100, 2), route('b', '/many', 1000, 30), route('c', '/ratio', 4, 2), route('c', '/same', 200, 2)];
    expect(topFailing(series).map((r) => `${r.service} ${r.route}`)).toEqual(['b /many', 'c /ratio', 'a /few', 'c /same']);
    expect(topFailing(Array.from({ length: 30 }, (_, i) => route('s', `/r${i}`, 10, 1)))).toHaveLength(10);
  });
});
