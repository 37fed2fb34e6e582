/** The timeline's filter: URL ⇄ form ⇄ `GET /timeline` parameters ⇄ saved filters, the canned filters, and ±N context. */
import { describe, expect, it } from 'vitest';
import { contextFromQuery, contextPath, queryFromContext } from '../src/forensics/event-context.js';
import {
  CANNED_FILTERS,
  cannedFilter,
  checkCannedValue,
  checkFilter,
  checkFilterName,
  describeSaved,
  EMPTY_FILTER,
  fieldOfServiceError,
  filterFromQuery,
  filterOfSaved,
  formatMinutes,
  isoOfLocalInput,
  localInputOf,
  queryFromFilter,
  sameFilter,
  savedQueryOf,
  type TimelineFilter,
} from '../src/forensics/timeline-filter.js';
import { hrefOf, parseRoute } from '../src/routing/routes.js';

const NOW = Date.parse('2030-05-01T12:00:00.000Z');
const TRACE = 'ab'.repeat(16);
const filter = (over: Partial<TimelineFilter> = {}): TimelineFilter => ({ ...EMPTY_FILTER, ...over });
const problems = (f: TimelineFilter) => {
  const checked = checkFilter(f, NOW);
  return checked.ok ? [] : checked.problems;
};

describe('the timeline filter and its URL', () => {
  it('reads every key of the timeline URL, and writes them back unchanged', () => {
    const href = `/console/timeline?kind=job.failed%2Cpolicy.*&resource_type=job&resource_id=job-1&project=payments&actor=user%3Aacme-analyst&touches=pkg%3Anpm%2Flodash%404.17.20&trace_id=${TRACE}&window=360&filter=job-failures`;
    const route = parseRoute('/console/timeline', href.slice(href.indexOf('?')));
    expect(route.page).toBe('timeline');
    const query = route.page === 'timeline' ? route.query : {};
    const f = filterFromQuery(query);
    expect(f).toEqual({
      kind: 'job.failed,policy.*',
      resourceType: 'job',
      resourceId: 'job-1',
      project: 'payments',
      actor: 'user:acme-analyst',
      touches: 'pkg:npm/lodash@4.17.20',
      traceId: TRACE,
      time: 'window',
      windowMinutes: 360,
      from: '',
      to: '',
      limit: 50,
    });
    expect(hrefOf({ page: 'timeline', query: queryFromFilter(f, query['filter']) })).toBe(href);
  });

  it('takes from–to over a window, and the retention when neither is given', () => {
    expect(filterFromQuery({ from: '2030-05-01T10:00:00.000Z', window: '60' })).toMatchObject({ time: 'range', from: '2030-05-01T10:00:00.000Z', to: '' });
    expect(filterFromQuery({})).toMatchObject({ time: 'retention', from: '', to: '' });
    expect(queryFromFilter(filter({ time: 'retention', windowMinutes: 15, from: 'x' }))).toEqual({});
    expect(queryFromFilter(filter({ time: 'range', from: '2030-05-01T10:00:00.000Z', windowMinutes: 15 }))).toEqual({ from: '2030-05-01T10:00:00.000Z' });
  });

  it('keeps the events per page in the URL only when it is not the default', () => {
    expect(filterFromQuery({ limit: '20' }).limit).toBe(20);
    expect(queryFromFilter(filter({ limit: 20 }))).toEqual({ limit: '20' });
    expect(queryFromFilter(filter({ limit: 50 }))).toEqual({});
    expect(checkFilter(filter({ limit: 200 }), NOW)).toEqual({ ok: true, params: { limit: '200' } });
    expect(problems(filterFromQuery({ limit: 'all' }))).toEqual([{ field: 'limit', message: 'From 1 to 1000 events a page.' }]);
    expect(problems(filter({ limit: 1001 })).map((p) => p.field)).toEqual(['limit']);
    expect(problems(filter({ limit: 0 })).map((p) => p.field)).toEqual(['limit']);
    // A page size is no other filter: a canned or saved filter's name stays.
    expect(sameFilter(filter({ kind: 'job.failed', limit: 20 }), filter({ kind: 'job.failed' }))).toBe(true);
    expect(fieldOfServiceError('query.limit', filter())).toBe('limit');
  });

  it('keeps a malformed window for the check to name', () => {
    const f = filterFromQuery({ window: 'soon' });
    expect(f.time).toBe('window');
    expect(problems(f)).toEqual([{ field: 'window', message: 'A window is a whole number of minutes, at least 1.' }]);
  });

  it('trims values and tidies a list of kinds', () => {
    expect(queryFromFilter(filter({ kind: ' policy.* , audit.*, ', actor: '  user:a ' }))).toEqual({ kind: 'policy.*,audit.*', actor: 'user:a' });
    expect(sameFilter(filter({ kind: 'policy.*, audit.*' }), filter({ kind: 'policy.*,audit.*' }))).toBe(true);
    expect(sameFilter(filter({ kind: 'policy.*' }), filter({ kind: 'policy.*', touches: 'x' }))).toBe(false);
    expect(sameFilter(filter({ time: 'window', windowMinutes: 60 }), filter({ time: 'window', windowMinutes: 15 }))).toBe(false);
  });
});

