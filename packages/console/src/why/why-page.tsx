/**
 * "Why is this red?" (CON-3): one click from a red tile, SLO, route, trace or timeline event to
 * the exact span behind it — its name, service, status message, attributes and events — its log
 * lines, and the policy or authz decisions of the trace that caused it (denials first), with a
 * link to the full trace at that span. How the span was found is listed step by step; when
 * nothing red is found the page says so plainly. The resolution is why-resolve.ts.
 */
import { useEffect, useState } from 'react';
import { ApiError } from '../api/api-client.js';
import { LogTable } from '../logs/log-table.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime, formatMs, formatValue } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { DecisionTable } from '../trace/decision-table.js';
import { Attributes, SpanEvents } from '../trace/span-details.js';
import { isRedEvent } from '../trace/timeline-events.js';
import { resolveWhy, whySourceOf, type WhyFound, type WhyResolution, type WhySource } from './why-resolve.js';
import './why.css';

function describe(source: WhySource): string {
  switch (source.kind) {
    case 'service':
      return `service ${source.service}${source.route ? `, route ${source.route}` : ''}, over the last ${source.windowMinutes >= 60 && source.windowMinutes % 60 === 0 ? `${source.windowMinutes / 60} h` : `${source.windowMinutes} min`}`;
    case 'trace':
      return `trace ${source.traceId}${source.spanId ? `, span ${source.spanId}` : ''}`;
    case 'event':
      return `timeline event ${source.eventId}`;
  }
}

function Steps({ steps }: { steps: string[] }) {
  return (
    <details className="why-steps" open={false}>
      <summary>How this was found ({steps.length} {steps.length === 1 ? 'step' : 'steps'})</summary>
      <ol>
        {steps.map((s, i) => (
          <li key={i}>{s}</li>
        ))}
      </ol>
    </details>
  );
}

function Found({ why }: { why: WhyFound }) {
  const { navigate } = useConsole();
  const s = why.span;
  const spanNames = new Map(why.trace.spans.map((x) => [x.span_id, x.name]));
  const denials = why.decisions.filter((d) => d.effect.toLowerCase() === 'deny').length;
  const traceLink = { page: 'trace' as const, traceId: why.trace.trace_id, query: { span: s.span_id, from: 'why' } };
  return (
    <>
      {why.event ? (
        <p className={`why-event${isRedEvent(why.event) ? ' red' : ''}`}>
          Timeline event{' '}
          <Link to={{ page: 'event', eventId: why.event.event_id, query: {} }} navigate={navigate}>
            <strong>{why.event.kind}</strong>
          </Link>
          {why.event.resource_type ? (
            <>
              {' '}
              of <code>{`${why.event.resource_type}/${why.event.resource_id ?? ''}`}</code>
            </>
          ) : null}{' '}
          at {formatDateTime(why.event.ts)}
          {typeof why.event.details['error_message'] === 'string' ? <>: {why.event.details['error_message']}</> : null}
          {why.event.details['verdict'] !== undefined ? <> — verdict {formatValue(why.event.details['verdict'])}</> : null}
        </p>
      ) : null}
      <section className={`panel why-span${why.red ? ' red' : ''}`} aria-labelledby="why-span">
        <h2 id="why-span">The span</h2>
        <p className="why-headline">
          <strong className="why-span-name">{s.name}</strong> in <strong>{s.service}</strong>{' '}
          {s.status.code === 'ERROR' ? <span className="badge badge-error">error</span> : why.red ? <span className="badge badge-error">denied</span> : <span className="badge badge-ok">{s.status.code.toLowerCase()}</span>}
        </p>
        {s.status.message || why.exception ? (
          <p className="why-message">
            {s.status.message ? (
              <>
                Status message: <strong>{s.status.message}</strong>
              </>
            ) : null}
            {s.status.message && why.exception ? <br /> : null}
            {why.exception ? (
              <>
                Exception: <strong>{why.exception}</strong>
              </>
            ) : null}
          </p>
        ) : null}
        <p className="muted">{why.spanReason}</p>
        <dl className="facts">
          <div>
            <dt>Started</dt>
            <dd>{formatDateTime(s.start_time)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatMs(s.duration_ms)}</dd>
          </div>
          <div>
            <dt>Kind</dt>
            <dd>{s.kind}</dd>
          </div>
          <div>
            <dt>Span ID</dt>
            <dd>
              <code>{s.span_id}</code>
            </dd>
          </div>
          <div>
            <dt>Trace</dt>
            <dd>
              <code>{why.trace.trace_id}</code>
            </dd>
          </div>
          <div>
            <dt>Called by</dt>
            <dd>{why.pathIds.length > 1 ? why.pathIds.slice(1).map((p) => spanNames.get(p) ?? p).join(' ← ') : 'nothing (root)'}</dd>
          </div>
        </dl>
        <p>
          <Link to={traceLink} navigate={navigate} className="why-open-trace">
            Open the full trace at this span
          </Link>
        </p>
        <Attributes title="Span attributes" attributes={s.attributes} />
        <h3>Events</h3>
        <SpanEvents span={s} />
      </section>
      <section className="panel" aria-labelledby="why-logs">
        <h2 id="why-logs">Log lines</h2>
        {why.logsScope === 'path' ? (
          <p className="muted">Written under this span and the spans that called it, oldest first; the span's own lines are highlighted.</p>
        ) : why.logsScope === 'trace-warnings' ? (
          <p className="muted">No line was written under this span or its callers; these are the trace's warnings and errors.</p>
        ) : null}
        {why.logs.length === 0 ? <p className="empty">No log line of this trace was written under this span, and the trace has no warning or error line.</p> : null}
        {why.logs.length > 0 ? <LogTable logs={why.logs} caption="Log lines behind the red span, oldest first" navigate={navigate} highlightSpanId={s.span_id} showTrace={false} /> : null}
        {why.logsTruncated ? <p className="notice">The trace has more log lines than were read (the newest were).</p> : null}
      </section>
      <section className="panel" aria-labelledby="why-decisions">
        <h2 id="why-decisions">Decisions</h2>
        {why.decisions.length === 0 ? (
          <p className="empty">No policy or authz decision was recorded in this trace: what turned it red is the span's error above, not a decision.</p>
        ) : (
          <>
            <p>
              {denials > 0 ? (
                <strong>
                  {denials} {denials === 1 ? 'denial' : 'denials'}
                </strong>
              ) : (
                'No denial'
              )}{' '}
              among the {why.decisions.length} {why.decisions.length === 1 ? 'decision' : 'decisions'} of this trace; denials first, then those recorded on this span and its callers.
            </p>
            <DecisionTable decisions={why.decisions} caption="Decisions of the trace, the likeliest cause first" spanNames={spanNames} initialRows={10} />
          </>
        )}
      </section>
      <Steps steps={why.steps} />
    </>
  );
}

