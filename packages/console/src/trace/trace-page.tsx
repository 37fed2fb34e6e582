/**
 * One trace (Trace ID lookup): its waterfall with the first error selected, the selected span's
 * details and logs, and every log line of the trace inline — read from `GET /obs/trace/:id` and
 * `GET /obs/logs?trace_id=` over the trace's own time span.
 */
import { useMemo, useState } from 'react';
import { withQuery } from '../api/api-client.js';
import type { LogsAnswer, TraceAnswer } from '../api/api-types.js';
import { DEFAULT_LIMITS, logsAroundTrace } from '../logs/log-query.js';
import { LogTable } from '../logs/log-table.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime, formatMs } from '../shell/format.js';
import type { Query } from '../routing/routes.js';
import { useApi } from '../shell/use-api.js';
import { SpanDetails } from './span-details.js';
import { layoutWaterfall } from './waterfall.js';
import { WaterfallView } from './waterfall-view.js';

export function TracePage({ traceId, query }: { traceId: string; query: Query }) {
  const { navigate } = useConsole();
  const trace = useApi<TraceAnswer>(`/obs/trace/${encodeURIComponent(traceId)}`);
  const data = trace.data;
  const logsPath = useMemo(() => {
    if (!data) return undefined;
    const window = logsAroundTrace(data.start_time, data.duration_ms, DEFAULT_LIMITS);
    return withQuery('/obs/logs', { trace_id: data.trace_id, ...window });
  }, [data]);
  const logs = useApi<LogsAnswer>(logsPath);
  const waterfall = useMemo(() => layoutWaterfall(data?.spans ?? []), [data]);
  const [picked, setPicked] = useState<string | undefined>(query.span);
  const selectedId = picked ?? waterfall.firstErrorSpanId ?? waterfall.rows[0]?.span.span_id;
  const selectedRow = waterfall.rows.find((r) => r.span.span_id === selectedId);

  return (
    <>
      <div className="page-head">
        <h1>
          Trace <code className="trace-id">{traceId}</code>
        </h1>
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
          {data.deep_link ? (
            <p>
              <a href={data.deep_link} rel="noreferrer">
                Open in the trace backend
              </a>
            </p>
          ) : null}
          <section className="panel" aria-labelledby="trace-waterfall">
            <h2 id="trace-waterfall">Waterfall</h2>
            <WaterfallView waterfall={waterfall} selected={selectedId} onSelect={setPicked} />
          </section>
          {selectedRow ? (
            <section className="panel" aria-labelledby="trace-span">
              <h2 id="trace-span">Span details</h2>
              <SpanDetails row={selectedRow} logs={logs.data?.logs} navigate={navigate} />
            </section>
          ) : null}
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
