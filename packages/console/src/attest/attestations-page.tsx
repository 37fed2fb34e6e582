/**
 * The attestation verifier (CON-2, ATT-2): a stored attestation checked by the service — read
 * (`GET /attestations/:id`, verified on read) and verified again (`POST /attestations/verify`) —
 * with its subjects, predicate type, builder, signer and time, chosen by id, from the tenant's
 * recent attestations (their `attestation.recorded` timeline events) or by subject; and a DSSE
 * envelope file checked here in the browser with WebCrypto against the tenant's key ring, with
 * an optional artifact file matched against the statement's subjects. Nothing is uploaded for
 * the browser check: only the key ring is fetched.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { withQuery } from '../api/api-client.js';
import type { Query } from '../routing/routes.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { FailureList, ShortHash, useAction, when } from '../evidence/evidence-ui.js';
import type { AttestationDetail, AttestationList, AttestationVerifyAnswer, KeyringAnswer, TimelineAnswer } from '../evidence/evidence-types.js';
import { statementTime, verifyEnvelopeFile, type BrowserVerification, type Check } from './dsse-verify.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Predicate {
  buildDefinition?: { buildType?: string; externalParameters?: Record<string, unknown>; resolvedDependencies?: { name?: string; uri?: string; digest?: Record<string, string>; annotations?: Record<string, unknown> }[] };
  runDetails?: { builder?: { id?: string }; metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string } };
}

interface StatementLike {
  subject?: { name?: string; digest?: Record<string, string> }[];
  predicateType?: string;
  predicate?: unknown;
}

/** Subjects, predicate type, builder and run of a statement. */
function StatementFacts({ statement }: { statement: StatementLike }) {
  const predicate = (statement.predicate ?? {}) as Predicate;
  const deps = predicate.buildDefinition?.resolvedDependencies ?? [];
  return (
    <>
      <dt>Subjects</dt>
      <dd>
        <ul className="plain-list" aria-label="Subjects">
          {(statement.subject ?? []).map((s, i) => (
            <li key={`${s.name}-${i}`}>
              <code>{s.name}</code> <span className="muted">sha256</span> <code className="digest">{s.digest?.['sha256'] ?? '–'}</code>
            </li>
          ))}
        </ul>
      </dd>
      <dt>Predicate type</dt>
      <dd>
        <code>{statement.predicateType ?? '–'}</code>
      </dd>
      <dt>Builder</dt>
      <dd>
        <code>{predicate.runDetails?.builder?.id ?? '–'}</code>
      </dd>
      {predicate.buildDefinition?.buildType ? (
        <>
          <dt>Build type</dt>
          <dd>
            <code>{predicate.buildDefinition.buildType}</code>
          </dd>
        </>
      ) : null}
      {predicate.runDetails?.metadata?.invocationId ? (
        <>
          <dt>Invocation</dt>
          <dd>
            <code>{predicate.runDetails.metadata.invocationId}</code>
            {predicate.runDetails.metadata.startedOn ? `, ${when(predicate.runDetails.metadata.startedOn)} – ${when(predicate.runDetails.metadata.finishedOn)}` : ''}
          </dd>
        </>
      ) : null}
      {deps.length ? (
        <>
          <dt>Dependencies</dt>
          <dd>
            <details>
              <summary>
                {deps.length} resolved dependenc{deps.length === 1 ? 'y' : 'ies'} (sources, runner image, inputs, policies, advisories)
              </summary>
              <ul className="plain-list">
                {deps.map((d, i) => (
                  <li key={i}>
                    <span className="muted">{String(d.annotations?.['stellaops.role'] ?? 'dependency')}</span> <code>{d.name ?? d.uri}</code>{' '}
                    {d.digest ? <ShortHash value={Object.values(d.digest)[0]} chars={16} /> : null}
                  </li>
                ))}
              </ul>
            </details>
          </dd>
        </>
      ) : null}
    </>
  );
}

