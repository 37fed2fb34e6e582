/**
 * One span: what it was, how it ended, its attributes, resource, its events (with their time in
 * the span) and links to other traces, the decisions recorded under it, and the log lines
 * written under it.
 */
import type { LogRecord, TraceSpan } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';
import { formatMs, formatValue } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { LogTable } from '../logs/log-table.js';
import { DecisionTable } from './decision-table.js';
import type { Decision } from './decisions.js';
import type { WaterfallRow } from './waterfall.js';
import './trace.css';

function offsetMs(from: string, to: string): number | undefined {
  try {
    return Number(BigInt(to) - BigInt(from)) / 1e6;
  } catch {
    return undefined;
  }
}

/** A span's events: when in the span, what, and their attributes. */
export function SpanEvents({ span }: { span: TraceSpan }) {
  if (span.events.length === 0) return <p className="muted">No events were recorded on this span.</p>;
  return (
    <table className="span-events">
      <caption className="visually-hidden">Events of span {span.name}</caption>
      <thead>
        <tr>
          <th scope="col">At</th>
          <th scope="col">Event</th>
          <th scope="col">Attributes</th>
        </tr>
      </thead>
      <tbody>
        {span.events.map((e, i) => {
          const at = offsetMs(span.start_time_unix_nano, e.time_unix_nano);
          const entries = Object.entries(e.attributes).sort(([a], [b]) => a.localeCompare(b));
          return (
            <tr key={`${e.name}-${i}`}>
              <td className="num">{at === undefined ? '–' : `+${formatMs(at)}`}</td>
              <th scope="row">
                <code>{e.name}</code>
              </th>
              <td>
                {entries.length === 0 ? (
                  <span className="muted">–</span>
                ) : (
                  <dl className="event-attributes">
                    {entries.map(([key, value]) => (
                      <div key={key}>
                        <dt>
                          <code>{key}</code>
                        </dt>
                        <dd>
                          <code>{formatValue(value)}</code>
                        </dd>
                      </div>
                    ))}
                  </dl>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A span's links to spans of other traces (a job linked to the request that queued it, a batch to its inputs). */
export function SpanLinks({ span, navigate }: { span: TraceSpan; navigate(route: Route): void }) {
  if (span.links.length === 0) return <p className="muted">This span links to no other span.</p>;
  return (
    <ul className="span-links">
      {span.links.map((l, i) => (
        <li key={`${l.trace_id}-${l.span_id}-${i}`}>
          <Link to={{ page: 'trace', traceId: l.trace_id, query: { span: l.span_id } }} navigate={navigate}>
            span <code>{l.span_id}</code> of trace <code>{l.trace_id}</code>
          </Link>
          {Object.keys(l.attributes).length > 0 ? <code className="muted"> {formatValue(l.attributes)}</code> : null}
        </li>
      ))}
    </ul>
  );
}

export function Attributes({ title, attributes }: { title: string; attributes: Record<string, unknown> }) {
  const entries = Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p className="muted">No {title.toLowerCase()}.</p>;
  return (
    <table className="attributes">
      <caption>{title}</caption>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">
              <code>{key}</code>
            </th>
            <td>
              <code>{formatValue(value)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SpanDetails({
  row,
  logs,
  decisions,
  navigate,
}: {
  row: WaterfallRow<TraceSpan>;
  logs: readonly LogRecord[] | undefined;
  /** The trace's decisions (those of this span are shown); undefined while the logs load. */
  decisions?: readonly Decision[] | undefined;
  navigate(route: Route): void;
}) {
  const s = row.span;
  const own = logs?.filter((l) => l.span_id === s.span_id) ?? [];
  const ownDecisions = decisions?.filter((d) => d.spanId === s.span_id) ?? [];
  return (
    <div className={`span-details${row.error ? ' error' : ''}`}>
      <h3>
        {s.name} <span className="muted">({s.service})</span>
      </h3>
      <dl className="facts">
        <div>
          <dt>Status</dt>
          <dd>
            {s.status.code}
            {s.status.message ? `: ${s.status.message}` : ''}
          </dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>{s.kind}</dd>
        </div>
        <div>
          <dt>Starts at</dt>
          <dd>+{formatMs(row.offsetMs)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatMs(row.durationMs)}</dd>
        </div>
        <div>
          <dt>Span ID</dt>
          <dd>
            <code>{s.span_id}</code>
          </dd>
        </div>
        <div>
          <dt>Parent</dt>
          <dd>{s.parent_span_id ? <code>{s.parent_span_id}</code> : 'none (root)'}</dd>
        </div>
      </dl>
      <Attributes title="Span attributes" attributes={s.attributes} />
      <h4>Events</h4>
      <SpanEvents span={s} />
      <h4>Links</h4>
      <SpanLinks span={s} navigate={navigate} />
      {ownDecisions.length > 0 ? (
        <>
          <h4>Decisions recorded under this span</h4>
          <DecisionTable decisions={ownDecisions} caption={`Decisions of span ${s.name}`} initialRows={10} />
        </>
      ) : null}
      <details>
        <summary>Resource and instrumentation scope</summary>
        <Attributes title="Resource attributes" attributes={s.resource} />
        <p className="muted">
          Scope <code>{s.scope.name || '(none)'}</code> {s.scope.version}
        </p>
      </details>
      <h4>Logs of this span</h4>
      {logs === undefined ? (
        <p className="muted">Loading…</p>
      ) : own.length === 0 ? (
        <p className="muted">No log line was written under this span.</p>
      ) : (
        <LogTable logs={own} caption={`Log lines of span ${s.name}`} navigate={navigate} showTrace={false} />
      )}
    </div>
  );
}
