/**
 * One evidence bundle (CON-2): what it is (kind, case, resource), its integrity (Merkle root,
 * manifest digest, signer key, signing time and timestamp), its legal hold and retention, its
 * verification — made by the service on every read, and again on "Verify" — the archive to
 * verify offline (an audited export, stella:evidence:export), and its files with their
 * contents (JSON pretty-printed), each checked here against the manifest's SHA-256.
 */
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { Query } from '../routing/routes.js';
import { grantedOn } from '../session/session.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { Link } from '../shell/link.js';
import { useApi } from '../shell/use-api.js';
import { sha256Hex } from '../attest/dsse-verify.js';
import { filePath, formatBytes, mediaTypeOf, saveBlob, useAction, VerificationResult, when } from './evidence-ui.js';
import { kindInfo, type BundleDetail, type ManifestFile, type SnapshotInputs, type VerifyAnswer } from './evidence-types.js';

/** Files larger than this are not shown inline (download them instead). */
const MAX_SHOWN_BYTES = 2 * 1024 * 1024;

interface OpenedFile {
  file: ManifestFile;
  blob: Blob;
  text: string | undefined;
  pretty: boolean;
  digest: string | undefined;
}

/** The files attached with a media type (inputs.json names each artifact's role folder and name). */
function attachedTypes(inputs: SnapshotInputs | undefined): Map<string, string> {
  const folders: Record<string, string> = {
    sbom: 'sbom',
    advisory: 'advisories',
    vex: 'vex',
    policy: 'policies',
    config: 'config',
    engine: 'engine',
    input: 'inputs',
    output: 'outputs',
    transcript: 'transcript',
    job: 'job',
    'export-file': 'export',
    recipients: 'recipients',
    attachment: 'attachments',
  };
  const types = new Map<string, string>();
  for (const a of inputs?.artifacts ?? []) types.set(`${folders[a.role] ?? 'attachments'}/${a.name}`, a.media_type);
  return types;
}

async function openFile(blob: Blob, file: ManifestFile, path: string): Promise<OpenedFile> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const digest = globalThis.crypto?.subtle ? await sha256Hex(crypto.subtle, bytes) : undefined;
  if (bytes.length > MAX_SHOWN_BYTES) return { file, blob, text: undefined, pretty: false, digest };
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { file, blob, text: undefined, pretty: false, digest };
  }
  if (path.endsWith('.json') || blob.type.includes('json')) {
    try {
      return { file, blob, text: JSON.stringify(JSON.parse(text), null, 2), pretty: true, digest };
    } catch {
      // Shown as it is.
    }
  }
  return { file, blob, text, pretty: false, digest };
}

