/**
 * Two policy evaluations compared (CON-2), each an evaluation bundle of any of the token's
 * tenants (`?a=<tenant>/<bundle_id>&b=<tenant>/<bundle_id>`): the bundles' own files — the
 * findings evaluated, their VEX statuses and the VEX documents, the decisions, the policy set and
 * the engine — read through the files API under each bundle's tenant, and what was added,
 * removed or changed from A to B, keyed by advisory id and package URL.
 */
import { useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, withQuery, type ApiClient } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';
import { tenantChoices } from '../session/session.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { Link } from '../shell/link.js';
import {
  compareEvaluations,
  evaluationFiles,
  evaluationSide,
  findingKey,
  type Change,
  type DecisionRow,
  type EvaluationComparison,
  type EvaluationSide,
  type FindingRow,
  type RowDiff,
  type RuleRow,
  type ValueDiff,
  type VexRow,
} from './evaluation-diff.js';
import { filePath, ShortHash, useAction, when } from './evidence-ui.js';
import type { BundleDetail, BundleList } from './evidence-types.js';

export interface BundleRef {
  tenant: string;
  bundleId: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TENANT = /^[A-Za-z0-9_-]{1,64}$/;

/** `<tenant>/<bundle_id>` → its parts, or undefined when it is not one. */
export function parseRef(text: string | undefined): BundleRef | undefined {
  const at = text?.indexOf('/') ?? -1;
  if (!text || at < 1) return undefined;
  const ref = { tenant: text.slice(0, at), bundleId: text.slice(at + 1) };
  return TENANT.test(ref.tenant) && ID.test(ref.bundleId) ? ref : undefined;
}

const refText = (ref: BundleRef): string => `${ref.tenant}/${ref.bundleId}`;

interface LoadedSide {
  ref: BundleRef;
  detail: BundleDetail;
  side: EvaluationSide;
  /** The first refused file read (shown in full when no file could be read). */
  fileError: ApiError | undefined;
}

/** One side: the bundle (verified on read by the service) and its evaluation files, all under the bundle's own tenant. */
async function loadSide(client: ApiClient, ref: BundleRef, signal: AbortSignal): Promise<LoadedSide> {
  const detail = await client.request<BundleDetail>('GET', `/evidence/${encodeURIComponent(ref.bundleId)}`, { tenant: ref.tenant, signal });
  const files = evaluationFiles(detail.manifest.files ?? []);
  const paths = [files.findings, files.decisions, files.policy?.path, files.engine, ...files.vex].filter((p): p is string => !!p);
  const contents = new Map<string, unknown>();
  const refused: { path: string; text: string }[] = [];
  let fileError: ApiError | undefined;
  await Promise.all(
    paths.map(async (path) => {
      try {
        contents.set(path, await client.request<unknown>('GET', filePath(ref.bundleId, path), { tenant: ref.tenant, signal }));
      } catch (error) {
        if (signal.aborted) throw error;
        const e = error instanceof ApiError ? error : new ApiError(0, (error as Error).message, {}, '');
        fileError ??= e;
        refused.push({ path, text: `${path}: ${e.message}${e.status ? ` (HTTP ${e.status}${e.code ? ` ${e.code}` : ''})` : ''}` });
      }
    }),
  );
  const side = evaluationSide(files, contents);
  // A refused file is named once, with the service's reason.
  side.problems = [...refused.map((r) => r.text), ...side.problems.filter((p) => !refused.some((r) => p === `${r.path} could not be read`))];
  if (detail.bundle.kind !== 'evaluation') side.problems.unshift(`this is a ${detail.bundle.kind} bundle, not an evaluation bundle`);
  return { ref, detail, side, fileError };
}

/** The evaluation bundles of one tenant, newest first. */
function useTenantBundles(tenant: string | undefined): { bundles: BundleList['bundles'] | undefined; error: ApiError | undefined } {
  const { client } = useConsole();
  const [state, setState] = useState<{ tenant?: string; bundles?: BundleList['bundles']; error?: ApiError }>({});
  useEffect(() => {
    if (!tenant) return;
    const controller = new AbortController();
    client.request<BundleList>('GET', withQuery('/evidence', { limit: 500 }), { tenant, signal: controller.signal }).then(
      (list) => setState({ tenant, bundles: list.bundles.filter((b) => b.kind === 'evaluation') }),
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ tenant, error: error instanceof ApiError ? error : new ApiError(0, (error as Error).message, {}, '') });
      },
    );
    return () => controller.abort();
  }, [client, tenant]);
  return state.tenant === tenant ? { bundles: state.bundles, error: state.error } : { bundles: undefined, error: undefined };
}

