/**
 * The Forensics Explorer's timeline (CON-2): the tenant's events, newest first, filtered by kind,
 * resource, project, actor, what the event's trace touched, trace id and a window; one-click
 * canned filters; the user's saved filters. The filter lives in the page's URL (shareable, Back
 * works); it is checked before it is sent, and the service's refusals are shown as it words
 * them, with the field at fault marked. Pages follow the service's `next_cursor` ("Load more").
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, withQuery } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { EventTable } from './event-table.js';
import { SavedFilters } from './saved-filters.js';
import {
  CANNED_FILTERS,
  cannedFilter,
  checkCannedValue,
  checkFilter,
  fieldOfServiceError,
  filterFromQuery,
  formatMinutes,
  isoOfLocalInput,
  localInputOf,
  MAX_KINDS,
  PAGE_SIZES,
  queryFromFilter,
  sameFilter,
  WINDOW_CHOICES,
  type CannedFilter,
  type FilterField,
  type FilterProblem,
  type TimelineFilter,
} from './timeline-filter.js';
import type { TimelineEvent, TimelinePageAnswer } from './timeline-types.js';
import './forensics.css';

interface Pages {
  events: TimelineEvent[];
  next: string | null;
  window: { from: string; to: string } | undefined;
  loading: boolean;
  loadingMore: boolean;
  error: ApiError | undefined;
  /** How many events the last "Load more" added (announced). */
  added: number | undefined;
}

const NO_PAGES: Pages = { events: [], next: null, window: undefined, loading: false, loadingMore: false, error: undefined, added: undefined };

const asApiError = (error: unknown): ApiError => (error instanceof ApiError ? error : new ApiError(0, (error as Error).message, {}, ''));

/** Reads the first page of a request, and the next one on `loadMore` (same filter and window, the service's cursor). */
function useTimelinePages(request: { params: Record<string, string>; run: number } | undefined): Pages & { loadMore(): void } {
  const { client, onUnauthorized } = useConsole();
  const [pages, setPages] = useState<Pages>(NO_PAGES);
  const controller = useRef<AbortController | undefined>(undefined);

  const fail = useCallback(
    (error: unknown, signal: AbortSignal) => {
      if (signal.aborted) return;
      const apiError = asApiError(error);
      if (apiError.status === 401) onUnauthorized(apiError);
      setPages((p) => ({ ...p, loading: false, loadingMore: false, error: apiError }));
    },
    [onUnauthorized],
  );

  useEffect(() => {
    controller.current?.abort();
    if (!request) {
      setPages(NO_PAGES);
      return;
    }
    const c = new AbortController();
    controller.current = c;
    setPages({ ...NO_PAGES, loading: true });
    client.get<TimelinePageAnswer>(withQuery('/timeline', request.params), c.signal).then(
      (answer) => {
        if (!c.signal.aborted) setPages({ ...NO_PAGES, events: answer.events, next: answer.next_cursor, window: answer.window });
      },
      (error: unknown) => fail(error, c.signal),
    );
    return () => c.abort();
  }, [client, request, fail]);

  const loadMore = useCallback(() => {
    if (!request || !pages.next || !pages.window || pages.loadingMore) return;
    const c = new AbortController();
    controller.current = c;
    setPages((p) => ({ ...p, loadingMore: true, error: undefined, added: undefined }));
    // The cursor is a position in the same result: the same filter over the same window.
    const params = { ...request.params, from: pages.window.from, to: pages.window.to, cursor: pages.next };
    client.get<TimelinePageAnswer>(withQuery('/timeline', params), c.signal).then(
      (answer) => {
        if (!c.signal.aborted) setPages((p) => ({ ...p, events: [...p.events, ...answer.events], next: answer.next_cursor, loadingMore: false, added: answer.events.length }));
      },
      (error: unknown) => fail(error, c.signal),
    );
  }, [client, request, pages.next, pages.window, pages.loadingMore, fail]);

  return { ...pages, loadMore };
}