describe('GET /timeline parameters', () => {
  it('sends every field under its API name, a window as from–to ending now, and a page size', () => {
    const checked = checkFilter(
      filter({ kind: 'job.failed', resourceType: 'job', resourceId: 'j-1', project: 'payments', actor: 'user:x', touches: 'partner-osv', traceId: TRACE.toUpperCase(), time: 'window', windowMinutes: 15 }),
      NOW,
    );
    expect(checked).toEqual({
      ok: true,
      params: {
        kind: 'job.failed',
        resource_type: 'job',
        resource_id: 'j-1',
        project: 'payments',
        actor: 'user:x',
        touches: 'partner-osv',
        trace_id: TRACE,
        from: '2030-05-01T11:45:00.000Z',
        to: '2030-05-01T12:00:00.000Z',
        limit: '50',
      },
    });
    expect(checkFilter(filter(), NOW)).toEqual({ ok: true, params: { limit: '50' } });
    expect(checkFilter(filter({ time: 'range', from: '2030-04-30T00:00:00+02:00' }), NOW)).toEqual({ ok: true, params: { from: '2030-04-29T22:00:00.000Z', limit: '50' } });
  });

  it('refuses what the service would, naming the field', () => {
    expect(problems(filter({ kind: 'Job.Failed' }))).toEqual([{ field: 'kind', message: '"Job.Failed" is neither a kind (lower-case and dotted: job.failed) nor a prefix (policy.*).' }]);
    expect(problems(filter({ kind: 'audit*' })).map((p) => p.field)).toEqual(['kind']);
    expect(problems(filter({ kind: 'a.b.c.d.e.f.g.h.i' })).map((p) => p.field)).toEqual(['kind']);
    expect(problems(filter({ kind: Array.from({ length: 9 }, (_, i) => `k${i}`).join(',') }))).toEqual([{ field: 'kind', message: 'At most 8 kinds or prefixes; this names 9.' }]);
    expect(problems(filter({ kind: Array.from({ length: 8 }, (_, i) => `k${i}.*`).join(',') }))).toEqual([]);
    expect(problems(filter({ traceId: 'abc' }))).toEqual([{ field: 'traceId', message: 'A trace id is 32 hexadecimal characters.' }]);
    expect(problems(filter({ resourceType: 'x'.repeat(65) }))).toEqual([{ field: 'resourceType', message: 'At most 64 characters.' }]);
    expect(problems(filter({ actor: 'a\tb' }))).toEqual([{ field: 'actor', message: 'No control characters (line breaks, tabs).' }]);
    expect(problems(filter({ touches: 'x'.repeat(257) }))).toEqual([{ field: 'touches', message: 'At most 256 characters.' }]);
    expect(problems(filter({ time: 'window', windowMinutes: 0 })).map((p) => p.field)).toEqual(['window']);
    expect(problems(filter({ time: 'range', from: 'yesterday' }))).toEqual([{ field: 'from', message: 'Not a date and time.' }]);
    expect(problems(filter({ time: 'range', to: '1969-12-31T23:00:00Z' }))).toEqual([{ field: 'to', message: 'The timeline holds the years 1970 to 9999.' }]);
    expect(problems(filter({ time: 'range', from: '2030-05-01T12:00:00Z', to: '2030-05-01T11:00:00Z' }))).toEqual([{ field: 'from', message: 'From must not be later than to.' }]);
    // Only the active time mode is checked.
    expect(problems(filter({ time: 'retention', from: 'yesterday', windowMinutes: -1 }))).toEqual([]);
  });

  it("maps the service's field back to the form's, a window standing for from and to", () => {
    expect(fieldOfServiceError('query.kind', filter())).toBe('kind');
    expect(fieldOfServiceError('query.resource_id', filter())).toBe('resourceId');
    expect(fieldOfServiceError('query.actor', filter())).toBe('actor');
    expect(fieldOfServiceError('query.touches', filter())).toBe('touches');
    expect(fieldOfServiceError('query.trace_id', filter())).toBe('traceId');
    expect(fieldOfServiceError('query.from', filter({ time: 'window' }))).toBe('window');
    expect(fieldOfServiceError('query.from', filter({ time: 'range' }))).toBe('from');
    expect(fieldOfServiceError('query.to', filter({ time: 'range' }))).toBe('to');
    expect(fieldOfServiceError('query.cursor', filter())).toBeUndefined();
    expect(fieldOfServiceError('query.scope', filter())).toBeUndefined();
    expect(fieldOfServiceError('body.query.kind', filter())).toBeUndefined();
    expect(fieldOfServiceError(undefined, filter())).toBeUndefined();
  });
});