function Picker({ label, tenants, value, onChange, idBase }: { label: string; tenants: string[]; value: { tenant: string; bundleId: string }; onChange(v: { tenant: string; bundleId: string }): void; idBase: string }) {
  const { bundles, error } = useTenantBundles(value.tenant);
  // The newest evaluation of a tenant just chosen.
  useEffect(() => {
    if (bundles && bundles.length > 0 && value.bundleId === '') onChange({ tenant: value.tenant, bundleId: bundles[0]!.bundle_id });
  }, [bundles, value, onChange]);
  return (
    <fieldset className="eval-picker">
      <legend>{label}</legend>
      <div className="field">
        <label htmlFor={`${idBase}-tenant`}>Tenant</label>
        <select id={`${idBase}-tenant`} value={value.tenant} onChange={(e) => onChange({ tenant: e.target.value, bundleId: '' })}>
          {tenants.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <div className="field wide">
        <label htmlFor={`${idBase}-bundle`}>Evaluation bundle</label>
        <select id={`${idBase}-bundle`} value={value.bundleId} onChange={(e) => onChange({ tenant: value.tenant, bundleId: e.target.value })} disabled={!bundles || bundles.length === 0}>
          {!bundles ? <option value={value.bundleId}>{error ? 'cannot list bundles' : 'loading…'}</option> : null}
          {bundles && bundles.length === 0 ? <option value="">no evaluation bundle in {value.tenant}</option> : null}
          {bundles && value.bundleId && !bundles.some((b) => b.bundle_id === value.bundleId) ? <option value={value.bundleId}>{value.bundleId}</option> : null}
          {bundles?.map((b) => (
            <option key={b.bundle_id} value={b.bundle_id}>
              {b.resource_id ?? b.bundle_id} — {when(b.created_at)} — case {b.case_id}
            </option>
          ))}
        </select>
      </div>
      {error ? <ErrorPanel error={error} what={`the bundles of ${value.tenant}`} /> : null}
    </fieldset>
  );
}

export function EvaluationComparePage({ query }: { query: Query }) {
  const { client, tenant, who, navigate } = useConsole();
  const id = useId();
  const a = parseRef(query['a']);
  const b = parseRef(query['b']);
  const { tenants: granted } = tenantChoices(who);
  const tenants = [...new Set([...granted, ...(tenant ? [tenant] : []), ...(a ? [a.tenant] : []), ...(b ? [b.tenant] : [])])].sort();
  const otherTenant = tenants.find((t) => t !== tenant) ?? tenant ?? '';
  const [pickA, setPickA] = useState<BundleRef>(a ?? { tenant: tenant ?? '', bundleId: '' });
  const [pickB, setPickB] = useState<BundleRef>(b ?? { tenant: otherTenant, bundleId: '' });
  const load = useAction<[LoadedSide, LoadedSide]>();

  const key = a && b ? `${refText(a)} ${refText(b)}` : '';
  const { run } = load;
  useEffect(() => {
    if (!a || !b) return;
    void run((signal) => Promise.all([loadSide(client, a, signal), loadSide(client, b, signal)]));
    // `a` and `b` are read from the query; `key` says when they change.
  }, [key, client, run]);

  const comparison = useMemo(() => (load.data ? compareEvaluations(load.data[0].side, load.data[1].side) : undefined), [load.data]);

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (!pickA.bundleId || !pickB.bundleId) return;
    navigate({ page: 'evaluation-compare', query: { a: refText(pickA), b: refText(pickB) } });
  };

  return (
    <>
      <div className="page-head">
        <h1>Compare evaluations</h1>
        <p>
          Two evaluation bundles, each of any of your tenants ·{' '}
          <Link to={{ page: 'evidence', query: { kind: 'evaluation' } }} navigate={navigate}>
            evaluation bundles of {tenant}
          </Link>
        </p>
      </div>

      <form className="panel eval-compare-form" onSubmit={submit} aria-label="Choose two evaluations">
        <div className="eval-pickers">
          <Picker label="Evaluation A (before)" tenants={tenants} value={pickA} onChange={setPickA} idBase={`${id}-a`} />
          <Picker label="Evaluation B (after)" tenants={tenants} value={pickB} onChange={setPickB} idBase={`${id}-b`} />
        </div>
        <div className="wizard-buttons">
          <button type="submit" disabled={!pickA.bundleId || !pickB.bundleId}>
            Compare
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setPickA(pickB);
              setPickB(pickA);
            }}
          >
            Swap A and B
          </button>
        </div>
      </form>

      {(query['a'] && !a) || (query['b'] && !b) ? (
        <p className="notice" role="alert">
          A side is written <code>&lt;tenant&gt;/&lt;bundle id&gt;</code>; {!a && query['a'] ? <code>{query['a']}</code> : <code>{query['b']}</code>} is not.
        </p>
      ) : null}

      {a && b ? (
        <section className="panel" aria-labelledby={`${id}-result`} aria-busy={load.busy}>
          <h2 id={`${id}-result`}>
            <code>{refText(a)}</code> → <code>{refText(b)}</code>
          </h2>
          {load.error ? (
            <ErrorPanel error={load.error} what="a bundle could not be read" />
          ) : load.busy || !load.data || !comparison ? (
            <p role="status">Reading both bundles and their files…</p>
          ) : (
            <ComparisonView sides={load.data} comparison={comparison} idBase={id} />
          )}
        </section>
      ) : null}
    </>
  );
}