/** The value of the window select for a filter. */
const windowValue = (filter: TimelineFilter): string => (filter.time === 'window' ? String(filter.windowMinutes) : filter.time);

function CannedFilterItem({ canned, initial, navigate }: { canned: CannedFilter; initial: string; navigate(query: Query): void }) {
  const id = useId();
  const [value, setValue] = useState(initial);
  const [problem, setProblem] = useState<string>();
  useEffect(() => setValue(initial), [initial]);
  const apply = (event?: FormEvent<HTMLFormElement>): void => {
    event?.preventDefault();
    const p = checkCannedValue(canned, value);
    setProblem(p);
    if (!p) navigate(queryFromFilter(canned.build(value), canned.id));
  };
  return (
    <li className="canned">
      <h3 id={`${id}-title`}>{canned.title}</h3>
      {canned.input ? (
        <form onSubmit={apply} aria-labelledby={`${id}-title`} noValidate>
          <label htmlFor={`${id}-value`}>{canned.input.label}</label>
          <input
            id={`${id}-value`}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder={canned.input.placeholder}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={problem ? true : undefined}
            aria-describedby={`${id}-what${problem ? ` ${id}-problem` : ''}`}
          />
          <button type="submit" aria-describedby={`${id}-what`}>
            Show
            <span className="visually-hidden"> {canned.title.toLowerCase()}</span>
          </button>
          {problem ? (
            <span id={`${id}-problem`} className="field-problem">
              {problem}
            </span>
          ) : null}
        </form>
      ) : (
        <button type="button" onClick={() => apply()} aria-describedby={`${id}-what`}>
          Show all policy changes
        </button>
      )}
      <p id={`${id}-what`} className="muted what">
        {canned.explanation}
      </p>
    </li>
  );
}

