/**
 * Evidence (CON-2): the tenant's evidence bundles, newest first — kind, case, resource, when,
 * Merkle root, signer, legal hold and retention — filtered by case and kind (kept in the URL),
 * each linking to its viewer; the way to a new snapshot and to the comparison of two evaluations.
 */
import { useId, useMemo, useState, type FormEvent } from 'react';
import { withQuery } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { formatBytes, ShortHash, when } from './evidence-ui.js';
import { KINDS, kindInfo, type BundleList, type EvidenceRetention, type TimelineAnswer } from './evidence-types.js';

const LIMIT = 500;

/** A case's legal hold as its latest hold event says: placed (with reason and time) or released. */
interface CaseHold {
  held: boolean;
  at: string;
  reason: string;
}

/** The latest `audit.evidence.hold_placed` / `hold_released` event of each case. */
export function holdsByCase(answer: TimelineAnswer | undefined): Map<string, CaseHold> {
  const holds = new Map<string, CaseHold>();
  // Newest first: the first event seen for a case is its state.
  for (const e of answer?.events ?? []) {
    if (!e.resource_id || holds.has(e.resource_id)) continue;
    if (e.kind === 'audit.evidence.hold_placed' || e.kind === 'audit.evidence.hold_released') {
      holds.set(e.resource_id, { held: e.kind === 'audit.evidence.hold_placed', at: e.ts, reason: typeof e.details['reason'] === 'string' ? e.details['reason'] : '' });
    }
  }
  return holds;
}

function Retention({ retainUntil, retention, now }: { retainUntil: string | null; retention: EvidenceRetention | undefined; now: number }) {
  const extended = retention?.extended_until && Date.parse(retention.extended_until) > now ? retention.extended_until : undefined;
  if (!retainUntil) return <span className="muted">–</span>;
  const kept = Date.parse(retainUntil) > now;
  return (
    <>
      {kept ? `retained until ${when(retainUntil)}` : `retention ended ${when(retainUntil)}`}
      {extended ? <span className="note-line">extended until {when(extended)} (incident mode)</span> : null}
    </>
  );
}