describe('saved filters', () => {
  it('keep the text fields and the window as strings, not an absolute range', () => {
    expect(savedQueryOf(filter({ kind: 'job.failed', touches: 'partner-osv', time: 'window', windowMinutes: 1440 }))).toEqual({ kind: 'job.failed', touches: 'partner-osv', window: '1440' });
    expect(savedQueryOf(filter({ project: 'payments', time: 'range', from: '2030-05-01T10:00:00.000Z' }))).toEqual({ project: 'payments' });
    expect(savedQueryOf(filter())).toEqual({});
  });

  it('apply as the filter they were saved from', () => {
    const original = filter({ kind: 'policy.*,audit.*', resourceType: 'sbom', resourceId: 's-1', actor: 'user:a', traceId: TRACE, time: 'window', windowMinutes: 60 });
    expect(filterOfSaved(savedQueryOf(original))).toEqual(original);
    expect(filterOfSaved({})).toEqual(EMPTY_FILTER);
  });

  it('read in one line', () => {
    expect(describeSaved({ kind: 'job.failed', touches: 'partner-osv', window: '60' })).toBe('kind=job.failed · touches=partner-osv · last 1 h');
    expect(describeSaved({})).toBe('every event');
  });

  it('are named with 1–64 letters, digits, spaces, dots, underscores and hyphens', () => {
    expect(checkFilterName('Feed failures v1.2_x-y')).toBeUndefined();
    expect(checkFilterName('')).toBe('Give the filter a name.');
    expect(checkFilterName('x'.repeat(65))).toBe('At most 64 characters.');
    expect(checkFilterName('a/b')).toBe('Letters, digits, spaces, dots, underscores and hyphens only.');
    expect(checkFilterName('naïve')).toBe('Letters, digits, spaces, dots, underscores and hyphens only.');
    expect(checkFilterName(' padded')).toBe('No space at the start or the end.');
    expect(checkFilterName('padded ')).toBe('No space at the start or the end.');
  });
});