export function TimelinePage({ query }: { query: Query }) {
  const { navigate, tenant } = useConsole();
  const id = useId();
  const routed = useMemo(() => filterFromQuery(query), [query]);
  const label = query['filter'];
  const canned = cannedFilter(label);
  const savedName = label?.startsWith('saved:') ? label.slice('saved:'.length) : undefined;
  const [form, setForm] = useState<TimelineFilter>(routed);
  const [problems, setProblems] = useState<FilterProblem[]>([]);
  const [request, setRequest] = useState<{ params: Record<string, string>; run: number }>();
  const statusLine = useRef<HTMLParagraphElement>(null);

  // Runs the search the URL describes: on arrival, on Back and Forward, after each submit.
  useEffect(() => {
    setForm(routed);
    const checked = checkFilter(routed, Date.now());
    setProblems(checked.ok ? [] : checked.problems);
    setRequest((r) => (checked.ok ? { params: checked.params, run: (r?.run ?? 0) + 1 } : undefined));
  }, [routed]);

  const pages = useTimelinePages(request);
  // "Load more" goes away with the last page: the focus it had moves to the line that says how many events there are.
  useEffect(() => {
    if (pages.added !== undefined && !pages.next && (document.activeElement === document.body || document.activeElement === null)) statusLine.current?.focus();
  }, [pages.added, pages.next]);
  const serviceField = pages.error?.status === 400 ? fieldOfServiceError(pages.error.answer.field, routed) : undefined;

  const goTo = (next: Query): void => navigate({ page: 'timeline', query: next });
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = checkFilter(form, Date.now());
    if (!checked.ok) {
      setProblems(checked.problems);
      document.getElementById(`${id}-${checked.problems[0]!.field}`)?.focus();
      return;
    }
    // The canned or saved filter's name stays only while the filter is still that one.
    goTo(queryFromFilter(form, sameFilter(form, routed) ? label : undefined));
  };

  const problemOf = (field: FilterField): string | undefined => problems.find((p) => p.field === field)?.message ?? (serviceField === field ? pages.error?.message : undefined);
  const control = (field: FilterField, help?: boolean) => {
    const problem = problemOf(field);
    const described = [help ? `${id}-${field}-help` : '', problem ? `${id}-${field}-problem` : ''].filter(Boolean).join(' ');
    return { id: `${id}-${field}`, 'aria-invalid': problem ? true : undefined, 'aria-describedby': described || undefined };
  };
  const problemText = (field: FilterField) => {
    const problem = problemOf(field);
    return problem ? (
      <span id={`${id}-${field}-problem`} className="field-problem">
        {problem}
      </span>
    ) : null;
  };
  const text = (field: 'kind' | 'resourceType' | 'resourceId' | 'project' | 'actor' | 'touches' | 'traceId', labelText: string, extra: { placeholder?: string; help?: string; wide?: boolean } = {}) => (
    <div className={`field${extra.wide ? ' wide' : ''}`}>
      <label htmlFor={`${id}-${field}`}>{labelText}</label>
      <input {...control(field, !!extra.help)} value={form[field]} onChange={(e) => setForm({ ...form, [field]: e.target.value })} placeholder={extra.placeholder} autoComplete="off" spellCheck={false} />
      {extra.help ? (
        <span id={`${id}-${field}-help`} className="help-line muted">
          {extra.help}
        </span>
      ) : null}
      {problemText(field)}
    </div>
  );

  const windows: number[] = [...WINDOW_CHOICES];
  if (form.time === 'window' && Number.isFinite(form.windowMinutes) && !windows.includes(form.windowMinutes)) windows.push(form.windowMinutes);
  const pageSizes: number[] = [...PAGE_SIZES];
  if (!pageSizes.includes(form.limit)) pageSizes.push(form.limit);
  const chooseWindow = (value: string): void => {
    if (value === 'retention') setForm({ ...form, time: 'retention' });
    else if (value === 'range') {
      const now = Date.now();
      const back = form.time === 'window' && Number.isFinite(form.windowMinutes) ? form.windowMinutes : 60;
      setForm({ ...form, time: 'range', from: form.from || new Date(now - back * 60_000).toISOString(), to: form.to || new Date(now).toISOString() });
    } else setForm({ ...form, time: 'window', windowMinutes: Number(value) });
  };

  const resultsTitle = `${id}-results`;
  return (
    <>
      <div className="page-head">
        <h1>Timeline</h1>
        <p className="muted">
          Every state change tenant <strong>{tenant}</strong> recorded — jobs, SBOMs, advisories, policy decisions, evidence, audited settings — newest first.
        </p>
      </div>
      <form role="search" aria-label="Timeline filter" className="panel timeline-form" onSubmit={submit} noValidate>
        {text('kind', 'Kind', { placeholder: 'job.failed, policy.*', help: `Up to ${MAX_KINDS}, comma-separated: a kind (job.failed) or a prefix (policy.*).`, wide: true })}
        {text('resourceType', 'Resource type', { placeholder: 'job' })}
        {text('resourceId', 'Resource id')}
        {text('project', 'Project')}
        {text('actor', 'Actor', { placeholder: 'user:acme-analyst' })}
        {text('touches', 'Touches', { placeholder: 'partner-osv, pkg:npm/…', help: "The event's trace touched it: the event or another event of its trace has it as resource id or in its details' text (case-sensitive).", wide: true })}
        {text('traceId', 'Trace id', { placeholder: '32 hexadecimal characters' })}
        <div className="field">
          <label htmlFor={`${id}-window`}>Window</label>
          <select {...control('window')} value={windowValue(form)} onChange={(e) => chooseWindow(e.target.value)}>
            <option value="retention">all retained events</option>
            {windows.map((m) => (
              <option key={m} value={String(m)}>
                last {formatMinutes(m)}
              </option>
            ))}
            {form.time === 'window' && !Number.isFinite(form.windowMinutes) ? <option value="NaN">(not a window)</option> : null}
            <option value="range">from … to …</option>
          </select>
          {problemText('window')}
        </div>
        {form.time === 'range' ? (
          <>
            <div className="field">
              <label htmlFor={`${id}-from`}>From</label>
              <input {...control('from')} type="datetime-local" step={1} value={localInputOf(form.from)} onChange={(e) => setForm({ ...form, from: isoOfLocalInput(e.target.value) })} />
              {problemText('from')}
            </div>
            <div className="field">
              <label htmlFor={`${id}-to`}>To</label>
              <input {...control('to')} type="datetime-local" step={1} value={localInputOf(form.to)} onChange={(e) => setForm({ ...form, to: isoOfLocalInput(e.target.value) })} />
              {problemText('to')}
            </div>
          </>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-limit`}>Per page</label>
          <select {...control('limit')} value={String(form.limit)} onChange={(e) => setForm({ ...form, limit: Number(e.target.value) })}>
            {pageSizes.map((n) => (
              <option key={n} value={String(n)}>
                {Number.isFinite(n) ? `${n} events` : '(not a number)'}
              </option>
            ))}
          </select>
          {problemText('limit')}
        </div>
        <div className="field actions">
          <button type="submit">Show events</button>
          <button type="button" className="small" onClick={() => goTo({})}>
            Clear filter
          </button>
        </div>
      </form>

      <div className="timeline-aids">
        <section className="panel canned-filters" aria-labelledby={`${id}-canned`}>
          <h2 id={`${id}-canned`}>Canned filters</h2>
          <ul>
            {CANNED_FILTERS.map((c) => (
              <CannedFilterItem key={c.id} canned={c} initial={c.input ? routed[c.input.field] : ''} navigate={goTo} />
            ))}
          </ul>
        </section>
        <SavedFilters key={savedName ?? ''} current={routed} appliedName={savedName} />
      </div>

      <section className="panel" aria-labelledby={resultsTitle} aria-busy={pages.loading || pages.loadingMore}>
        <h2 id={resultsTitle}>Events</h2>
        {canned ? (
          <p className="applied-filter">
            Canned filter <strong>{canned.title}</strong>
            {canned.input && routed[canned.input.field] ? (
              <>
                {' '}
                <code>{routed[canned.input.field]}</code>
              </>
            ) : null}
            : {canned.explanation}
          </p>
        ) : savedName ? (
          <p className="applied-filter">
            Saved filter <strong>{savedName}</strong>.
          </p>
        ) : null}
        {routed.traceId && /^[0-9a-fA-F]{32}$/.test(routed.traceId) ? (
          <p>
            <Link to={{ page: 'trace', traceId: routed.traceId.toLowerCase(), query: {} }} navigate={navigate}>
              Open trace <code>{routed.traceId.toLowerCase()}</code>
            </Link>{' '}
            — its spans, log lines and decision log lines (authorisation and policy decisions).
          </p>
        ) : null}
        {pages.error ? <ErrorPanel error={pages.error} what="timeline" /> : null}
        {problems.length > 0 ? <p className="notice">Correct the marked field{problems.length === 1 ? '' : 's'} in the filter to see events.</p> : null}
        {pages.loading ? <p className="muted">Reading the timeline…</p> : null}
        {pages.window && !pages.loading ? (
          <>
            <p role="status" ref={statusLine} tabIndex={-1}>
              {pages.events.length === 0 ? 'No events' : `${pages.events.length} ${pages.events.length === 1 ? 'event' : 'events'}`} between {formatDateTime(pages.window.from)} and {formatDateTime(pages.window.to)}, newest first
              {pages.next ? '; more are available' : ''}.{pages.added !== undefined ? ` ${pages.added} more loaded.` : ''}
            </p>
            {pages.events.length > 0 ? <EventTable events={pages.events} caption="Timeline events, newest first" navigate={navigate} /> : null}
            {pages.next ? (
              <button type="button" className="load-more" onClick={pages.loadMore} aria-disabled={pages.loadingMore}>
                {pages.loadingMore ? 'Loading…' : 'Load more'}
              </button>
            ) : null}
          </>
        ) : null}
      </section>
    </>
  );
}
