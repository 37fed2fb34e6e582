/**
 * The timeline events recorded in a trace (`GET /timeline?trace_id=`): what the trace changed —
 * jobs scheduled, started, failed, evaluations, exports. Reading them needs
 * `stella:timeline:read`; without it the section shows the service's 403 and the rest of the
 * page is unaffected.
 */
import { withQuery } from '../api/api-client.js';
import type { Route } from '../routing/routes.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatTimeMs, formatValue } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import type { TimelineEvent, TimelinePageAnswer } from './trace-types.js';
import './trace.css';

const MAX_EVENTS = 200;

/** A failed job, a refusal or a denied decision: what the why page can explain. */
export function isRedEvent(event: TimelineEvent): boolean {
  const d = event.details;
  return event.kind.endsWith('.failed') || event.kind.endsWith('.rejected') || d['verdict'] === 'deny' || d['effect'] === 'deny' || typeof d['error_code'] === 'string';
}

/** One line of what the details say that matters most. */
function summary(event: TimelineEvent): string {
  const d = event.details;
  const parts: string[] = [];
  for (const key of ['error_code', 'error_message', 'verdict', 'reason', 'type']) {
    if (d[key] !== undefined && d[key] !== null && d[key] !== '') parts.push(`${key}: ${formatValue(d[key])}`);
  }
  return parts.join(' · ');
}

export function TimelineEvents({ traceId, navigate }: { traceId: string; navigate(route: Route): void }) {
  const answer = useApi<TimelinePageAnswer>(withQuery('/timeline', { trace_id: traceId, limit: MAX_EVENTS }));
  if (answer.error) return <ErrorPanel error={answer.error} what="timeline events of this trace" />;
  if (!answer.data) return <p className="muted">Loading…</p>;
  const events = [...answer.data.events].reverse();
  if (events.length === 0) return <p className="muted">No timeline event carries this trace id.</p>;
  return (
    <>
      <table className="timeline-events">
        <caption className="visually-hidden">Timeline events of this trace, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col">Resource</th>
            <th scope="col">Actor</th>
            <th scope="col">Details</th>
            <th scope="col">
              <span className="visually-hidden">Links</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => {
            const red = isRedEvent(e);
            return (
              <tr key={e.event_id} className={red ? 'event-red' : undefined}>
                <td className="nowrap">
                  <time dateTime={e.ts}>{formatTimeMs(e.ts)}</time>
                </td>
                <th scope="row">
                  <Link to={{ page: 'event', eventId: e.event_id, query: {} }} navigate={navigate}>
                    {e.kind}
                  </Link>
                  {red ? <span className="badge badge-error-soft"> failed or denied</span> : null}
                </th>
                <td>{e.resource_type ? <code>{`${e.resource_type}/${e.resource_id ?? ''}`}</code> : <span className="muted">–</span>}</td>
                <td>{e.actor ?? <span className="muted">–</span>}</td>
                <td className="event-summary">{summary(e) || <span className="muted">–</span>}</td>
                <td>
                  {red ? (
                    <Link to={{ page: 'why', query: { event_id: e.event_id } }} navigate={navigate} className="why-link">
                      Why?<span className="visually-hidden"> Why is event {e.kind} red</span>
                    </Link>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {answer.data.next_cursor ? <p className="notice">More events carry this trace id than the {events.length} shown: open the timeline filtered by this trace.</p> : null}
    </>
  );
}
