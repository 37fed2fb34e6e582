/** "Why is this red?": from a service, a trace or a timeline event to the span, its log lines and the decisions behind it; the decisions of a trace. */
import { describe, expect, it } from 'vitest';
import type { LogRecord, TraceAnswer, TraceSpan } from '../src/api/api-types.js';
import { causeOrder, decisionsOf } from '../src/trace/decisions.js';
import type { TimelineEvent, TraceSummary } from '../src/trace/trace-types.js';
import { exceptionOf, firstError, pickSpan, resolveWhy, whySourceOf, type WhyFound, type WhyGet } from '../src/why/why-resolve.js';

const T0 = 1_800_000_000_000n * 1_000_000n;
const TRACE = 'ab'.repeat(16);
const OTHER = 'cd'.repeat(16);
const EVENT = '01a23381-7be2-7200-9a15-8ff94925313e';

function span(id: string, parent: string | null, service: string, name: string, startMs: number, endMs: number, code = 'UNSET', attributes: Record<string, unknown> = {}, depth = 0): TraceSpan {
  const at = (ms: number) => (T0 + BigInt(ms) * 1_000_000n).toString();
  return {
    span_id: id,
    parent_span_id: parent,
    depth,
    children: [],
    name,
    kind: 'INTERNAL',
    service,
    start_time: new Date(Number(T0 / 1_000_000n) + startMs).toISOString(),
    start_time_unix_nano: at(startMs),
    end_time_unix_nano: at(endMs),
    duration_ms: endMs - startMs,
    status: { code, message: code === 'ERROR' ? 'failed' : '' },
    attributes,
    resource: {},
    scope: { name: '', version: '' },
    events: [],
    links: [],
  };
}

function trace(id: string, spans: TraceSpan[]): TraceAnswer {
  return { trace_id: id, span_count: spans.length, services: [...new Set(spans.map((s) => s.service))], root_span_ids: [], start_time: spans[0]!.start_time, duration_ms: 100, truncated: false, deep_link: null, spans };
}

function log(spanId: string | null, body: string, severity: number, attributes: Record<string, unknown> = {}, ms = 0, service = 'svc', traceId: string | null = TRACE): LogRecord {
  return { time: new Date(Number(T0 / 1_000_000n) + ms).toISOString(), severity_number: severity, severity_text: null, service, trace_id: traceId, span_id: spanId, body, attributes };
}

const summary = (id: string, errorSpans: number, error = false): TraceSummary => ({
  trace_id: id,
  tenant: 'acme',
  root_span_name: 'api.jobs',
  root_span_received: true,
  service: 'orchestrator',
  route: null,
  services: [],
  start_time: '',
  duration_ms: 1,
  span_count: 3,
  error,
  error_span_count: errorSpans,
  trace: `/obs/trace/${id}`,
});

/** A failed evaluation job: the runner calls sbom-service, whose ingest fails; the caller answers 422 and logs a refusal. */
const FAILED = trace(TRACE, [
  span('root', null, 'orchestrator', 'api.jobs', 0, 100, 'UNSET', {}, 0),
  span('runner', 'root', 'task-runner', 'runner.execute', 5, 95, 'UNSET', {}, 1),
  span('sboms', 'runner', 'sbom-service', 'api.sboms', 10, 40, 'UNSET', {}, 2),
  span('ingest', 'sboms', 'sbom-service', 'sbom.ingest', 12, 20, 'ERROR', {}, 3),
  span('later', 'runner', 'task-runner', 'job.fail', 50, 60, 'ERROR', {}, 2),
]);
const FAILED_LOGS = [
  log('sboms', 'POST /sboms refused', 13, { error_code: 'sbom.invalid' }, 21, 'sbom-service'),
  log('runner', 'job failed', 17, {}, 61, 'task-runner'),
  log('root', 'unrelated info', 9, {}, 1),
  log('elsewhere', 'a line of another span', 9, {}, 2),
];