function SideSummary({ label, loaded }: { label: string; loaded: LoadedSide }) {
  const { navigate, tenant } = useConsole();
  const { bundle, verification } = loaded.detail;
  return (
    <div className="eval-side">
      <h3>{label}</h3>
      <dl className="evidence-facts compact">
        <dt>Tenant</dt>
        <dd>{loaded.ref.tenant}</dd>
        <dt>Evaluation</dt>
        <dd>
          <code>{bundle.resource_id}</code>
        </dd>
        <dt>Bundle</dt>
        <dd>
          {loaded.ref.tenant === tenant ? (
            <Link to={{ page: 'bundle', bundleId: bundle.bundle_id, query: {} }} navigate={navigate}>
              <code>{bundle.bundle_id}</code>
            </Link>
          ) : (
            <code>{bundle.bundle_id}</code>
          )}{' '}
          <span className={verification.ok ? 'check-ok' : 'check-failed'}>{verification.ok ? '✓ verified' : `✗ ${verification.failures.length} verification failure(s)`}</span>
        </dd>
        <dt>Created</dt>
        <dd>{when(bundle.created_at)}</dd>
        <dt>Merkle root</dt>
        <dd>
          <ShortHash value={bundle.root_hash} chars={16} />
        </dd>
        <dt>Findings</dt>
        <dd>
          {loaded.side.findings.length} · decisions {loaded.side.decisions.length} · VEX statuses {loaded.side.vex.length}
        </dd>
      </dl>
      {loaded.side.problems.length ? (
        <div className="notice">
          <p>Not everything could be read:</p>
          <ul>
            {loaded.side.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
          {loaded.fileError && loaded.side.findings.length === 0 && loaded.side.decisions.length === 0 ? <ErrorPanel error={loaded.fileError} what="the bundle's files" /> : null}
        </div>
      ) : null}
    </div>
  );
}

function ValueTable({ caption, rows }: { caption: string; rows: ValueDiff[] }) {
  return (
    <table className="value-diff">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">A</th>
          <th scope="col">B</th>
          <th scope="col">
            <span className="visually-hidden">Same or different</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} className={r.same ? undefined : 'diff-changed'}>
            <th scope="row">{r.name}</th>
            <td>{r.a === undefined ? <span className="muted">–</span> : r.a.startsWith('sha256:') ? <ShortHash value={r.a} chars={16} /> : <code>{r.a}</code>}</td>
            <td>{r.b === undefined ? <span className="muted">–</span> : r.b.startsWith('sha256:') ? <ShortHash value={r.b} chars={16} /> : <code>{r.b}</code>}</td>
            <td>{r.same ? 'same' : <strong>differs</strong>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Column<T> {
  title: string;
  cell(row: T): ReactNode;
}

function RowsTable<T>({ caption, rows, columns, rowKey, className }: { caption: string; rows: T[]; columns: Column<T>[]; rowKey(row: T): string; className: string }) {
  if (rows.length === 0) return null;
  return (
    <div className="table-scroll">
      <table className={`diff-table ${className}`}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c.title}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c, i) =>
                i === 0 ? (
                  <th scope="row" key={c.title}>
                    {c.cell(r)}
                  </th>
                ) : (
                  <td key={c.title}>{c.cell(r)}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DiffSection<T extends object>({ title, what, diff, columns, keyColumns, rowKey, idBase }: { title: string; what: string; diff: RowDiff<T>; columns: Column<T>[]; keyColumns: Column<T>[]; rowKey(row: T): string; idBase: string }) {
  const headingId = `${idBase}-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  const same = diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
  const changedColumns: Column<Change<T>>[] = [
    ...keyColumns.map((c) => ({ title: c.title, cell: (ch: Change<T>) => c.cell(ch.after) })),
    {
      title: 'What changed (A → B)',
      cell: (ch: Change<T>) => (
        <ul className="change-list">
          {ch.fields.map((f) => (
            <li key={f}>
              {f.replace(/_/g, ' ')}: <del>{String(ch.before[f]) || '–'}</del> <span aria-hidden="true">→</span>
              <span className="visually-hidden"> becomes </span> <ins>{String(ch.after[f]) || '–'}</ins>
            </li>
          ))}
        </ul>
      ),
    },
  ];
  return (
    <section className="diff-section" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {title}{' '}
        <span className="diff-counts">
          <span className="count-added">{diff.added.length} added</span>, <span className="count-removed">{diff.removed.length} removed</span>, <span className="count-changed">{diff.changed.length} changed</span>, {diff.unchanged} unchanged
        </span>
      </h3>
      {same ? <p className="empty">No {what} differ.</p> : null}
      <RowsTable caption={`${title}: only in B (added)`} rows={diff.added} columns={columns} rowKey={rowKey} className="diff-added" />
      <RowsTable caption={`${title}: only in A (removed)`} rows={diff.removed} columns={columns} rowKey={rowKey} className="diff-removed" />
      <RowsTable caption={`${title}: changed`} rows={diff.changed} columns={changedColumns} rowKey={(c) => c.key} className="diff-changed-rows" />
    </section>
  );
}

const advisory = <T extends { advisory_id: string }>(): Column<T> => ({ title: 'Advisory', cell: (r) => <code>{r.advisory_id}</code> });
const pkg = <T extends { purl: string }>(): Column<T> => ({ title: 'Package', cell: (r) => <code>{r.purl}</code> });

function ComparisonView({ sides, comparison, idBase }: { sides: [LoadedSide, LoadedSide]; comparison: EvaluationComparison; idBase: string }) {
  const [a, b] = sides;
  return (
    <>
      <div className="eval-sides">
        <SideSummary label="A (before)" loaded={a} />
        <SideSummary label="B (after)" loaded={b} />
      </div>
      <div className="eval-values">
        <ValueTable caption="Policy" rows={comparison.policy} />
        <ValueTable caption="Engine" rows={comparison.engine} />
      </div>
      <DiffSection<FindingRow>
        title="Findings"
        what="findings"
        diff={comparison.findings}
        idBase={idBase}
        rowKey={findingKey}
        keyColumns={[advisory<FindingRow>(), pkg<FindingRow>()]}
        columns={[advisory<FindingRow>(), pkg<FindingRow>(), { title: 'Severity', cell: (r) => r.severity }, { title: 'VEX status', cell: (r) => r.vex_status }, { title: 'Fixable', cell: (r) => (r.fixable === 'true' ? `yes${r.fixed_version ? ` (${r.fixed_version})` : ''}` : 'no') }]}
      />
      <DiffSection<VexRow>
        title="VEX"
        what="VEX statuses"
        diff={comparison.vex}
        idBase={idBase}
        rowKey={findingKey}
        keyColumns={[advisory<VexRow>(), pkg<VexRow>()]}
        columns={[advisory<VexRow>(), pkg<VexRow>(), { title: 'Status', cell: (r) => r.status }, { title: 'Justification', cell: (r) => r.justification || '–' }, { title: 'From', cell: (r) => <code>{r.source}</code> }]}
      />
      <DiffSection<DecisionRow>
        title="Decisions"
        what="decisions"
        diff={comparison.decisions}
        idBase={idBase}
        rowKey={findingKey}
        keyColumns={[advisory<DecisionRow>(), pkg<DecisionRow>()]}
        columns={[advisory<DecisionRow>(), pkg<DecisionRow>(), { title: 'Effect', cell: (r) => <span className={`ev-effect ev-effect-${r.effect}`}>{r.effect}</span> }, { title: 'Rule', cell: (r) => <code>{r.rule_id}</code> }, { title: 'Reason', cell: (r) => r.reason }]}
      />
      <DiffSection<RuleRow>
        title="Policy rules"
        what="policy rules"
        diff={comparison.rules}
        idBase={idBase}
        rowKey={(r) => r.id}
        keyColumns={[{ title: 'Rule', cell: (r) => <code>{r.id}</code> }]}
        columns={[{ title: 'Rule', cell: (r) => <code>{r.id}</code> }, { title: 'Effect', cell: (r) => r.effect }, { title: 'When', cell: (r) => <code>{r.when}</code> }, { title: 'Reason', cell: (r) => r.reason }]}
      />
    </>
  );
}
