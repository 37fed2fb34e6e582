/**
 * One trace (Trace ID lookup, trace search, "why is this red?"): its waterfall with the first
 * error selected (or the span `?span=` names) and the critical path marked, a button that jumps
 * to the first error, the selected span's details (attributes, events, links, decisions, logs),
 * the policy and authz decisions recorded in the trace, the timeline events carrying its id, and
 * every log line of the trace — read from `GET /obs/trace/:id`, `GET /obs/logs?trace_id=` over
 * the trace's own time span and `GET /timeline?trace_id=`.
 */
import { useId, useMemo, useState } from 'react';
import { withQuery } from '../api/api-client.js';
import type { LogsAnswer, TraceAnswer } from '../api/api-types.js';
import { DEFAULT_LIMITS, logsAroundTrace } from '../logs/log-query.js';
import { LogTable } from '../logs/log-table.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime, formatMs } from '../shell/format.js';
import { Link } from '../shell/link.js';
import type { Query } from '../routing/routes.js';
import { useApi } from '../shell/use-api.js';
import { criticalPath } from './critical-path.js';
import { DecisionTable } from './decision-table.js';
import { causeOrder, decisionsOf } from './decisions.js';
import { SpanDetails } from './span-details.js';
import { TimelineEvents } from './timeline-events.js';
import { layoutWaterfall } from './waterfall.js';
import { WaterfallView } from './waterfall-view.js';
import './trace.css';

const FROM_TEXT: Readonly<Record<string, string>> = { search: 'trace search', why: '"why is this red?"', compare: 'the compare view' };