export function WhyPage({ query }: { query: Query }) {
  const { client, onUnauthorized, navigate } = useConsole();
  const parsed = whySourceOf(query);
  const source = parsed.source;
  const key = source ? JSON.stringify(source) : undefined;
  const [state, setState] = useState<{ key: string; resolution?: WhyResolution; error?: ApiError }>();

  useEffect(() => {
    if (!source || !key) return;
    const controller = new AbortController();
    setState({ key });
    resolveWhy(source, <T,>(path: string) => client.get<T>(path, controller.signal)).then(
      (resolution) => {
        if (!controller.signal.aborted) setState({ key, resolution });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        const apiError = error instanceof ApiError ? error : new ApiError(0, (error as Error).message, {}, '');
        if (apiError.status === 401) onUnauthorized(apiError);
        setState({ key, error: apiError });
      },
    );
    return () => controller.abort();
    // `key` stands for the source.
  }, [client, key, onUnauthorized]);

  const current = state?.key === key ? state : undefined;
  return (
    <>
      <div className="page-head">
        <h1>Why is this red?</h1>
        {source ? <p className="muted">For {describe(source)}.</p> : null}
      </div>
      {parsed.problem ? (
        <p className="notice" role="alert">
          {parsed.problem}
        </p>
      ) : null}
      {!source && !parsed.problem ? (
        <p>
          Open this page from something red: a degraded or down service, a burning SLO or a failing route on the{' '}
          <Link to={{ page: 'hub' }} navigate={navigate}>
            Observability Hub
          </Link>
          , a failed trace, or a failed job or denied decision on the timeline.
        </p>
      ) : null}
      {source && !current?.resolution && !current?.error ? (
        <p role="status" aria-busy="true">
          Looking for the span behind it…
        </p>
      ) : null}
      {current?.error ? <ErrorPanel error={current.error} what="why is this red" /> : null}
      {current?.resolution?.found ? <Found why={current.resolution} /> : null}
      {current?.resolution && !current.resolution.found ? (
        <>
          <div className="panel why-nothing" role="status">
            <h2>Nothing red found</h2>
            <p>{current.resolution.message}</p>
            {source?.kind === 'service' ? (
              <p>
                <Link to={{ page: 'why', query: { service: source.service, route: source.route, window: '1440' } }} navigate={navigate}>
                  Look over the last 24 h
                </Link>{' '}
                ·{' '}
                <Link to={{ page: 'traces', query: { service: source.service, route: source.route } }} navigate={navigate}>
                  Search the traces of {source.service}
                </Link>{' '}
                ·{' '}
                <Link to={{ page: 'logs', search: { service: source.service, severity: 'WARN', window: 60 } }} navigate={navigate}>
                  Its warning and error logs
                </Link>
              </p>
            ) : null}
          </div>
          <Steps steps={current.resolution.steps} />
        </>
      ) : null}
    </>
  );
}