export function BundlePage({ bundleId }: { bundleId: string; query: Query }) {
  const { client, tenant, who, navigate } = useConsole();
  const id = useId();
  const detail = useApi<BundleDetail>(`/evidence/${encodeURIComponent(bundleId)}`);
  const inputs = useApi<SnapshotInputs>(detail.data?.manifest.files?.some((f) => f.path === 'inputs.json') ? filePath(bundleId, 'inputs.json') : undefined);
  const verify = useAction<VerifyAnswer>();
  const download = useAction<Blob>();
  const viewer = useAction<OpenedFile>();
  const [opened, setOpened] = useState<string>();
  const viewerHeading = useRef<HTMLHeadingElement>(null);
  const types = useMemo(() => attachedTypes(inputs.data), [inputs.data]);
  const canExport = tenant ? grantedOn(who, tenant).includes('stella:evidence:export') : false;

  useEffect(() => {
    if (viewer.data) viewerHeading.current?.focus();
  }, [viewer.data]);

  if (detail.error) {
    return (
      <>
        <h1>Evidence bundle</h1>
        <p>
          <code>{bundleId}</code>
        </p>
        <ErrorPanel error={detail.error} what="the bundle" />
        <p>
          <Link to={{ page: 'evidence', query: {} }} navigate={navigate}>
            All bundles of {tenant}
          </Link>
        </p>
      </>
    );
  }
  if (!detail.data) {
    return (
      <>
        <h1>Evidence bundle</h1>
        <p role="status">Loading and verifying bundle {bundleId}…</p>
      </>
    );
  }

  const { bundle, manifest, verification, hold } = detail.data;
  const files = manifest.files ?? [];
  const shown = verify.data?.verification ?? verification;
  const signingTime = shown.signing_time;

  const runVerify = (): void => {
    void verify.run((signal) => client.request<VerifyAnswer>('POST', '/evidence/verify', { body: { bundle_id: bundleId }, signal }));
  };
  const runDownload = async (): Promise<void> => {
    const blob = await download.run((signal) => client.download(`/evidence/${encodeURIComponent(bundleId)}/archive`, { signal }));
    if (blob) saveBlob(blob, `${bundleId}.tar`);
  };
  const view = (file: ManifestFile): void => {
    setOpened(file.path);
    void viewer.run(async (signal) => openFile(await client.download(filePath(bundleId, file.path), { signal }), file, file.path));
  };

  return (
    <>
      <div className="page-head">
        <h1>Evidence bundle</h1>
        <p>
          <code data-testid="bundle-id">{bundle.bundle_id}</code> ·{' '}
          <Link to={{ page: 'evidence', query: { case_id: bundle.case_id } }} navigate={navigate}>
            case {bundle.case_id}
          </Link>{' '}
          ·{' '}
          <Link to={{ page: 'evidence', query: {} }} navigate={navigate}>
            all bundles
          </Link>
          {bundle.kind === 'evaluation' && tenant ? (
            <>
              {' '}
              ·{' '}
              <Link to={{ page: 'evaluation-compare', query: { a: `${tenant}/${bundle.bundle_id}` } }} navigate={navigate}>
                compare with another evaluation
              </Link>
            </>
          ) : null}
        </p>
      </div>

      <section className="panel" aria-labelledby={`${id}-verification`}>
        <h2 id={`${id}-verification`}>Verification</h2>
        <div aria-live="polite">
          <VerificationResult verification={shown} when={verify.data ? verify.at : detail.loadedAt} how={verify.data ? 'verified again by the service (POST /evidence/verify)' : 'verified by the service when this page loaded'} />
        </div>
        <p>
          <button type="button" onClick={runVerify} disabled={verify.busy}>
            {verify.busy ? 'Verifying…' : 'Verify'}
          </button>{' '}
          <span className="muted">The service reads the stored archive again and checks every file, the Merkle root and the signature against the key ring.</span>
        </p>
        {verify.error ? <ErrorPanel error={verify.error} what="verification" /> : null}
      </section>

      <section className="panel" aria-labelledby={`${id}-facts`}>
        <h2 id={`${id}-facts`}>Manifest and signature</h2>
        <dl className="evidence-facts">
          <dt>Kind</dt>
          <dd>
            {kindInfo(bundle.kind)?.label ?? bundle.kind} <span className="muted">({kindInfo(bundle.kind)?.holds ?? bundle.kind})</span>
          </dd>
          <dt>Resource</dt>
          <dd>
            {bundle.resource_type ? `${bundle.resource_type}/` : ''}
            <code>{bundle.resource_id ?? manifest.resourceId}</code>
            {bundle.resource_type && bundle.resource_id ? (
              <>
                {' '}
                ·{' '}
                <Link to={{ page: 'timeline', query: { resource_type: bundle.resource_type, resource_id: bundle.resource_id } }} navigate={navigate}>
                  its timeline
                </Link>
              </>
            ) : null}
          </dd>
          <dt>Created</dt>
          <dd>{when(bundle.created_at)}</dd>
          <dt>Signed</dt>
          <dd>
            {signingTime ? (
              <>
                {when(signingTime.time)} — {signingTime.source === 'tsa' ? `proven by a timestamp authority${signingTime.tsa ? ` (${signingTime.tsa})` : ''}` : "asserted by the signer (the manifest's createdAt, no timestamp proves it)"}
              </>
            ) : (
              when(shown.created_at ?? manifest.createdAt)
            )}
          </dd>
          <dt>Timestamp</dt>
          <dd>
            {shown.timestamp ? (
              <>
                RFC 3161, {when(shown.timestamp.genTime)}, {shown.timestamp.trusted ? 'from a trusted TSA' : 'from a TSA not configured as trusted'}
                {shown.timestamp.covers ? `, covers the ${shown.timestamp.covers}` : ''}
              </>
            ) : (
              <span className="muted">none (no timestamp authority configured when it was made)</span>
            )}
          </dd>
          <dt>Signer key</dt>
          <dd>
            <code>{shown.signer?.keyId ?? bundle.signer_key_id ?? manifest.signer?.keyId}</code> <span className="muted">{shown.signer?.algorithm ?? manifest.signer?.algorithm}</span>
          </dd>
          <dt>Merkle root</dt>
          <dd>
            <code data-testid="merkle-root">{bundle.root_hash}</code> <span className="muted">{manifest.merkle ? `${manifest.merkle.algorithm}, ${manifest.merkle.treeSize} leaves` : ''}</span>
          </dd>
          <dt>Manifest digest</dt>
          <dd>
            <code>{bundle.manifest_digest ?? shown.manifest_digest ?? '–'}</code>
          </dd>
          <dt>Format</dt>
          <dd>{shown.format ?? manifest.format ?? '–'}</dd>
          <dt>Legal hold</dt>
          <dd>{hold ? `case ${hold.case_id} is held since ${when(hold.placed_at)}${hold.placed_by ? ` by ${hold.placed_by}` : ''}: ${hold.reason}` : 'none'}</dd>
          <dt>Retention</dt>
          <dd>{bundle.retain_until ? `${Date.parse(bundle.retain_until) > (detail.loadedAt ?? 0) ? 'kept' : 'was kept'} until ${when(bundle.retain_until)} (write-once until then)` : '–'}</dd>
        </dl>
      </section>

      <section className="panel" aria-labelledby={`${id}-download`}>
        <h2 id={`${id}-download`}>Archive</h2>
        <p>
          The bundle as a deterministic tar, to keep or to verify offline: <code>stella forensic verify {bundle.bundle_id}.tar --keyring keyring.json</code>. Downloading it is an export: it needs{' '}
          <code>stella:evidence:export</code> and is recorded on the tenant&apos;s timeline.
        </p>
        {!canExport ? (
          <p className="notice" role="note">
            This token does not grant <code>stella:evidence:export</code> on {tenant}: the service will refuse the download.
          </p>
        ) : null}
        <p>
          <button type="button" onClick={() => void runDownload()} disabled={download.busy}>
            {download.busy ? 'Downloading…' : 'Download archive'}
          </button>{' '}
          <span role="status">{download.data && !download.busy ? `Saved ${bundle.bundle_id}.tar (${formatBytes(download.data.size)}).` : ''}</span>
        </p>
        {download.error ? <ErrorPanel error={download.error} what="the archive download" /> : null}
      </section>

      <section className="panel" aria-labelledby={`${id}-files`}>
        <h2 id={`${id}-files`}>Files</h2>
        {inputs.error && inputs.error.status !== 404 ? <ErrorPanel error={inputs.error} what="inputs.json" /> : null}
        <div className="table-scroll">
          <table className="bundle-files">
            <caption>
              {files.length} file{files.length === 1 ? '' : 's'}, {formatBytes(files.reduce((n, f) => n + f.size, 0))}, as the signed manifest lists them
            </caption>
            <thead>
              <tr>
                <th scope="col">Path</th>
                <th scope="col">Media type</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">
                  <span className="visually-hidden">Content</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.path} className={opened === f.path ? 'selected' : undefined}>
                  <th scope="row">
                    <code>{f.path}</code>
                  </th>
                  <td>{mediaTypeOf(f.path, types)}</td>
                  <td className="num nowrap">{formatBytes(f.size)}</td>
                  <td>
                    <code className="digest">{f.sha256}</code>
                  </td>
                  <td>
                    <button type="button" className="small" onClick={() => view(f)} aria-pressed={opened === f.path}>
                      View<span className="visually-hidden"> {f.path}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      {opened ? (
        <section className="panel file-viewer" aria-labelledby={`${id}-viewer`} aria-busy={viewer.busy}>
          <h2 id={`${id}-viewer`} ref={viewerHeading} tabIndex={-1}>
            <code>{opened}</code>
          </h2>
          {viewer.error ? (
            <ErrorPanel error={viewer.error} what={`the file ${opened}`} />
          ) : viewer.busy || !viewer.data || viewer.data.file.path !== opened ? (
            <p role="status">Loading {opened}…</p>
          ) : (
            <FileContent opened={viewer.data} mediaType={mediaTypeOf(opened, types)} />
          )}
        </section>
      ) : null}
    </>
  );
}