function StoredAttestation({ attestationId }: { attestationId: string }) {
  const { client, navigate } = useConsole();
  const detail = useApi<AttestationDetail>(`/attestations/${encodeURIComponent(attestationId)}`);
  const verify = useAction<AttestationVerifyAnswer>();
  const { run } = verify;
  useEffect(() => {
    void run((signal) => client.request<AttestationVerifyAnswer>('POST', '/attestations/verify', { body: { attestation_id: attestationId }, signal }));
  }, [attestationId, client, run]);

  if (detail.error) return <ErrorPanel error={detail.error} what={`attestation ${attestationId}`} />;
  if (!detail.data) return <p role="status">Reading attestation {attestationId}…</p>;
  const { attestation: a, statement } = detail.data;
  const v = verify.data?.verification ?? a.verification;
  return (
    <>
      <div className={`verdict ${v.ok ? 'verdict-ok' : 'verdict-failed'}`} data-testid="attestation-verdict" aria-live="polite">
        <p className="verdict-line">
          <span className="verdict-mark" aria-hidden="true">
            {v.ok ? '✓' : '✗'}
          </span>{' '}
          <strong>{v.ok ? 'Verified' : 'Verification failed'}</strong>
          <span className="muted">
            {' '}
            — {verify.busy ? 'verifying again…' : verify.data ? `verified by the service (POST /attestations/verify) at ${when(new Date(verify.at ?? Date.now()).toISOString())}` : 'verified by the service on read'}
          </span>
        </p>
        {v.ok ? (
          <p>
            Signed by <code>{v.signer_key_ids.join(', ')}</code> at {when(v.signed_at)} <span className="muted">(the time the statement asserts; no timestamp proves it)</span>; the stored envelope and the subject digest match what was
            recorded.
          </p>
        ) : (
          <FailureList failures={v.failures} />
        )}
        <p>
          <button type="button" className="small" onClick={() => void run((signal) => client.request<AttestationVerifyAnswer>('POST', '/attestations/verify', { body: { attestation_id: attestationId }, signal }))} disabled={verify.busy}>
            Verify again
          </button>
        </p>
      </div>
      {verify.error ? <ErrorPanel error={verify.error} what="verification" /> : null}
      <dl className="evidence-facts">
        <dt>Attestation</dt>
        <dd>
          <code>{a.id}</code>
        </dd>
        <dt>Subject id</dt>
        <dd>
          <code>{a.subject_id}</code> <span className="muted">recorded digest</span> <code className="digest">{a.subject_digest}</code>
        </dd>
        {statement ? <StatementFacts statement={statement as StatementLike} /> : null}
        <dt>Signer</dt>
        <dd>
          <code>{a.signer_key_id ?? '–'}</code> <span className="muted">{a.origin === 'signed' ? 'signed by the service with the tenant key' : 'submitted signed'}</span>
        </dd>
        <dt>Signed at</dt>
        <dd>
          {when(a.signed_at)} <span className="muted">(asserted)</span>
        </dd>
        <dt>Recorded</dt>
        <dd>{when(a.created_at)}</dd>
        {a.resource_type && a.resource_id ? (
          <>
            <dt>Resource</dt>
            <dd>
              {a.resource_type}/<code>{a.resource_id}</code> ·{' '}
              <Link to={{ page: 'timeline', query: { resource_type: a.resource_type, resource_id: a.resource_id } }} navigate={navigate}>
                its timeline
              </Link>
            </dd>
          </>
        ) : null}
        {a.bundle_id ? (
          <>
            <dt>Evidence bundle</dt>
            <dd>
              <Link to={{ page: 'bundle', bundleId: a.bundle_id, query: {} }} navigate={navigate}>
                <code>{a.bundle_id}</code>
              </Link>
            </dd>
          </>
        ) : null}
        <dt>Envelope digest</dt>
        <dd>
          <code className="digest">{a.envelope_digest ?? '–'}</code>
        </dd>
      </dl>
    </>
  );
}