export function EvidencePage({ query }: { query: Query }) {
  const { tenant, navigate } = useConsole();
  const id = useId();
  const caseFilter = query['case_id'] ?? '';
  const kindFilter = kindInfo(query['kind'])?.kind;
  const [caseText, setCaseText] = useState(caseFilter);
  const [kindChoice, setKindChoice] = useState<string>(kindFilter ?? '');
  const [refreshKey, setRefreshKey] = useState(0);

  const list = useApi<BundleList>(withQuery('/evidence', { case_id: caseFilter || undefined, limit: LIMIT }), { refreshKey });
  const allCases = useApi<BundleList>(caseFilter ? withQuery('/evidence', { limit: LIMIT }) : undefined);
  const retention = useApi<EvidenceRetention>('/evidence/retention');
  const holdEvents = useApi<TimelineAnswer>(withQuery('/timeline', { kind: 'audit.evidence.*', resource_type: 'evidence_case', limit: 1000 }), { refreshKey });
  const holds = useMemo(() => holdsByCase(holdEvents.data), [holdEvents.data]);
  const now = list.loadedAt ?? 0;

  const bundles = (list.data?.bundles ?? []).filter((b) => !kindFilter || b.kind === kindFilter);
  const cases = [...new Set((allCases.data ?? list.data)?.bundles.map((b) => b.case_id) ?? [])].sort();

  const apply = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    navigate({ page: 'evidence', query: { case_id: caseText.trim() || undefined, kind: kindChoice || undefined } });
  };

  return (
    <>
      <div className="page-head">
        <h1>Evidence</h1>
        <p>
          Tenant <strong>{tenant}</strong> · signed, write-once evidence bundles ·{' '}
          <button type="button" className="small" onClick={() => setRefreshKey((n) => n + 1)}>
            Refresh
          </button>
        </p>
      </div>
      <div className="evidence-actions">
        <Link to={{ page: 'snapshot', query: { case_id: caseFilter || undefined, kind: kindFilter } }} navigate={navigate} className="button-link">
          Create snapshot
        </Link>
        <Link to={{ page: 'evaluation-compare', query: {} }} navigate={navigate} className="button-link secondary">
          Compare evaluations
        </Link>
        <Link to={{ page: 'attestations', query: {} }} navigate={navigate}>
          Verify an attestation
        </Link>
      </div>

      <form role="search" aria-label="Filter bundles" className="filter-form" onSubmit={apply}>
        <div className="field">
          <label htmlFor={`${id}-case`}>Case</label>
          <input id={`${id}-case`} list={`${id}-cases`} value={caseText} onChange={(e) => setCaseText(e.target.value)} placeholder="any case" autoComplete="off" spellCheck={false} />
          <datalist id={`${id}-cases`}>
            {cases.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={kindChoice} onChange={(e) => setKindChoice(e.target.value)}>
            <option value="">any kind</option>
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
        {caseFilter || kindFilter ? (
          <Link to={{ page: 'evidence', query: {} }} navigate={navigate}>
            Show all bundles
          </Link>
        ) : null}
      </form>

      <section className="panel" aria-labelledby={`${id}-bundles`} aria-busy={list.loading}>
        <h2 id={`${id}-bundles`}>Bundles</h2>
        {list.error ? (
          <ErrorPanel error={list.error} what="the bundle list" />
        ) : !list.data ? (
          <p className="muted">Loading…</p>
        ) : bundles.length === 0 ? (
          <p className="empty">
            No bundle{caseFilter ? ` in case ${caseFilter}` : ''}
            {kindFilter ? ` of kind ${kindInfo(kindFilter)?.label.toLowerCase()}` : ''} yet. <strong>Create snapshot</strong> gathers and signs one.
          </p>
        ) : (
          <div className="table-scroll">
            <table className="bundles">
              <caption>
                {bundles.length} bundle{bundles.length === 1 ? '' : 's'}
                {caseFilter ? ` in case ${caseFilter}` : ''}
                {kindFilter ? `, ${kindInfo(kindFilter)?.label.toLowerCase()}s` : ''}, newest first
                {list.data.bundles.length >= LIMIT ? ` (the newest ${LIMIT}: filter by case for older ones)` : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Bundle</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Case</th>
                  <th scope="col">Resource</th>
                  <th scope="col">Created</th>
                  <th scope="col">Merkle root</th>
                  <th scope="col">Signer key</th>
                  <th scope="col">Hold and retention</th>
                  <th scope="col">Files</th>
                </tr>
              </thead>
              <tbody>
                {bundles.map((b) => {
                  const hold = holds.get(b.case_id);
                  return (
                    <tr key={b.bundle_id} data-bundle-id={b.bundle_id}>
                      <th scope="row">
                        <Link to={{ page: 'bundle', bundleId: b.bundle_id, query: {} }} navigate={navigate}>
                          <code>{b.bundle_id}</code>
                        </Link>
                      </th>
                      <td>{kindInfo(b.kind)?.label ?? b.kind}</td>
                      <td>
                        <Link to={{ page: 'evidence', query: { case_id: b.case_id, kind: kindFilter } }} navigate={navigate}>
                          {b.case_id}
                        </Link>
                      </td>
                      <td>
                        {b.resource_type ? <span className="muted">{b.resource_type}/</span> : null}
                        <code>{b.resource_id ?? '–'}</code>
                      </td>
                      <td className="nowrap">{when(b.created_at)}</td>
                      <td>
                        <ShortHash value={b.root_hash} />
                      </td>
                      <td>
                        <ShortHash value={b.signer_key_id} />
                      </td>
                      <td>
                        {hold?.held ? (
                          <span className="badge badge-hold" title={hold.reason}>
                            legal hold
                          </span>
                        ) : null}{' '}
                        <Retention retainUntil={b.retain_until} retention={retention.data} now={now} />
                        {b.timestamped ? <span className="note-line">timestamped</span> : null}
                      </td>
                      <td className="num nowrap">
                        {b.file_count ?? '–'} · {formatBytes(b.content_bytes)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {holdEvents.error ? (
          <p className="muted">
            Legal holds are read from the timeline, which this token cannot read ({holdEvents.error.answer.required_scope ?? `HTTP ${holdEvents.error.status}`}); each bundle&apos;s page shows its case&apos;s hold.
          </p>
        ) : null}
      </section>
    </>
  );
}
