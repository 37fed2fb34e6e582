/**
 * One timeline event in full (CON-2): every TL-1 field, its details as a tree and as JSON, its
 * digest, and where it leads (`GET /timeline/:event_id`: its trace, evidence bundles,
 * attestations); then the N events before and after it (`GET /timeline/:event_id/context`,
 * 1–50, among all events, the same resource or the same trace), oldest first, with this event
 * highlighted. The URL keeps N (`context`) and the scope (`scope`).
 */
import { useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { DetailsTree } from './details-tree.js';
import { CONTEXT_SCOPES, contextFromQuery, contextPath, MAX_CONTEXT, MIN_CONTEXT, queryFromContext, type ContextScope, type EventContext } from './event-context.js';
import { redReason, resourceOf } from './event-summary.js';
import { EventTable } from './event-table.js';
import { DECISION_KINDS, EMPTY_FILTER, queryFromFilter } from './timeline-filter.js';
import type { AttestationsAnswer, EventContextAnswer, EventDetailAnswer, TimelineEvent } from './timeline-types.js';
import './forensics.css';

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children ?? <span className="muted">–</span>}</dd>
    </div>
  );
}

const orNone = (value: string | null | undefined): ReactNode => (value ? <code>{value}</code> : <span className="muted">none</span>);

function Attestations({ path, fromDetails }: { path: string | null; fromDetails: string | undefined }) {
  const { navigate } = useConsole();
  const list = useApi<AttestationsAnswer>(path ?? undefined);
  const ids = new Map<string, string>();
  if (fromDetails) ids.set(fromDetails, 'named in the details');
  for (const a of list.data?.attestations ?? []) ids.set(a.id, `${a.status}${a.predicate_type ? `, ${a.predicate_type}` : ''}, ${formatDateTime(a.created_at)}`);
  return (
    <>
      {ids.size > 0 ? (
        <ul>
          {[...ids].map(([id, what]) => (
            <li key={id}>
              <Link to={{ page: 'attestations', query: { id } }} navigate={navigate}>
                Verify attestation <code>{id}</code>
              </Link>{' '}
              <span className="muted">({what})</span>
            </li>
          ))}
        </ul>
      ) : list.loading ? (
        <p className="muted">Looking for attestations…</p>
      ) : (
        <p className="empty">{path ? 'No attestation of this resource.' : 'The event names no resource an attestation could be about.'}</p>
      )}
      {/* A resource id that cannot name an attestation subject is refused with a 400: there is none to show. */}
      {list.error && list.error.status !== 400 ? <ErrorPanel error={list.error} what="attestations of this resource" /> : null}
    </>
  );
}