/** A fake service: paths (without their volatile log window) to answers; an Error with a status for refusals. */
function fakeGet(routes: Record<string, unknown>): { get: WhyGet; calls: string[] } {
  const calls: string[] = [];
  const get: WhyGet = async <T,>(path: string): Promise<T> => {
    calls.push(path);
    const key = path.startsWith('/obs/logs?trace_id=') ? path.replace(/&from=.*$/, '') : path;
    if (!(key in routes)) throw Object.assign(new Error(`not found: ${key}`), { status: 404 });
    const answer = routes[key];
    if (answer instanceof Error) throw answer;
    return answer as T;
  };
  return { get, calls };
}

const traces = (list: TraceSummary[]) => ({ window: { from: '', to: '' }, limits: { max_window_hours: 24, max_results: 200, max_records_read: 1000 }, truncated: false, scan: { complete: true, candidates: list.length, examined: list.length, records_read: 0 }, traces: list });
const logs = (list: LogRecord[], truncated = false) => ({ window: { from: '', to: '' }, limits: { max_window_hours: 24, max_results: 1000 }, truncated, logs: list });
/** The service answers logs newest first. */
const newestFirst = (list: LogRecord[]) => logs([...list].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)));

describe('whySourceOf', () => {
  it('reads the source from the page URL: an event, else a trace (and span), else a service', () => {
    expect(whySourceOf({ event_id: EVENT.toUpperCase(), service: 'x' })).toEqual({ source: { kind: 'event', eventId: EVENT } });
    expect(whySourceOf({ trace_id: TRACE.toUpperCase(), span_id: 'ABCDEF0123456789' })).toEqual({ source: { kind: 'trace', traceId: TRACE, spanId: 'abcdef0123456789' } });
    expect(whySourceOf({ service: 'sbom-service', route: '/sboms', window: '1440' })).toEqual({ source: { kind: 'service', service: 'sbom-service', route: '/sboms', windowMinutes: 1440 } });
    expect(whySourceOf({ service: 'sbom-service', window: 'soon' })).toEqual({ source: { kind: 'service', service: 'sbom-service', route: undefined, windowMinutes: 60 } });
    expect(whySourceOf({})).toEqual({});
    expect(whySourceOf({ trace_id: 'xyz' }).problem).toMatch(/32 hexadecimal/);
    expect(whySourceOf({ trace_id: TRACE, span_id: '12' }).problem).toMatch(/16 hexadecimal/);
    expect(whySourceOf({ event_id: 'job-1' }).problem).toMatch(/UUID/);
  });
});

describe('pickSpan', () => {
  it('takes the span named, else the first error of the service, else the log line span, else the first error of the trace', () => {
    expect(pickSpan(FAILED, [], { spanId: 'sboms' })?.span.span_id).toBe('sboms');
    expect(pickSpan(FAILED, [], { service: 'task-runner' })?.span.span_id).toBe('later');
    expect(pickSpan(FAILED, [], { service: 'orchestrator', logSpanId: 'runner' })?.span.span_id).toBe('runner');
    expect(pickSpan(FAILED, [], {})?.span.span_id).toBe('ingest');
    const missing = pickSpan(FAILED, [], { spanId: 'gone' })!;
    expect(missing.span.span_id).toBe('ingest');
    expect(missing.notes).toEqual(['Span gone is not among the trace\'s stored spans.']);
  });

  it("reads the span's recorded exception as type and message", () => {
    const failing = span('x', null, 's', 'x', 0, 1, 'ERROR');
    expect(exceptionOf(failing)).toBeUndefined();
    failing.events.push({ name: 'exception', time_unix_nano: '0', attributes: { 'exception.type': 'sbom.invalid', 'exception.message': 'components[17].purl is not a package URL' } });
    expect(exceptionOf(failing)).toBe('sbom.invalid: components[17].purl is not a package URL');
    expect(exceptionOf({ ...failing, events: [{ name: 'exception', time_unix_nano: '0', attributes: { 'exception.type': 'Timeout' } }] })).toBe('Timeout');
  });

  it('takes the first error as the error span that ended first, the deeper one on a tie', () => {
    expect(firstError([span('p', null, 's', 'p', 0, 50, 'ERROR', {}, 0), span('c', 'p', 's', 'c', 10, 50, 'ERROR', {}, 1)])?.span_id).toBe('c');
    expect(firstError([span('a', null, 's', 'a', 0, 10)])).toBeUndefined();
  });

  it('without an error, takes the span that recorded a denial, else the root, saying it is not red', () => {
    const clean = trace(OTHER, [span('root', null, 'orchestrator', 'api.jobs', 0, 100), span('eval', 'root', 'policy-engine', 'policy.evaluate', 10, 20, 'UNSET', { 'stella.policy.effect': 'deny' }, 1)]);
    const decisions = decisionsOf(clean.spans, []);
    expect(pickSpan(clean, decisions, {})).toMatchObject({ span: { span_id: 'eval' }, reason: 'No span ended in error; this span recorded a policy denial.' });
    expect(pickSpan(clean, [], {})?.reason).toMatch(/^No span of this trace ended in error and no decision in it denied/);
  });
});