describe('canned filters', () => {
  it('"All policy changes" is every policy.* and audit.* event', () => {
    const canned = cannedFilter('policy-changes')!;
    expect(canned.input).toBeUndefined();
    expect(queryFromFilter(canned.build(''), canned.id)).toEqual({ kind: 'policy.*,audit.*', filter: 'policy-changes' });
    expect(checkFilter(canned.build(''), NOW)).toEqual({ ok: true, params: { kind: 'policy.*,audit.*', limit: '50' } });
  });

  it('"Job failures that touched component" is job.failed with touches', () => {
    const canned = cannedFilter('job-failures')!;
    expect(queryFromFilter(canned.build(' partner-osv '))).toEqual({ kind: 'job.failed', touches: 'partner-osv' });
    expect(checkCannedValue(canned, '')).toBe('Type a component, feed or purl.');
    expect(checkCannedValue(canned, 'pkg:npm/lodash@4.17.20')).toBeUndefined();
    expect(checkCannedValue(canned, 'x'.repeat(257))).toBe('At most 256 characters.');
  });

  it('"Decisions for this trace" is the trace with the decision kinds', () => {
    const canned = cannedFilter('trace-decisions')!;
    expect(queryFromFilter(canned.build(TRACE.toUpperCase()))).toEqual({ kind: 'policy.*,authz.*,decision.*', trace_id: TRACE });
    expect(checkCannedValue(canned, 'not-a-trace')).toBe('A trace id is 32 hexadecimal characters.');
    expect(checkCannedValue(canned, TRACE)).toBeUndefined();
  });

  it('each explains what it covers and passes the service rules', () => {
    for (const canned of CANNED_FILTERS) {
      expect(canned.explanation.length, canned.id).toBeGreaterThan(80);
      for (const kind of canned.build(TRACE).kind.split(',')) expect(canned.explanation, `${canned.id} names ${kind}`).toContain(kind);
      expect(checkFilter(canned.build(TRACE), NOW).ok, canned.id).toBe(true);
    }
    expect(cannedFilter('nothing')).toBeUndefined();
  });

  it('windows read in minutes, hours or days', () => {
    expect([15, 60, 90, 360, 1440, 10_080, 43_200].map(formatMinutes)).toEqual(['15 min', '1 h', '90 min', '6 h', '1 d', '7 d', '30 d']);
  });
});

describe('±N context', () => {
  it('reads N (1–50, default 5) and the scope from the URL', () => {
    expect(contextFromQuery({})).toEqual({ n: 5, scope: 'all' });
    expect(contextFromQuery({ context: '12', scope: 'trace' })).toEqual({ n: 12, scope: 'trace' });
    expect(contextFromQuery({ context: '500', scope: 'resource' })).toEqual({ n: 50, scope: 'resource' });
    expect(contextFromQuery({ context: '0' })).toEqual({ n: 1, scope: 'all' });
    expect(contextFromQuery({ context: 'many', scope: 'planet' })).toEqual({ n: 5, scope: 'all' });
  });

  it('writes only what differs from the defaults, and asks the context API', () => {
    expect(queryFromContext({ n: 5, scope: 'all' })).toEqual({});
    expect(queryFromContext({ n: 10, scope: 'resource' })).toEqual({ context: '10', scope: 'resource' });
    const id = '0190f0aa-0000-7000-8000-000000000001';
    expect(hrefOf({ page: 'event', eventId: id, query: queryFromContext({ n: 10, scope: 'trace' }) })).toBe(`/console/timeline/${id}?context=10&scope=trace`);
    expect(parseRoute(`/console/timeline/${id}`, '?context=10&scope=trace')).toEqual({ page: 'event', eventId: id, query: { context: '10', scope: 'trace' } });
    expect(contextPath(id, { n: 3, scope: 'resource' })).toBe(`/timeline/${id}/context?before=3&after=3&scope=resource`);
  });
});

describe('from–to inputs', () => {
  it('show an ISO time in local time to the second, and read it back', () => {
    const iso = '2030-05-01T10:15:30.000Z';
    const local = localInputOf(iso);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    expect(isoOfLocalInput(local)).toBe(iso);
    const d = new Date(iso);
    expect(Number(local.slice(11, 13))).toBe(d.getHours());
    expect(isoOfLocalInput('2030-05-01T10:15')).toBe(new Date(2030, 4, 1, 10, 15).toISOString());
  });

  it('turn what is no time into empty', () => {
    expect(localInputOf('')).toBe('');
    expect(localInputOf('soon')).toBe('');
    expect(isoOfLocalInput('')).toBe('');
    expect(isoOfLocalInput('2030-05-01')).toBe('');
    expect(isoOfLocalInput('2030-13-45T99:00')).toBe('');
  });
});