function EventInFull({ detail }: { detail: EventDetailAnswer }) {
  const { navigate } = useConsole();
  const { event, links } = detail;
  const red = redReason(event);
  const attestationId = typeof event.details['attestation_id'] === 'string' ? event.details['attestation_id'] : undefined;
  const resourceFilter = event.resource_id ? queryFromFilter({ ...EMPTY_FILTER, resourceType: event.resource_type ?? '', resourceId: event.resource_id }) : undefined;
  return (
    <>
      <section className="panel" aria-labelledby="event-fields">
        <h2 id="event-fields">Event</h2>
        <dl className="event-facts">
          <Fact term="Event id">
            <code>{event.event_id}</code>
          </Fact>
          <Fact term="Time">
            <time dateTime={event.ts}>{formatDateTime(event.ts)}</time> <code className="muted">{event.ts}</code>
          </Fact>
          <Fact term="Kind">
            <code>{event.kind}</code> {red ? <span className="badge badge-error">{red}</span> : null}
          </Fact>
          <Fact term="Tenant">{orNone(event.tenant_id)}</Fact>
          <Fact term="Project">{orNone(event.project_id)}</Fact>
          <Fact term="Actor">{orNone(event.actor)}</Fact>
          <Fact term="Resource type">{orNone(event.resource_type)}</Fact>
          <Fact term="Resource id">{orNone(event.resource_id)}</Fact>
          <Fact term="Trace id">{orNone(event.trace_id)}</Fact>
          <Fact term="Digest">
            <code>{event.digest}</code>
          </Fact>
          {event.ingested_at ? (
            <Fact term="Stored">
              <time dateTime={event.ingested_at}>{formatDateTime(event.ingested_at)}</time>
            </Fact>
          ) : null}
        </dl>
        <p className="muted help-line">The digest is SHA-256 over the canonical JSON of every other field above but the storage time: anyone holding the event can recompute it.</p>
      </section>

      <section className="panel" aria-labelledby="event-details">
        <h2 id="event-details">Details</h2>
        <DetailsTree details={event.details} label="Event details" />
        <details className="raw-json">
          <summary>Details as JSON</summary>
          <pre>{JSON.stringify(event.details, null, 2)}</pre>
        </details>
      </section>

      <section className="panel" aria-labelledby="event-links">
        <h2 id="event-links">Where it leads</h2>
        {red ? (
          <p>
            <Link to={{ page: 'why', query: { event_id: event.event_id } }} navigate={navigate} className="why-link">
              Why is this red?
            </Link>{' '}
            — the span, log lines and decision behind this {red === 'job failed' ? 'failed job' : 'denial'}.
          </p>
        ) : null}
        <div className="leads">
          <div>
            <h3>Trace</h3>
            {event.trace_id && links.trace ? (
              <ul>
                <li>
                  <Link to={{ page: 'trace', traceId: event.trace_id, query: {} }} navigate={navigate}>
                    Open trace <code>{event.trace_id}</code>
                  </Link>{' '}
                  <span className="muted">— spans, log lines and decision log lines</span>
                </li>
                <li>
                  <Link to={{ page: 'timeline', query: queryFromFilter({ ...EMPTY_FILTER, kind: DECISION_KINDS, traceId: event.trace_id }, 'trace-decisions') }} navigate={navigate}>
                    Decisions for this trace
                  </Link>
                </li>
                <li>
                  <Link to={{ page: 'timeline', query: queryFromFilter({ ...EMPTY_FILTER, traceId: event.trace_id }) }} navigate={navigate}>
                    Every event of this trace
                  </Link>
                </li>
              </ul>
            ) : (
              <p className="empty">The event carries no trace.</p>
            )}
          </div>
          <div>
            <h3>Resource</h3>
            {resourceFilter ? (
              <p>
                <Link to={{ page: 'timeline', query: resourceFilter }} navigate={navigate}>
                  Every event of <code>{resourceOf(event)}</code>
                </Link>
              </p>
            ) : (
              <p className="empty">The event names no resource.</p>
            )}
          </div>
          <div>
            <h3>Evidence bundles</h3>
            {links.evidence.length > 0 ? (
              <ul>
                {links.evidence.map((e) => (
                  <li key={e.bundle_id}>
                    <Link to={{ page: 'bundle', bundleId: e.bundle_id, query: {} }} navigate={navigate}>
                      Bundle <code>{e.bundle_id}</code>
                    </Link>{' '}
                    <span className="muted">
                      ({e.kind}
                      {e.case_id ? `, case ${e.case_id}` : ''}, root <code>{e.root_hash}</code>)
                    </span>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="empty">No evidence bundle is about this event or its resource.</p>
            )}
          </div>
          <div>
            <h3>Attestations</h3>
            <Attestations path={links.attestations} fromDetails={attestationId} />
          </div>
        </div>
      </section>
    </>
  );
}

function ContextView({ eventId, event, context }: { eventId: string; event: TimelineEvent | undefined; context: EventContext }) {
  const { navigate } = useConsole();
  const id = useId();
  const [n, setN] = useState(String(context.n));
  const [scope, setScope] = useState<ContextScope>(context.scope);
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    setN(String(context.n));
    setScope(context.scope);
  }, [context.n, context.scope]);
  const answer = useApi<EventContextAnswer>(contextPath(eventId, context));

  const submit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const value = Number(n);
    if (!/^\d+$/.test(n.trim()) || value < MIN_CONTEXT || value > MAX_CONTEXT) {
      setProblem(`From ${MIN_CONTEXT} to ${MAX_CONTEXT} events.`);
      document.getElementById(`${id}-n`)?.focus();
      return;
    }
    setProblem(undefined);
    navigate({ page: 'event', eventId, query: queryFromContext({ n: value, scope }) });
  };

  const among =
    context.scope === 'resource' ? (event?.resource_id ? `events of ${resourceOf(event)}` : 'events of its resource') : context.scope === 'trace' ? (event?.trace_id ? `events of trace ${event.trace_id}` : 'events of its trace') : 'all events of the tenant';
  // While another context loads, the last one is not shown under the new one's title.
  const data = answer.loading ? undefined : answer.data;
  const rows = data ? [...data.before, data.event, ...data.after] : [];
  return (
    <section className="panel" aria-labelledby={`${id}-title`} aria-busy={answer.loading}>
      <h2 id={`${id}-title`}>Context: ±{context.n} events</h2>
      <form className="context-form" onSubmit={submit} aria-label="Context around this event" noValidate>
        <div className="field">
          <label htmlFor={`${id}-n`}>Events before and after</label>
          <input
            id={`${id}-n`}
            type="number"
            min={MIN_CONTEXT}
            max={MAX_CONTEXT}
            value={n}
            onChange={(e) => setN(e.target.value)}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-n-problem` : undefined}
          />
          {problem ? (
            <span id={`${id}-n-problem`} className="field-problem">
              {problem}
            </span>
          ) : null}
        </div>
        <fieldset className="field scope">
          <legend>Among</legend>
          {CONTEXT_SCOPES.map((s) => (
            <label key={s.scope}>
              <input type="radio" name={`${id}-scope`} value={s.scope} checked={scope === s.scope} onChange={() => setScope(s.scope)} /> {s.label}
            </label>
          ))}
        </fieldset>
        <div className="field actions">
          <button type="submit">Show context</button>
        </div>
      </form>
      {answer.error ? <ErrorPanel error={answer.error} what="events around this one" /> : null}
      {data ? (
        <>
          <p role="status">
            {data.before.length} {data.before.length === 1 ? 'event' : 'events'} before and {data.after.length} after this one among {among}, oldest first.
            {data.before.length < context.n ? ' Nothing earlier matches.' : ''}
            {data.after.length < context.n ? ' Nothing later matches.' : ''}
          </p>
          <EventTable events={rows} caption={`This event with the ${context.n} events before and after it among ${among}, oldest first`} navigate={navigate} centreId={data.event.event_id} />
        </>
      ) : answer.loading ? (
        <p className="muted">Reading the events around it…</p>
      ) : null}
    </section>
  );
}

export function EventPage({ eventId, query }: { eventId: string; query: Query }) {
  const { navigate } = useConsole();
  const detail = useApi<EventDetailAnswer>(`/timeline/${encodeURIComponent(eventId)}`);
  const context = contextFromQuery(query);
  const event = detail.data?.event;
  return (
    <>
      <div className="page-head">
        <h1>Timeline event</h1>
        {event ? (
          <p>
            <code>{event.kind}</code> at <time dateTime={event.ts}>{formatDateTime(event.ts)}</time>
          </p>
        ) : null}
        <p>
          <Link to={{ page: 'timeline', query: {} }} navigate={navigate}>
            Back to the timeline
          </Link>
        </p>
      </div>
      {detail.error ? <ErrorPanel error={detail.error} what={`event ${eventId}`} /> : null}
      {detail.loading && !detail.data ? <p className="muted">Reading the event…</p> : null}
      {detail.data ? <EventInFull detail={detail.data} /> : null}
      {detail.error?.status === 404 || detail.error?.status === 400 ? null : <ContextView eventId={eventId} event={event} context={context} />}
    </>
  );
}
