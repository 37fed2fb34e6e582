/**
 * Trace search (CON-1): service, route, status, shortest duration, one attribute and a look-back
 * window no wider than the service allows, newest first. The query lives in the page's URL (it
 * can be shared, Back works); it is checked before it is sent, and the service's refusals are
 * shown at the field they name. Each result opens its trace; two chosen results open side by
 * side in the compare view.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, withQuery } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime, formatMs, formatTime } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { WINDOW_CHOICES } from '../logs/log-query.js';
import { checkTraceQuery, DEFAULT_TRACE_LIMITS, formatWindow, serviceProblem, traceQueryOf, urlQueryOf, type TraceField, type TraceLimits, type TraceProblem, type TraceQuery } from './trace-query.js';
import type { TracesAnswer, TraceSummary } from './trace-types.js';
import './trace.css';

function StatusCell({ trace }: { trace: TraceSummary }) {
  if (trace.error) return <span className="badge badge-error">error</span>;
  return (
    <>
      <span className="badge badge-ok">ok</span>
      {trace.error_span_count > 0 ? (
        <span className="muted">
          {' '}
          · {trace.error_span_count} error {trace.error_span_count === 1 ? 'span' : 'spans'}
        </span>
      ) : null}
    </>
  );
}

export function TraceSearchPage({ query }: { query: Query }) {
  const { navigate } = useConsole();
  const id = useId();
  const [limits, setLimits] = useState<TraceLimits>(DEFAULT_TRACE_LIMITS);
  const [form, setForm] = useState<TraceQuery>(() => traceQueryOf(query));
  const [problems, setProblems] = useState<TraceProblem[]>([]);
  const [request, setRequest] = useState<{ path: string; run: number }>();
  const [chosen, setChosen] = useState<string[]>([]);

  // Runs the search the URL describes: on arrival, on Back and Forward, after each submit.
  useEffect(() => {
    const next = traceQueryOf(query, limits);
    setForm(next);
    const checked = checkTraceQuery(next, limits);
    setProblems(checked.ok ? [] : checked.problems);
    if (checked.ok) setRequest((r) => ({ path: withQuery('/obs/traces', checked.params), run: (r?.run ?? 0) + 1 }));
    // Only a new URL runs a search; limits the service states later apply to the next one.
  }, [query]);

  const answer = useApi<TracesAnswer>(request?.path, { refreshKey: request?.run });
  useEffect(() => {
    const stated = answer.data?.limits;
    if (stated) setLimits({ maxWindowHours: stated.max_window_hours, maxResults: stated.max_results });
  }, [answer.data]);
  useEffect(() => {
    const problem = answer.error instanceof ApiError ? serviceProblem(answer.error) : undefined;
    if (problem) setProblems([problem]);
  }, [answer.error]);
  // A new result list starts a new choice.
  useEffect(() => setChosen([]), [answer.data]);

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = checkTraceQuery(form, limits);
    if (!checked.ok) {
      setProblems(checked.problems);
      return;
    }
    navigate({ page: 'traces', query: urlQueryOf(form) });
  };
  const problemOf = (field: TraceField): string | undefined => problems.find((p) => p.field === field)?.message;
  const field = (name: TraceField) => {
    const problem = problemOf(name);
    return { id: `${id}-${name}`, 'aria-invalid': problem ? true : undefined, 'aria-describedby': problem ? `${id}-${name}-problem` : undefined };
  };
  const problemText = (name: TraceField) => {
    const problem = problemOf(name);
    return problem ? (
      <span id={`${id}-${name}-problem`} className="field-problem">
        {problem}
      </span>
    ) : null;
  };
  const windows: number[] = WINDOW_CHOICES.filter((m) => m <= limits.maxWindowHours * 60);
  if (!windows.includes(form.windowMinutes)) windows.push(form.windowMinutes);
  const toggle = (traceId: string, on: boolean): void => setChosen((list) => (on ? [...list.filter((t) => t !== traceId), traceId].slice(-2) : list.filter((t) => t !== traceId)));
  const data = answer.data;

  return (
    <>
      <div className="page-head">
        <h1>Trace search</h1>
      </div>
      <form className="search-form panel" onSubmit={submit} aria-describedby={`${id}-guardrails`} noValidate>
        <div className="field">
          <label htmlFor={`${id}-service`}>Service</label>
          <input {...field('service')} value={form.service} onChange={(e) => setForm({ ...form, service: e.target.value })} autoComplete="off" placeholder="any" />
          {problemText('service')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-route`}>Route</label>
          <input {...field('route')} value={form.route} onChange={(e) => setForm({ ...form, route: e.target.value })} autoComplete="off" placeholder="/sboms or a span name" />
          {problemText('route')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select {...field('status')} value={form.status} onChange={(e) => setForm({ ...form, status: e.target.value as TraceQuery['status'] })}>
            <option value="">any</option>
            <option value="error">error</option>
            <option value="ok">ok</option>
          </select>
          {problemText('status')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-minMs`}>Min duration (ms)</label>
          <input {...field('minMs')} inputMode="numeric" value={form.minMs} onChange={(e) => setForm({ ...form, minMs: e.target.value })} autoComplete="off" className="short" />
          {problemText('minMs')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-attr`}>Attribute (key=value)</label>
          <input {...field('attr')} value={form.attr} onChange={(e) => setForm({ ...form, attr: e.target.value })} autoComplete="off" spellCheck={false} placeholder="http.request.method=POST" />
          {problemText('attr')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-windowMinutes`}>Window</label>
          <select {...field('windowMinutes')} value={form.windowMinutes} onChange={(e) => setForm({ ...form, windowMinutes: Number(e.target.value) })}>
            {windows.map((m) => (
              <option key={m} value={m}>
                last {formatWindow(m)}
              </option>
            ))}
          </select>
          {problemText('windowMinutes')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-limit`}>Max traces</label>
          <input {...field('limit')} type="number" min={1} max={limits.maxResults} value={form.limit} onChange={(e) => setForm({ ...form, limit: Number(e.target.value) })} className="short" />
          {problemText('limit')}
        </div>
        <div className="field actions">
          <button type="submit">Search traces</button>
        </div>
        <p id={`${id}-guardrails`} className="muted guardrails">
          The service searches at most {formatWindow(limits.maxWindowHours * 60)} at a time and returns at most {limits.maxResults} traces, newest first, of this tenant only. Status{' '}
          <em>error</em> means a request, job or root span of the trace failed.
        </p>
      </form>
      <section className="panel" aria-labelledby={`${id}-results`} aria-busy={answer.loading}>
        <h2 id={`${id}-results`}>Traces</h2>
        {answer.error ? <ErrorPanel error={answer.error} what="trace search" /> : null}
        {data ? (
          <>
            <p role="status">
              {data.traces.length} {data.traces.length === 1 ? 'trace' : 'traces'} between {formatTime(data.window.from)} and {formatTime(data.window.to)}, newest first.
            </p>
            {data.truncated ? <p className="notice">More traces matched than the {data.traces.length} shown: narrow the window or add filters.</p> : null}
            {!data.scan.complete ? (
              <p className="notice">
                The search read its budget of stored records ({data.limits.max_records_read}) after checking {data.scan.examined} of {data.scan.candidates} candidate traces: more traces may
                match. Narrow the window or add a service, route or status.
              </p>
            ) : null}
            {data.traces.length > 0 ? (
              <>
                <div className="compare-bar" role="group" aria-label="Compare traces">
                  <span id={`${id}-compare-hint`} aria-live="polite">
                    {chosen.length === 0 ? 'Tick Compare on two traces to see them side by side.' : chosen.length === 1 ? '1 trace chosen: tick one more.' : '2 traces chosen.'}
                  </span>{' '}
                  <button type="button" disabled={chosen.length !== 2} aria-describedby={`${id}-compare-hint`} onClick={() => navigate({ page: 'trace-compare', query: { a: chosen[0], b: chosen[1] } })}>
                    Compare the two traces
                  </button>
                </div>
                <table className="traces">
                  <caption className="visually-hidden">Matching traces, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Compare</th>
                      <th scope="col">Start</th>
                      <th scope="col">Root span</th>
                      <th scope="col">Service</th>
                      <th scope="col">Duration</th>
                      <th scope="col">Status</th>
                      <th scope="col">Spans</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.traces.map((t) => {
                      const isChosen = chosen.includes(t.trace_id);
                      return (
                        <tr key={t.trace_id} className={`${t.error ? 'trace-error' : ''}${isChosen ? ' chosen' : ''}`}>
                          <td>
                            <input
                              type="checkbox"
                              checked={isChosen}
                              onChange={(e) => toggle(t.trace_id, e.target.checked)}
                              aria-label={`Compare trace ${t.trace_id}`}
                              disabled={!isChosen && chosen.length >= 2}
                            />
                          </td>
                          <td className="nowrap">
                            <time dateTime={t.start_time}>{formatDateTime(t.start_time)}</time>
                          </td>
                          <th scope="row">
                            <Link to={{ page: 'trace', traceId: t.trace_id, query: { from: 'search' } }} navigate={navigate}>
                              {t.root_span_name || '(unnamed)'}
                              <span className="visually-hidden"> trace {t.trace_id}</span>
                            </Link>
                            {t.root_span_received ? null : <span className="muted"> (root not received)</span>}
                            <br />
                            <code className="muted small-id">{t.trace_id}</code>
                          </th>
                          <td>
                            {t.service}
                            {t.services.length > 1 ? <span className="muted"> +{t.services.length - 1}</span> : null}
                          </td>
                          <td className="num">{formatMs(t.duration_ms)}</td>
                          <td>
                            <StatusCell trace={t} />
                            {t.error || t.error_span_count > 0 ? (
                              <>
                                {' '}
                                <Link to={{ page: 'why', query: { trace_id: t.trace_id } }} navigate={navigate} className="why-link">
                                  Why?<span className="visually-hidden"> Why is trace {t.trace_id} red</span>
                                </Link>
                              </>
                            ) : null}
                          </td>
                          <td className="num">{t.span_count}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </>
            ) : (
              <p className="empty">No trace matches: widen the window or remove a filter.</p>
            )}
          </>
        ) : !answer.error && request ? (
          <p className="muted">Searching…</p>
        ) : null}
      </section>
    </>
  );
}