describe('resolveWhy', () => {
  it('service: the newest trace that ended in error, its first error of that service, the lines of the span and its callers', async () => {
    const { get, calls } = fakeGet({
      '/obs/traces?service=sbom-service&status=error&since=60m&limit=20': traces([summary(TRACE, 2, true), summary(OTHER, 1, true)]),
      [`/obs/trace/${TRACE}`]: FAILED,
      [`/obs/logs?trace_id=${TRACE}`]: newestFirst(FAILED_LOGS),
    });
    const why = (await resolveWhy({ kind: 'service', service: 'sbom-service', windowMinutes: 60 }, get)) as WhyFound;
    expect(why.found).toBe(true);
    expect(why.span.span_id).toBe('ingest');
    expect(why.red).toBe(true);
    expect(why.pathIds).toEqual(['ingest', 'sboms', 'runner', 'root']);
    // Lines of the span and of the spans that called it, oldest first; not those of other spans.
    expect(why.logsScope).toBe('path');
    expect(why.logs.map((l) => l.body)).toEqual(['unrelated info', 'POST /sboms refused', 'job failed']);
    expect(why.steps[0]).toMatch(/newest trace through sbom-service that ended in error in the last 1 h is abab/);
    expect(calls[0]).toBe('/obs/traces?service=sbom-service&status=error&since=60m&limit=20');
    expect(calls).toHaveLength(3);
  });

  it('service: falls back to a trace with an error span, then to error and warning log lines, and says when nothing is red', async () => {
    const withErrorSpan = fakeGet({
      '/obs/traces?service=sbom-service&route=%2Fsboms&status=error&since=15m&limit=20': traces([]),
      '/obs/traces?service=sbom-service&route=%2Fsboms&since=15m&limit=50': traces([summary(OTHER, 0), summary(TRACE, 1)]),
      [`/obs/trace/${TRACE}`]: FAILED,
      [`/obs/logs?trace_id=${TRACE}`]: newestFirst(FAILED_LOGS),
    });
    const found = (await resolveWhy({ kind: 'service', service: 'sbom-service', route: '/sboms', windowMinutes: 15 }, withErrorSpan.get)) as WhyFound;
    expect(found.trace.trace_id).toBe(TRACE);
    expect(found.span.span_id).toBe('ingest');
    expect(found.steps[1]).toMatch(/with an error span \(1\) is abab/);

    // Only a warning line carries the trace: its span is the one shown when the service has no error span.
    const fromLogs = fakeGet({
      '/obs/traces?service=task-runner&status=error&since=60m&limit=20': traces([]),
      '/obs/traces?service=task-runner&since=60m&limit=50': traces([summary(OTHER, 0)]),
      '/obs/logs?service=task-runner&severity=ERROR&since=60m&limit=100': logs([log(null, 'no trace here', 17, {}, 0, 'task-runner', null)]),
      '/obs/logs?service=task-runner&severity=WARN&since=60m&limit=100': logs([log('runner', 'retrying', 13, {}, 0, 'task-runner')]),
      [`/obs/trace/${TRACE}`]: trace(TRACE, FAILED.spans.map((s) => ({ ...s, status: { code: 'UNSET', message: '' } }))),
      [`/obs/logs?trace_id=${TRACE}`]: newestFirst(FAILED_LOGS),
    });
    const logged = (await resolveWhy({ kind: 'service', service: 'task-runner', windowMinutes: 60 }, fromLogs.get)) as WhyFound;
    expect(logged.span.span_id).toBe('runner');
    expect(logged.spanReason).toBe('The span the log line was written under.');
    expect(logged.red).toBe(false);
    expect(logged.steps.slice(2)).toEqual([
      'Log search: no error line of task-runner in the last 1 h carries a trace id.',
      `Log search: the newest warning or error line of task-runner with a trace id, "retrying", is in trace ${TRACE}.`,
      expect.stringMatching(/^In trace abab.*"runner.execute" of task-runner/),
    ]);

    const nothing = fakeGet({
      '/obs/traces?service=quiet&status=error&since=60m&limit=20': traces([]),
      '/obs/traces?service=quiet&since=60m&limit=50': traces([]),
      '/obs/logs?service=quiet&severity=ERROR&since=60m&limit=100': logs([]),
      '/obs/logs?service=quiet&severity=WARN&since=60m&limit=100': logs([]),
    });
    const none = await resolveWhy({ kind: 'service', service: 'quiet', windowMinutes: 60 }, nothing.get);
    expect(none).toMatchObject({ found: false, message: 'Nothing red found for quiet in the last 1 h: no trace through it failed, and no error or warning log line of it carries a trace id.' });
    expect(none.steps).toHaveLength(4);
  });

  it('event: the event of a denied evaluation leads to the span that denied and its decisions, denials first', async () => {
    const evaluation = trace(OTHER, [
      span('root', null, 'orchestrator', 'api.jobs', 0, 100),
      span('api', 'root', 'policy-engine', 'api.policy.evaluate', 10, 60, 'UNSET', {}, 1),
      span('eval', 'api', 'policy-engine', 'policy.evaluate', 20, 30, 'UNSET', { 'stella.policy.effect': 'deny', 'stella.policy.version': 'baseline@7', 'stella.policy.rule_ids': ['R-CRIT'] }, 2),
    ]);
    const decision = (effect: string, ms: number, rule: string) =>
      log('eval', 'decision.policy', effect === 'allow' ? 9 : 13, { decision_kind: 'policy', decision_effect: effect, decision_reason: `${effect} by ${rule}`, policy_version: 'baseline@7', rule_ids: [rule], resource: `pkg:npm/x@${ms}` }, ms, 'policy-engine', OTHER);
    const event: TimelineEvent = { event_id: EVENT, ts: '2027-01-15T08:00:00Z', tenant_id: 'acme', project_id: null, kind: 'policy.evaluated', actor: null, resource_type: 'evaluation', resource_id: 'eval-1', trace_id: OTHER, details: { verdict: 'deny' }, digest: '', ingested_at: '' };
    const { get } = fakeGet({
      [`/timeline/${EVENT}`]: { event, links: { trace: `/obs/trace/${OTHER}`, evidence: [], attestations: null } },
      [`/obs/trace/${OTHER}`]: evaluation,
      [`/obs/logs?trace_id=${OTHER}`]: newestFirst([decision('warn', 21, 'R-LOW'), decision('deny', 22, 'R-CRIT'), decision('allow', 23, 'R-VEX'), decision('deny', 24, 'R-HIGH')]),
    });
    const why = (await resolveWhy({ kind: 'event', eventId: EVENT }, get)) as WhyFound;
    expect(why.event?.kind).toBe('policy.evaluated');
    expect(why.span.span_id).toBe('eval');
    expect(why.red).toBe(true);
    expect(why.steps[0]).toBe(`Timeline event policy.evaluated of evaluation eval-1 at 2027-01-15T08:00:00Z was recorded in trace ${OTHER}.`);
    // The span's own deny attribute repeats its decision logs: shown once.
    expect(why.decisions.map((d) => `${d.effect} ${d.ruleIds.join()}`)).toEqual(['deny R-CRIT', 'deny R-HIGH', 'warn R-LOW', 'allow R-VEX']);
    expect(why.decisions[0]).toMatchObject({ source: 'log', kind: 'policy', reason: 'deny by R-CRIT', policyVersion: 'baseline@7', resource: 'pkg:npm/x@22', service: 'policy-engine', spanId: 'eval' });
  });

  it('says so when the event carries no trace, the event or the trace is not found, and passes other refusals on', async () => {
    const bare: TimelineEvent = { event_id: EVENT, ts: '', tenant_id: 'acme', project_id: null, kind: 'slo.breach.firing', actor: null, resource_type: 'slo', resource_id: 'sbom-ingest-latency', trace_id: null, details: {}, digest: '', ingested_at: '' };
    const noTrace = await resolveWhy({ kind: 'event', eventId: EVENT }, fakeGet({ [`/timeline/${EVENT}`]: { event: bare, links: {} } }).get);
    expect(noTrace).toMatchObject({ found: false, message: expect.stringMatching(/^The event slo.breach.firing of slo sbom-ingest-latency carries no trace id/) });
    expect(await resolveWhy({ kind: 'event', eventId: EVENT }, fakeGet({}).get)).toMatchObject({ found: false, message: expect.stringMatching(/^No timeline event/) });
    expect(await resolveWhy({ kind: 'trace', traceId: TRACE }, fakeGet({}).get)).toMatchObject({ found: false, message: expect.stringMatching(/is not in this tenant's telemetry/) });
    const denied = Object.assign(new Error('needs stella:timeline:read#tenant/acme'), { status: 403 });
    await expect(resolveWhy({ kind: 'event', eventId: EVENT }, fakeGet({ [`/timeline/${EVENT}`]: denied }).get)).rejects.toBe(denied);
  });

  it('trace and span: shows the span named; without lines on its path, the trace warnings', async () => {
    const { get } = fakeGet({ [`/obs/trace/${TRACE}`]: FAILED, [`/obs/logs?trace_id=${TRACE}`]: newestFirst([log('elsewhere', 'disk slow', 13), log('elsewhere', 'fine', 9)]) });
    const why = (await resolveWhy({ kind: 'trace', traceId: TRACE, spanId: 'later' }, get)) as WhyFound;
    expect(why.span.span_id).toBe('later');
    expect(why.spanReason).toBe('The span the link named.');
    expect(why.logsScope).toBe('trace-warnings');
    expect(why.logs.map((l) => l.body)).toEqual(['disk slow']);
    expect(why.decisions).toEqual([]);
  });
});

describe('decisionsOf and causeOrder', () => {
  it("reads decision logs and the decision attributes of spans no log covers, and orders denials and the span's path first", () => {
    const spans = [
      span('gw', null, 'api-gateway', 'api', 0, 10, 'UNSET', { 'stella.authz.effect': 'allow', 'stella.authz.scope': 'stella:obs:read#tenant/acme', 'stella.authz.reason': 'granted' }),
      span('pe', 'gw', 'policy-engine', 'policy.evaluate', 1, 9, 'UNSET', { 'stella.policy.effect': 'warn', 'stella.policy.rule_ids': ['R-1'] }),
    ];
    const lines = [
      log('x', 'decision.policy', 13, { decision_effect: 'deny', decision_reason: 'critical', rule_ids: 'R-2,R-3' }, 5),
      log('pe', 'policy evaluated', 9, { decision_effect: 'deny', policy_version: 'v1' }, 6),
      log('pe', 'not a decision', 9, {}, 7),
    ];
    const all = decisionsOf(spans, lines);
    expect(all.map((d) => [d.source, d.kind, d.effect, d.spanId])).toEqual([
      ['span', 'authz', 'allow', 'gw'],
      ['span', 'policy', 'warn', 'pe'],
      ['log', 'policy', 'deny', 'x'],
      ['log', 'policy', 'deny', 'pe'],
    ]);
    expect(all[0]).toMatchObject({ scope: 'stella:obs:read#tenant/acme', reason: 'granted' });
    expect(all[2]!.ruleIds).toEqual(['R-2', 'R-3']);
    expect(all[3]!.reason).toBe('policy evaluated');
    expect(causeOrder(all, new Set(['pe'])).map((d) => `${d.effect} ${d.spanId}`)).toEqual(['deny pe', 'deny x', 'warn pe', 'allow gw']);
  });
});
