/**
 * Saved filters (CON-2): the signed-in user's named timeline filters on the selected tenant,
 * kept by the service per token subject and tenant (`GET/PUT/DELETE /timeline/filters`). Save
 * the applied filter under a name, apply one, replace one with the applied filter, delete one; the
 * service's refusals (a bad name, the limit of 100, one already gone) are shown as it words them.
 */
import { useId, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/api-client.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatDateTime } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { checkFilterName, describeSaved, filterOfSaved, MAX_SAVED_FILTERS, queryFromFilter, savedLabel, savedQueryOf, type TimelineFilter } from './timeline-filter.js';
import type { SavedFiltersAnswer } from './timeline-types.js';
import './forensics.css';

const filterPath = (name: string): string => `/timeline/filters/${encodeURIComponent(name)}`;

export function SavedFilters({ current, appliedName }: { current: TimelineFilter; appliedName: string | undefined }) {
  const { client, navigate, onUnauthorized, who, tenant } = useConsole();
  const id = useId();
  const [version, setVersion] = useState(0);
  const list = useApi<SavedFiltersAnswer>('/timeline/filters', { refreshKey: version });
  const [name, setName] = useState(appliedName ?? '');
  const [nameProblem, setNameProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  // Buttons stay enabled (a disabled button would drop the keyboard focus); a change asked for while another runs is ignored.
  const running = useRef(false);
  const [failure, setFailure] = useState<{ error: ApiError; what: string }>();
  const [status, setStatus] = useState<string>();

  const filters = list.data?.filters ?? [];
  const trimmed = name.trim();
  const exists = filters.some((f) => f.name === trimmed);

  /** Runs one change; a refusal is shown, a 401 signs out, and the list is read again either way. */
  const change = async (what: string, call: () => Promise<unknown>, done: string): Promise<boolean> => {
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    setFailure(undefined);
    setStatus(undefined);
    try {
      await call();
      setStatus(done);
      return true;
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(0, (error as Error).message, {}, '');
      if (apiError.status === 401) onUnauthorized(apiError);
      setFailure({ error: apiError, what });
      if (apiError.answer.field?.startsWith('params.name')) setNameProblem(apiError.message);
      return false;
    } finally {
      running.current = false;
      setBusy(false);
      setVersion((v) => v + 1);
    }
  };

  const put = (filterName: string, replacing: boolean): Promise<boolean> =>
    change(
      `${replacing ? 'replacing' : 'saving'} “${filterName}”`,
      () => client.request('PUT', filterPath(filterName), { body: { query: savedQueryOf(current) } }),
      `${replacing ? 'Replaced' : 'Saved'} “${filterName}”: ${describeSaved(savedQueryOf(current))}.`,
    );

  const save = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const problem = checkFilterName(trimmed);
    setNameProblem(problem);
    if (problem) return;
    void put(trimmed, exists);
  };

  const remove = (filterName: string): void => {
    void change(`deleting “${filterName}”`, () => client.request('DELETE', filterPath(filterName)), `Deleted “${filterName}”.`);
  };

  return (
    <section className="panel saved-filters" aria-labelledby={`${id}-title`} aria-busy={list.loading || busy}>
      <h2 id={`${id}-title`}>Saved filters</h2>
      <p className="muted">
        Yours alone: kept by the service for <strong>{who.subject}</strong> on tenant <strong>{tenant}</strong>, at most {MAX_SAVED_FILTERS}.
      </p>
      <form className="save-filter" onSubmit={save} aria-label="Save the applied filter" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setNameProblem(undefined);
            }}
            maxLength={64}
            autoComplete="off"
            aria-invalid={nameProblem ? true : undefined}
            aria-describedby={`${id}-name-help${nameProblem ? ` ${id}-name-problem` : ''}`}
          />
          {nameProblem ? (
            <span id={`${id}-name-problem`} className="field-problem">
              {nameProblem}
            </span>
          ) : null}
        </div>
        <button type="submit">
          {exists ? 'Replace saved filter' : 'Save filter'}
        </button>
        <p id={`${id}-name-help`} className="muted help-line">
          Saves the applied filter ({describeSaved(savedQueryOf(current))}) under 1–64 letters, digits, spaces, dots, underscores or hyphens.
          {exists ? ' A filter of this name exists: saving replaces it.' : ''}
          {current.time === 'range' ? ' A from–to range is not kept: a saved filter keeps a look-back window, or none (the whole retention).' : ''}
        </p>
      </form>
      <p role="status" className="status-line">
        {status}
      </p>
      {failure ? <ErrorPanel error={failure.error} what={failure.what} /> : null}
      {list.error ? <ErrorPanel error={list.error} what="saved filters" /> : null}
      {list.data ? (
        filters.length === 0 ? (
          <p className="empty">No saved filters yet.</p>
        ) : (
          <table className="saved-list">
            <caption className="visually-hidden">Your saved filters</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Filter</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {filters.map((f) => (
                <tr key={f.name} className={f.name === appliedName ? 'applied' : undefined}>
                  <th scope="row">
                    {f.name}
                    {f.name === appliedName ? <span className="badge badge-centre">applied</span> : null}
                  </th>
                  <td>
                    <code>{describeSaved(f.query)}</code>
                  </td>
                  <td className="nowrap">
                    <time dateTime={f.updated_at}>{formatDateTime(f.updated_at)}</time>
                  </td>
                  <td className="actions">
                    <Link to={{ page: 'timeline', query: queryFromFilter(filterOfSaved(f.query), savedLabel(f.name)) }} navigate={navigate}>
                      Apply<span className="visually-hidden"> saved filter {f.name}</span>
                    </Link>
                    <button type="button" className="small" onClick={() => void put(f.name, true)}>
                      Replace with the applied filter<span className="visually-hidden"> ({f.name})</span>
                    </button>
                    <button type="button" className="small" onClick={() => remove(f.name)}>
                      Delete<span className="visually-hidden"> saved filter {f.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  );
}
