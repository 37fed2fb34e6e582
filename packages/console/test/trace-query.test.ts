/** Trace search: the form from and to its URL, the /obs/traces parameters, the guardrails and the service's refusals at their field. */
import { describe, expect, it } from 'vitest';
import { checkTraceQuery, serviceProblem, traceQueryOf, urlQueryOf, type TraceQuery } from '../src/trace/trace-query.js';
import { hrefOf, parseRoute } from '../src/routing/routes.js';

const LIMITS = { maxWindowHours: 6, maxResults: 50 };
const form = (over: Partial<TraceQuery> = {}): TraceQuery => ({ service: '', route: '', status: '', minMs: '', attr: '', windowMinutes: 60, limit: 20, ...over });
const problems = (q: TraceQuery) => {
  const checked = checkTraceQuery(q, LIMITS);
  return checked.ok ? [] : checked.problems;
};

describe('trace search query', () => {
  it('turns the form into /obs/traces parameters over a window back from the service clock', () => {
    expect(checkTraceQuery(form({ service: ' sbom-service ', route: '/sboms', status: 'error', minMs: '250', attr: 'http.request.method=POST', windowMinutes: 15, limit: 10 }), LIMITS)).toEqual({
      ok: true,
      params: { since: '15m', limit: '10', service: 'sbom-service', route: '/sboms', status: 'error', min_duration_ms: '250', attribute: 'http.request.method=POST' },
    });
    expect(checkTraceQuery(form(), LIMITS)).toEqual({ ok: true, params: { since: '60m', limit: '20' } });
  });

  it('refuses what is out of the bounds the service states, naming the field', () => {
    expect(problems(form({ windowMinutes: 1440 }))).toEqual([{ field: 'windowMinutes', message: 'The service searches at most 6 h at a time; choose a shorter window.' }]);
    expect(problems(form({ limit: 51 }))).toEqual([{ field: 'limit', message: 'From 1 to 50 traces; narrow the search to see fewer.' }]);
    for (const minMs of ['0', '-5', '1.5', 'fast', '99999999999']) expect(problems(form({ minMs })).map((p) => p.field), minMs).toEqual(['minMs']);
    expect(problems(form({ service: 'x'.repeat(257) })).map((p) => p.field)).toEqual(['service']);
    expect(problems(form({ route: '/a\tb' })).map((p) => p.message)).toEqual(['No control characters (line breaks, tabs).']);
    expect(problems(form({ attr: `k=${'v'.repeat(600)}` })).map((p) => p.field)).toEqual(['attr']);
    expect(problems(form({ windowMinutes: 0, limit: 0 })).map((p) => p.field)).toEqual(['windowMinutes', 'limit']);
    // The attribute's key=value form is the service's rule: sent as typed, refused there.
    expect(checkTraceQuery(form({ attr: 'http.route' }), LIMITS)).toMatchObject({ ok: true, params: { attribute: 'http.route' } });
  });

  it('keeps the search in the page URL and reads it back', () => {
    const typed = form({ service: 'policy-engine', status: 'ok', minMs: '100', attr: 'a=b=c', windowMinutes: 360, limit: 50 });
    const href = hrefOf({ page: 'traces', query: urlQueryOf(typed) });
    expect(href).toBe('/console/traces?service=policy-engine&status=ok&min_ms=100&attr=a%3Db%3Dc&window=360&limit=50');
    const route = parseRoute(new URL(href, 'http://x').pathname, new URL(href, 'http://x').search);
    expect(route.page === 'traces' && traceQueryOf(route.query)).toEqual(typed);
    // Defaults for what the URL does not say, and an unknown status is dropped.
    expect(traceQueryOf({ status: 'maybe', window: 'x' }, LIMITS)).toEqual(form({ limit: 20 }));
    expect(traceQueryOf({}, { maxWindowHours: 1, maxResults: 5 }).limit).toBe(5);
  });

  it("places the service's 400 at the field it names", () => {
    const refusal = (field: string | undefined, status = 400) => ({ status, message: 'attribute must be key=value', answer: { field } });
    expect(serviceProblem(refusal('query.attribute'))).toEqual({ field: 'attr', message: 'attribute must be key=value' });
    expect(serviceProblem(refusal('query.min_duration_ms'))?.field).toBe('minMs');
    expect(serviceProblem(refusal('query.since'))?.field).toBe('windowMinutes');
    expect(serviceProblem(refusal('query.limit'))?.field).toBe('limit');
    expect(serviceProblem(refusal('headers.x-stella-tenant'))).toBeUndefined();
    expect(serviceProblem(refusal(undefined))).toBeUndefined();
    expect(serviceProblem(refusal('query.attribute', 403))).toBeUndefined();
  });
});
