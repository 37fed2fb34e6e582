/**
 * Timeline events as a table: time, kind, actor, resource, project and a one-line summary of the
 * details, with links to the event page (±N context), the event's trace, and for a failed job
 * or a denied decision to "Why is this red?". One row may be marked as the centre (the event a
 * context is around).
 */
import type { Route } from '../routing/routes.js';
import { formatDateTime } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { redReason, resourceOf, summariseDetails } from './event-summary.js';
import type { TimelineEvent } from './timeline-types.js';
import './forensics.css';

export function EventTable({
  events,
  caption,
  navigate,
  centreId,
}: {
  events: readonly TimelineEvent[];
  caption: string;
  navigate(route: Route): void;
  /** The event the others are shown around: highlighted, and not linked to itself. */
  centreId?: string | undefined;
}) {
  return (
    <div className="table-scroll">
      <table className="events">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col">Actor</th>
            <th scope="col">Resource</th>
            <th scope="col">Project</th>
            <th scope="col">Details</th>
            <th scope="col">Links</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const red = redReason(event);
            const centre = event.event_id === centreId;
            const when = formatDateTime(event.ts);
            return (
              <tr key={event.event_id} className={`${red ? 'red' : ''}${centre ? ' centre' : ''}`.trim() || undefined} aria-current={centre ? 'true' : undefined} data-event-id={event.event_id}>
                <td className="nowrap">
                  <time dateTime={event.ts}>{when}</time>
                  {centre ? <span className="badge badge-centre">this event</span> : null}
                </td>
                <td className="kind">
                  <code>{event.kind}</code>
                  {red ? <span className="badge badge-error">{red}</span> : null}
                </td>
                <td>{event.actor ?? <span className="muted">–</span>}</td>
                <td className="resource">{resourceOf(event) || <span className="muted">–</span>}</td>
                <td>{event.project_id ?? <span className="muted">–</span>}</td>
                <td className="summary">{summariseDetails(event.details)}</td>
                <td className="links">
                  {centre ? null : (
                    <Link to={{ page: 'event', eventId: event.event_id, query: {} }} navigate={navigate}>
                      Event<span className="visually-hidden"> {event.kind} at {when}, with the events around it</span>
                    </Link>
                  )}
                  {event.trace_id ? (
                    <Link to={{ page: 'trace', traceId: event.trace_id, query: {} }} navigate={navigate}>
                      Trace<span className="visually-hidden"> {event.trace_id}</span>
                    </Link>
                  ) : null}
                  {red ? (
                    <Link to={{ page: 'why', query: { event_id: event.event_id } }} navigate={navigate} className="why-link">
                      Why is this red?<span className="visually-hidden"> ({event.kind} at {when})</span>
                    </Link>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
