/** One span: what it was, how it ended, its attributes, resource, events, and the log lines written under it. */
import type { LogRecord, TraceSpan } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';
import { formatMs, formatValue } from '../shell/format.js';
import { LogTable } from '../logs/log-table.js';
import type { WaterfallRow } from './waterfall.js';

function Attributes({ title, attributes }: { title: string; attributes: Record<string, unknown> }) {
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

export function SpanDetails({ row, logs, navigate }: { row: WaterfallRow<TraceSpan>; logs: readonly LogRecord[] | undefined; navigate(route: Route): void }) {
  const s = row.span;
  const own = logs?.filter((l) => l.span_id === s.span_id) ?? [];
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
      {s.events.length > 0 ? (
        <>
          <h4>Events</h4>
          <ul className="events">
            {s.events.map((e, i) => (
              <li key={`${e.name}-${i}`}>
                <code>{e.name}</code> {Object.keys(e.attributes).length > 0 ? <code className="muted">{formatValue(e.attributes)}</code> : null}
              </li>
            ))}
          </ul>
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