export function TracePage({ traceId, query }: { traceId: string; query: Query }) {
  const { navigate } = useConsole();
  const id = useId();
  const trace = useApi<TraceAnswer>(`/obs/trace/${encodeURIComponent(traceId)}`);
  const data = trace.data;
  const logsPath = useMemo(() => {
    if (!data) return undefined;
    const window = logsAroundTrace(data.start_time, data.duration_ms, DEFAULT_LIMITS);
    return withQuery('/obs/logs', { trace_id: data.trace_id, ...window });
  }, [data]);
  const logs = useApi<LogsAnswer>(logsPath);
  const waterfall = useMemo(() => layoutWaterfall(data?.spans ?? []), [data]);
  const path = useMemo(() => criticalPath(data?.spans ?? []), [data]);
  const pathIds = useMemo(() => new Set(path.spanIds), [path]);
  const decisions = useMemo(() => (data && logs.data ? causeOrder(decisionsOf(data.spans, [...logs.data.logs].reverse())) : undefined), [data, logs.data]);
  const spanNames = useMemo(() => new Map((data?.spans ?? []).map((s) => [s.span_id, s.name])), [data]);
  const [picked, setPicked] = useState<string | undefined>(query.span);
  const [showCritical, setShowCritical] = useState(true);
  const selectedId = picked ?? waterfall.firstErrorSpanId ?? waterfall.rows[0]?.span.span_id;
  const selectedRow = waterfall.rows.find((r) => r.span.span_id === selectedId);

  /** Selects a span and moves the keyboard focus to its row (which scrolls it into view). */
  const focusSpan = (spanId: string): void => {
    setPicked(spanId);
    window.requestAnimationFrame(() => document.querySelector<HTMLButtonElement>(`button.span-row[data-span-id="${CSS.escape(spanId)}"]`)?.focus());
  };
  const criticalMs = path.spanIds.length > 0 ? path.starts.map((s) => waterfall.rows.find((r) => r.span.span_id === s)?.durationMs ?? 0) : [];
  const startName = (spanId: string | undefined): string => (spanId ? (spanNames.get(spanId) ?? spanId) : '');

  return (
    <>
      <div className="page-head">
        <h1>
          Trace <code className="trace-id">{traceId}</code>
        </h1>
        {query.from && FROM_TEXT[query.from] ? <p className="muted">Opened from {FROM_TEXT[query.from]}.</p> : null}
      </div>
      {trace.error ? <ErrorPanel error={trace.error} what="trace" /> : null}
      {!data && !trace.error ? <p className="muted">Loading…</p> : null}
      {data ? (
        <>
          <dl className="facts trace-facts">
            <div>
              <dt>Started</dt>
              <dd>{formatDateTime(data.start_time)}</dd>
            </div>
            <div>
              <dt>Duration</dt>
              <dd>{formatMs(data.duration_ms)}</dd>
            </div>
            <div>
              <dt>Spans</dt>
              <dd>
                {data.span_count}
                {data.truncated ? ' (more stored than shown)' : ''}
              </dd>
            </div>
            <div>
              <dt>Services</dt>
              <dd>{data.services.join(', ')}</dd>
            </div>
            <div>
              <dt>Errors</dt>
              <dd>{waterfall.errorCount}</dd>
            </div>
          </dl>
          <p className="trace-links">
            {waterfall.errorCount > 0 ? (
              <Link to={{ page: 'why', query: { trace_id: data.trace_id } }} navigate={navigate} className="why-link">
                Why is this red?
              </Link>
            ) : null}
            {data.deep_link ? (
              <a href={data.deep_link} rel="noreferrer">
                Open in the trace backend
              </a>
            ) : null}
          </p>
          <section className="panel" aria-labelledby="trace-waterfall">
            <h2 id="trace-waterfall">Waterfall</h2>
            <div className="waterfall-tools" role="group" aria-label="Waterfall tools">
              <button type="button" onClick={() => waterfall.firstErrorSpanId && focusSpan(waterfall.firstErrorSpanId)} disabled={!waterfall.firstErrorSpanId} aria-describedby={waterfall.firstErrorSpanId ? undefined : `${id}-no-error`}>
                Jump to first error
              </button>
              {waterfall.firstErrorSpanId ? null : (
                <span id={`${id}-no-error`} className="muted">
                  No span of this trace ended in error.
                </span>
              )}
              <label>
                <input type="checkbox" checked={showCritical} onChange={(e) => setShowCritical(e.target.checked)} aria-describedby={`${id}-critical`} />
                Show the critical path
              </label>
              <span className="legend" id={`${id}-critical`}>
                <span>
                  <span className="legend-swatch critical" aria-hidden="true" />
                  <span aria-hidden="true">◆ </span>critical path ({path.spanIds.length} {path.spanIds.length === 1 ? 'span' : 'spans'}): what the end of the trace waited on, from{' '}
                  {startName(path.starts[0])} ({formatMs(criticalMs[0] ?? 0)})
                  {path.starts[1] ? `, then from ${startName(path.starts[1])} (${formatMs(criticalMs[1] ?? 0)}), work its caller did not wait for` : ''}
                </span>
                <span>
                  <span className="legend-swatch error" aria-hidden="true" />
                  error
                </span>
                <span>
                  <span className="legend-swatch plain" aria-hidden="true" />
                  other spans
                </span>
              </span>
            </div>
            <WaterfallView waterfall={waterfall} selected={selectedId} onSelect={setPicked} critical={showCritical ? pathIds : undefined} />
          </section>
          {selectedRow ? (
            <section className="panel" aria-labelledby="trace-span">
              <h2 id="trace-span">Span details</h2>
              <SpanDetails row={selectedRow} logs={logs.data?.logs} decisions={decisions} navigate={navigate} />
            </section>
          ) : null}
          <section className="panel" aria-labelledby="trace-decisions">
            <h2 id="trace-decisions">Policy and authz decisions</h2>
            {logs.error ? (
              <p className="muted">The decisions are read from the trace's log lines, which could not be read (see below).</p>
            ) : decisions === undefined ? (
              <p className="muted">Loading…</p>
            ) : decisions.length === 0 ? (
              <p className="muted">No policy or authz decision was recorded in this trace.</p>
            ) : (
              <>
                <p>
                  {decisions.length} {decisions.length === 1 ? 'decision' : 'decisions'}, denials first: decision log records (<code>decision_effect</code>, <code>policy_version</code>,{' '}
                  <code>rule_ids</code>) and the <code>stella.policy.*</code> / <code>stella.authz.*</code> attributes of spans no record covers.
                </p>
                <DecisionTable decisions={decisions} caption="Policy and authz decisions of this trace, denials first" onSelectSpan={focusSpan} spanNames={spanNames} />
              </>
            )}
          </section>
          <section className="panel" aria-labelledby="trace-timeline">
            <h2 id="trace-timeline">Timeline events of this trace</h2>
            <TimelineEvents traceId={data.trace_id} navigate={navigate} />
          </section>
          <section className="panel" aria-labelledby="trace-logs">
            <h2 id="trace-logs">Logs of this trace</h2>
            {logs.error ? <ErrorPanel error={logs.error} what="logs of the trace" /> : null}
            {logs.data ? (
              logs.data.logs.length === 0 ? (
                <p className="muted">No log line carries this trace id.</p>
              ) : (
                <>
                  <LogTable logs={[...logs.data.logs].reverse()} caption="Log lines of this trace, oldest first" navigate={navigate} highlightSpanId={selectedId} showTrace={false} />
                  {logs.data.truncated ? <p className="notice">More lines carry this trace id than the {logs.data.logs.length} shown (the newest).</p> : null}
                </>
              )
            ) : !logs.error ? (
              <p className="muted">Loading…</p>
            ) : null}
          </section>
        </>
      ) : null}
    </>
  );
}
