/**
 * Log search with guardrails (CON-1): text, lowest severity, service and a look-back window no
 * wider than the service allows, at most as many lines as it returns. The query lives in the
 * page's URL (so it can be shared and the Back button works); it is checked before it is sent,
 * and the service's own refusals are shown as it words them.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { withQuery } from '../api/api-client.js';
import type { LogsAnswer } from '../api/api-types.js';
import type { LogSearch } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatTime } from '../shell/format.js';
import { useApi } from '../shell/use-api.js';
import { checkLogQuery, DEFAULT_LIMITS, formatWindow, SEVERITIES, windowChoices, type LogLimits, type LogQuery, type QueryProblem } from './log-query.js';
import { LogTable } from './log-table.js';

const DEFAULT_WINDOW = 60;
const DEFAULT_ROWS = 100;

function queryOf(search: LogSearch, limits: LogLimits): LogQuery {
  return {
    q: search.q ?? '',
    severity: search.severity?.toUpperCase() ?? '',
    service: search.service ?? '',
    traceId: search.trace_id ?? '',
    windowMinutes: search.window ?? DEFAULT_WINDOW,
    limit: search.limit ?? Math.min(DEFAULT_ROWS, limits.maxResults),
  };
}

function searchOf(query: LogQuery): LogSearch {
  return { q: query.q, severity: query.severity, service: query.service, trace_id: query.traceId, window: query.windowMinutes, limit: query.limit };
}

export function LogsPage({ search }: { search: LogSearch }) {
  const { navigate } = useConsole();
  const id = useId();
  const [limits, setLimits] = useState<LogLimits>(DEFAULT_LIMITS);
  const [form, setForm] = useState<LogQuery>(() => queryOf(search, DEFAULT_LIMITS));
  const [problems, setProblems] = useState<QueryProblem[]>([]);
  const [request, setRequest] = useState<{ path: string; run: number }>();

  // Runs the search the URL describes: on arrival, on Back and Forward, after each submit.
  useEffect(() => {
    const query = queryOf(search, limits);
    setForm(query);
    const checked = checkLogQuery(query, limits, Date.now());
    setProblems(checked.ok ? [] : checked.problems);
    if (checked.ok) setRequest((r) => ({ path: withQuery('/obs/logs', checked.params), run: (r?.run ?? 0) + 1 }));
    // Only a new URL runs a search; limits the service states later apply to the next one.
  }, [search]);

  const answer = useApi<LogsAnswer>(request?.path, { refreshKey: request?.run });
  useEffect(() => {
    const stated = answer.data?.limits;
    if (stated) setLimits({ maxWindowHours: stated.max_window_hours, maxResults: stated.max_results });
  }, [answer.data]);

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = checkLogQuery(form, limits, Date.now());
    if (!checked.ok) {
      setProblems(checked.problems);
      return;
    }
    navigate({ page: 'logs', search: searchOf(form) });
  };
  const problemOf = (field: keyof LogQuery): string | undefined => problems.find((p) => p.field === field)?.message;
  const field = (name: keyof LogQuery) => {
    const problem = problemOf(name);
    return { id: `${id}-${name}`, 'aria-invalid': problem ? true : undefined, 'aria-describedby': problem ? `${id}-${name}-problem` : undefined };
  };
  const problemText = (name: keyof LogQuery) => {
    const problem = problemOf(name);
    return problem ? (
      <span id={`${id}-${name}-problem`} className="field-problem">
        {problem}
      </span>
    ) : null;
  };
  const windows = windowChoices(limits);
  if (!windows.includes(form.windowMinutes)) windows.push(form.windowMinutes);

  return (
    <>
      <div className="page-head">
        <h1>Log search</h1>
      </div>
      <form className="log-form panel" onSubmit={submit} aria-describedby={`${id}-guardrails`} noValidate>
        <div className="field">
          <label htmlFor={`${id}-q`}>Text contains</label>
          <input {...field('q')} value={form.q} onChange={(e) => setForm({ ...form, q: e.target.value })} autoComplete="off" />
          {problemText('q')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-severity`}>Lowest severity</label>
          <select {...field('severity')} value={form.severity} onChange={(e) => setForm({ ...form, severity: e.target.value })}>
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {problemText('severity')}
        </div>
        <div className="field">
          <label htmlFor={`${id}-service`}>Service</label>
          <input {...field('service')} value={form.service} onChange={(e) => setForm({ ...form, service: e.target.value })} autoComplete="off" />
          {problemText('service')}
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
          <label htmlFor={`${id}-limit`}>Rows</label>
          <input {...field('limit')} type="number" min={1} max={limits.maxResults} value={form.limit} onChange={(e) => setForm({ ...form, limit: Number(e.target.value) })} />
          {problemText('limit')}
        </div>
        {form.traceId ? (
          <div className="field">
            <span>
              Only trace <code>{form.traceId}</code>
            </span>
            <button type="button" className="small" onClick={() => setForm({ ...form, traceId: '' })}>
              Clear trace filter
            </button>
            {problemText('traceId')}
          </div>
        ) : null}
        <div className="field actions">
          <button type="submit">Search logs</button>
        </div>
        <p id={`${id}-guardrails`} className="muted guardrails">
          The service searches at most {formatWindow(limits.maxWindowHours * 60)} at a time and returns at most {limits.maxResults} lines, newest first, of tenant-scoped logs only.
        </p>
      </form>
      <section className="panel" aria-labelledby={`${id}-results`} aria-busy={answer.loading}>
        <h2 id={`${id}-results`}>Results</h2>
        {answer.error ? <ErrorPanel error={answer.error} what="log search" /> : null}
        {answer.data ? (
          <>
            <p role="status">
              {answer.data.logs.length} {answer.data.logs.length === 1 ? 'line' : 'lines'} between {formatTime(answer.data.window.from)} and {formatTime(answer.data.window.to)}, newest first.
            </p>
            {answer.data.truncated ? (
              <p className="notice">More lines matched than the {answer.data.logs.length} shown: narrow the window or add filters.</p>
            ) : null}
            {answer.data.logs.length > 0 ? <LogTable logs={answer.data.logs} caption="Matching log lines, newest first" navigate={navigate} /> : null}
          </>
        ) : !answer.error && request ? (
          <p className="muted">Searching…</p>
        ) : null}
      </section>
    </>
  );
}
