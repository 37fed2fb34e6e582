/** Log lines as a table: time, severity, service, message and the trace they belong to. */
import type { LogRecord } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';
import { formatTimeMs } from '../shell/format.js';
import { Link } from '../shell/link.js';

export function severityName(log: LogRecord): string {
  if (log.severity_text) return log.severity_text.toUpperCase();
  const n = log.severity_number;
  return n >= 21 ? 'FATAL' : n >= 17 ? 'ERROR' : n >= 13 ? 'WARN' : n >= 9 ? 'INFO' : n >= 5 ? 'DEBUG' : n >= 1 ? 'TRACE' : 'UNSET';
}

export function LogTable({
  logs,
  caption,
  navigate,
  highlightSpanId,
  showTrace = true,
}: {
  logs: readonly LogRecord[];
  caption: string;
  navigate(route: Route): void;
  highlightSpanId?: string | undefined;
  showTrace?: boolean;
}) {
  return (
    <table className="logs">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Severity</th>
          <th scope="col">Service</th>
          <th scope="col">Message</th>
          {showTrace ? <th scope="col">Trace</th> : <th scope="col">Span</th>}
        </tr>
      </thead>
      <tbody>
        {logs.map((log, i) => {
          const severity = severityName(log);
          const highlighted = highlightSpanId !== undefined && log.span_id === highlightSpanId;
          return (
            <tr key={`${log.time}-${i}`} className={`sev-${severity.toLowerCase()}${highlighted ? ' highlighted' : ''}`}>
              <td className="nowrap">
                <time dateTime={log.time}>{formatTimeMs(log.time)}</time>
              </td>
              <td>
                <span className={`severity severity-${severity.toLowerCase()}`}>{severity}</span>
              </td>
              <td>{log.service}</td>
              <td className="message">{log.body}</td>
              <td>
                {showTrace ? (
                  log.trace_id ? (
                    <Link to={{ page: 'trace', traceId: log.trace_id, query: {} }} navigate={navigate}>
                      <code>{log.trace_id.slice(0, 8)}…</code>
                      <span className="visually-hidden"> open trace {log.trace_id}</span>
                    </Link>
                  ) : (
                    '–'
                  )
                ) : (
                  <code>{log.span_id ?? '–'}</code>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