function RecentAttestations({ current }: { current: string | undefined }) {
  const { navigate, client } = useConsole();
  const id = useId();
  const recent = useApi<TimelineAnswer>(withQuery('/timeline', { kind: 'attestation.recorded', limit: 50 }));
  const [subject, setSubject] = useState('');
  const search = useAction<AttestationList>();
  const find = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const s = subject.trim();
    if (!ID.test(s)) return;
    void search.run((signal) => client.request<AttestationList>('GET', withQuery('/attestations', { subject_id: s }), { signal }));
  };
  const rows = (recent.data?.events ?? [])
    .map((e) => ({ id: String(e.details['attestation_id'] ?? ''), subject: String(e.details['subject_id'] ?? e.resource_id ?? ''), predicate: String(e.details['predicate_type'] ?? ''), ts: e.ts }))
    .filter((r) => r.id);
  return (
    <>
      {recent.error ? (
        <p className="muted">The recent attestations come from the timeline, which this token cannot read ({recent.error.answer.required_scope ?? `HTTP ${recent.error.status}`}). Find them by subject instead.</p>
      ) : !recent.data ? (
        <p className="muted">Loading recent attestations…</p>
      ) : rows.length === 0 ? (
        <p className="empty">No attestation recorded on this tenant&apos;s timeline.</p>
      ) : (
        <table className="attestations">
          <caption>Recently recorded attestations, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Predicate type</th>
              <th scope="col">Recorded</th>
              <th scope="col">Attestation</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} className={r.id === current ? 'selected' : undefined}>
                <th scope="row">
                  <code>{r.subject}</code>
                </th>
                <td>
                  <code>{r.predicate}</code>
                </td>
                <td className="nowrap">{when(r.ts)}</td>
                <td>
                  <Link to={{ page: 'attestations', query: { id: r.id } }} navigate={navigate} current={r.id === current}>
                    <code>{r.id}</code>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="filter-form" onSubmit={find} role="search" aria-label="Attestations by subject">
        <div className="field">
          <label htmlFor={`${id}-subject`}>Subject id</label>
          <input id={`${id}-subject`} value={subject} onChange={(e) => setSubject(e.target.value)} placeholder="a job, export or artifact id" autoComplete="off" spellCheck={false} />
        </div>
        <button type="submit" disabled={search.busy}>
          Find attestations
        </button>
      </form>
      {search.error ? <ErrorPanel error={search.error} what="the search" /> : null}
      {search.data ? (
        search.data.attestations.length === 0 ? (
          <p className="empty" role="status">
            No attestation of subject {subject.trim()}.
          </p>
        ) : (
          <ul className="plain-list" role="status" aria-label="Attestations of the subject">
            {search.data.attestations.map((a) => (
              <li key={a.id}>
                <Link to={{ page: 'attestations', query: { id: a.id } }} navigate={navigate}>
                  <code>{a.id}</code>
                </Link>{' '}
                {a.predicate_type} · {when(a.created_at)} · {a.status === 'verified' ? '✓ verified' : '✗ failed'}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </>
  );
}

function CheckList({ checks }: { checks: Check[] }) {
  return (
    <ol className="checks" aria-label="Checks">
      {checks.map((c, i) => (
        <li key={`${c.id}-${i}`} className={c.ok === true ? 'check-ok' : c.ok === false ? 'check-failed' : 'check-skipped'} data-check={c.id}>
          <span className="check-mark" aria-hidden="true">
            {c.ok === true ? '✓' : c.ok === false ? '✗' : '–'}
          </span>{' '}
          <strong>{c.label}</strong>: <span className="visually-hidden">{c.ok === true ? 'passed' : c.ok === false ? 'failed' : 'not counted'}. </span>
          {c.detail}
          {c.code && c.ok === false ? (
            <>
              {' '}
              <code className="failure-code">{c.code}</code>
            </>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

function BrowserVerifier() {
  const { client, tenant } = useConsole();
  const id = useId();
  const [envelopeFile, setEnvelopeFile] = useState<File>();
  const [artifactFile, setArtifactFile] = useState<File>();
  const check = useAction<{ result: BrowserVerification; keyring: KeyringAnswer; files: string }>();
  const subtle = window.isSecureContext ? globalThis.crypto?.subtle : undefined;

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (!envelopeFile || !subtle) return;
    void check.run(async (signal) => {
      const [envelope, artifact, keyring] = await Promise.all([
        envelopeFile.text(),
        artifactFile ? artifactFile.arrayBuffer().then((b) => ({ name: artifactFile.name, bytes: new Uint8Array(b) })) : Promise.resolve(undefined),
        client.request<KeyringAnswer>('GET', '/evidence/keyring', { signal }),
      ]);
      const result = await verifyEnvelopeFile({ subtle, envelope, keyringLog: keyring.log, ...(artifact ? { artifact } : {}) });
      return { result, keyring, files: `${envelopeFile.name}${artifactFile ? ` and ${artifactFile.name}` : ''}` };
    });
  };

  if (!subtle) {
    return (
      <p className="notice">
        This page has no WebCrypto: browsers offer it only on secure pages (HTTPS, or the service on this machine). Verify the envelope with{' '}
        <code>stella forensic attest verify &lt;file&gt; --keyring keyring.json</code> instead.
      </p>
    );
  }
  const r = check.data?.result;
  return (
    <>
      <form className="browser-verify" onSubmit={submit} noValidate>
        <div className="field wide">
          <label htmlFor={`${id}-envelope`}>DSSE envelope (JSON)</label>
          <input id={`${id}-envelope`} type="file" accept=".json,application/json" onChange={(e) => setEnvelopeFile(e.target.files?.[0])} aria-describedby={`${id}-envelope-help`} />
          <p id={`${id}-envelope-help`} className="help">
            An in-toto statement&apos;s envelope (<code>statement.dsse.json</code>) or a bundle&apos;s signed manifest (<code>manifest.dsse.json</code>).
          </p>
        </div>
        <div className="field wide">
          <label htmlFor={`${id}-artifact`}>Artifact (optional)</label>
          <input id={`${id}-artifact`} type="file" onChange={(e) => setArtifactFile(e.target.files?.[0])} aria-describedby={`${id}-artifact-help`} />
          <p id={`${id}-artifact-help`} className="help">
            Its SHA-256 must equal a subject&apos;s digest (for a manifest: a file&apos;s).
          </p>
        </div>
        <div className="form-buttons">
          <button type="submit" disabled={!envelopeFile || check.busy}>
            {check.busy ? 'Verifying…' : 'Verify in this browser'}
          </button>
        </div>
      </form>
      {check.error ? <ErrorPanel error={check.error} what="the key ring" /> : null}
      <div aria-live="polite">
        {r && check.data ? (
          <div className={`verdict ${r.ok ? 'verdict-ok' : 'verdict-failed'}`} data-testid="browser-verdict">
            <p className="verdict-line">
              <span className="verdict-mark" aria-hidden="true">
                {r.ok ? '✓' : '✗'}
              </span>{' '}
              <strong>{r.ok ? 'Verified in this browser' : 'Not verified'}</strong>
              <span className="muted">
                {' '}
                — {check.data.files}, against the {check.data.keyring.scope} key ring of {tenant} ({check.data.keyring.keys.length} key{check.data.keyring.keys.length === 1 ? '' : 's'})
              </span>
            </p>
            <CheckList checks={r.checks} />
            {r.statement ? (
              <dl className="evidence-facts">
                <StatementFacts statement={r.statement} />
                <dt>Signed at</dt>
                <dd>
                  {when(statementTime(r.statement.predicate) ?? r.signedAt)} <span className="muted">(asserted)</span>
                </dd>
              </dl>
            ) : r.manifest ? (
              <dl className="evidence-facts">
                <dt>Bundle</dt>
                <dd>
                  <code>{r.manifest.bundleId}</code> ({r.manifest.kind}, tenant {r.manifest.tenant}), {r.manifest.files.length} files, created {when(r.manifest.createdAt)}
                </dd>
              </dl>
            ) : null}
          </div>
        ) : null}
      </div>
    </>
  );
}

export function AttestationsPage({ query }: { query: Query }) {
  const { navigate, tenant } = useConsole();
  const id = useId();
  const current = query['id'] && ID.test(query['id']) ? query['id'] : undefined;
  const [typed, setTyped] = useState(current ?? '');
  const [problem, setProblem] = useState<string>();
  // The field shows the attestation the page shows, however it was opened (a link, Back).
  useEffect(() => {
    if (current) setTyped(current);
  }, [current]);

  const open = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const value = typed.trim();
    if (!ID.test(value)) {
      setProblem('An attestation id is 1-128 letters, digits, ".", "_" or "-".');
      return;
    }
    setProblem(undefined);
    navigate({ page: 'attestations', query: { id: value } });
  };

  return (
    <>
      <div className="page-head">
        <h1>Verify an attestation</h1>
        <p>
          Tenant <strong>{tenant}</strong> · in-toto statements with SLSA provenance, DSSE-signed
        </p>
      </div>

      <section className="panel" aria-labelledby={`${id}-stored`}>
        <h2 id={`${id}-stored`}>Stored attestation, verified by the service</h2>
        <form className="filter-form" onSubmit={open} noValidate>
          <div className="field wide">
            <label htmlFor={`${id}-id`}>Attestation id</label>
            <input
              id={`${id}-id`}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? `${id}-problem` : undefined}
            />
          </div>
          <button type="submit">Verify</button>
          {problem ? (
            <span id={`${id}-problem`} className="field-problem" role="alert">
              {problem}
            </span>
          ) : null}
        </form>
        {query['id'] && !current ? <p className="notice">{query['id']} is not an attestation id.</p> : null}
        {current ? <StoredAttestation key={current} attestationId={current} /> : null}
      </section>

      <section className="panel" aria-labelledby={`${id}-recent`}>
        <h2 id={`${id}-recent`}>Attestations of {tenant}</h2>
        <RecentAttestations current={current} />
      </section>

      <section className="panel" aria-labelledby={`${id}-browser`}>
        <h2 id={`${id}-browser`}>Verify an envelope in this browser</h2>
        <p>
          The envelope&apos;s signatures are checked here with the browser&apos;s WebCrypto over the DSSE pre-authentication encoding, against the tenant&apos;s key ring — its signed rotation log replayed
          here, not taken on the service&apos;s word. The files are read by the browser and never sent.
        </p>
        <BrowserVerifier />
      </section>
    </>
  );
}