function FileContent({ opened, mediaType }: { opened: OpenedFile; mediaType: string }) {
  const name = opened.file.path.split('/').pop() ?? 'file';
  const matches = opened.digest === opened.file.sha256;
  return (
    <>
      <p className="file-meta">
        {opened.blob.type || mediaType} · {formatBytes(opened.blob.size)} ·{' '}
        {opened.digest === undefined ? (
          <span className="muted">SHA-256 not checked (this page has no WebCrypto)</span>
        ) : matches ? (
          <span className="check-ok" data-testid="file-digest-check">
            <span aria-hidden="true">✓</span> SHA-256 matches the manifest
          </span>
        ) : (
          <span className="check-failed" data-testid="file-digest-check">
            <span aria-hidden="true">✗</span> SHA-256 {opened.digest} differs from the manifest&apos;s {opened.file.sha256}
          </span>
        )}{' '}
        ·{' '}
        <button type="button" className="small" onClick={() => saveBlob(opened.blob, name)}>
          Save file
        </button>
      </p>
      {opened.text === undefined ? (
        <p className="empty">{opened.blob.size > MAX_SHOWN_BYTES ? `Too large to show here (${formatBytes(opened.blob.size)}); save it instead.` : 'Binary content; save it to open it.'}</p>
      ) : (
        <pre className="file-content" tabIndex={0} aria-label={`Content of ${opened.file.path}${opened.pretty ? ', JSON pretty-printed' : ''}`} data-testid="file-content">
          {opened.text}
        </pre>
      )}
    </>
  );
}
