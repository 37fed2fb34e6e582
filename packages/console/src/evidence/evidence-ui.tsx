/** What the evidence and attestation pages share: calls with their own state, verification results, files of a bundle, sizes and hashes. */
import { useCallback, useRef, useState } from 'react';
import { ApiError } from '../api/api-client.js';
import { useConsole } from '../shell/console-context.js';
import { formatDateTime } from '../shell/format.js';
import type { Verification, VerificationFailure } from './evidence-types.js';
import './evidence.css';

/** One user-started call (verify, create, download): busy while it runs, then its answer or its error. */
export interface Action<T> {
  busy: boolean;
  data: T | undefined;
  error: ApiError | undefined;
  /** When the shown answer arrived (ms). */
  at: number | undefined;
  run(call: (signal: AbortSignal) => Promise<T>): Promise<T | undefined>;
  reset(): void;
}

export function useAction<T>(): Action<T> {
  const { onUnauthorized } = useConsole();
  const [state, setState] = useState<{ busy: boolean; data: T | undefined; error: ApiError | undefined; at: number | undefined }>({ busy: false, data: undefined, error: undefined, at: undefined });
  const current = useRef<AbortController | undefined>(undefined);
  const run = useCallback(
    async (call: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> => {
      current.current?.abort();
      const controller = new AbortController();
      current.current = controller;
      setState((s) => ({ ...s, busy: true, error: undefined }));
      try {
        const data = await call(controller.signal);
        if (!controller.signal.aborted) setState({ busy: false, data, error: undefined, at: Date.now() });
        return data;
      } catch (error) {
        if (controller.signal.aborted) return undefined;
        const apiError = error instanceof ApiError ? error : new ApiError(0, (error as Error).message, {}, '');
        if (apiError.status === 401) onUnauthorized(apiError);
        setState({ busy: false, data: undefined, error: apiError, at: Date.now() });
        return undefined;
      }
    },
    [onUnauthorized],
  );
  const reset = useCallback(() => {
    current.current?.abort();
    setState({ busy: false, data: undefined, error: undefined, at: undefined });
  }, []);
  return { ...state, run, reset };
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A hash or key id shortened for a table; the full value is read out and shown on hover. */
export function ShortHash({ value, chars = 12 }: { value: string | null | undefined; chars?: number }) {
  if (!value) return <span className="muted">–</span>;
  const bare = value.replace(/^sha256:/, '');
  if (bare.length <= chars) return <code>{value}</code>;
  return (
    <code title={value} className="short-hash">
      <span aria-hidden="true">{bare.slice(0, chars)}…</span>
      <span className="visually-hidden">{value}</span>
    </code>
  );
}

/** The path of a bundle's file in the files API (each segment escaped, the slashes kept). */
export function filePath(bundleId: string, path: string): string {
  return `/evidence/${encodeURIComponent(bundleId)}/files/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** The media type of a bundle file: the one it was attached with (inputs.json), else by its name. */
export function mediaTypeOf(path: string, attached: ReadonlyMap<string, string> = new Map()): string {
  const known = attached.get(path);
  if (known) return known;
  if (path.endsWith('.cdx.json')) return 'application/vnd.cyclonedx+json';
  if (path.endsWith('.openvex.json')) return 'application/openvex+json';
  if (path.endsWith('.dsse.json')) return 'application/vnd.dsse+json';
  if (path.endsWith('.json')) return 'application/json';
  if (path.endsWith('.txt') || path.endsWith('.log')) return 'text/plain';
  if (path.endsWith('.tar')) return 'application/x-tar';
  return 'application/octet-stream';
}

/** One failure of a verification, named: its code, what it says, the file or key it concerns. */
export function FailureList({ failures }: { failures: readonly VerificationFailure[] }) {
  return (
    <ul className="failures">
      {failures.map((f, i) => (
        <li key={`${f.code}-${i}`}>
          <code className="failure-code">{f.code}</code> {f.message}
          {f.path ? (
            <>
              {' '}
              — file <code>{f.path}</code>
            </>
          ) : null}
          {f.keyId ? (
            <>
              {' '}
              — key <code>{f.keyId}</code>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

/** A verification's outcome: a green check with what was proven, or each failure named. */
export function VerificationResult({ verification, when, how }: { verification: Verification; when?: number | string | undefined; how: string }) {
  const at = when === undefined ? undefined : typeof when === 'number' ? new Date(when).toISOString() : when;
  return (
    <div className={`verdict ${verification.ok ? 'verdict-ok' : 'verdict-failed'}`} data-testid="bundle-verification">
      <p className="verdict-line">
        <span className="verdict-mark" aria-hidden="true">
          {verification.ok ? '✓' : '✗'}
        </span>{' '}
        <strong>{verification.ok ? 'Verified' : `Verification failed (${verification.failures.length} failure${verification.failures.length === 1 ? '' : 's'})`}</strong>
        <span className="muted">
          {' '}
          — {how}
          {at ? ` at ${formatDateTime(at)}` : ''}
        </span>
      </p>
      {verification.ok ? (
        <p>
          Every file's SHA-256 matches the manifest, the Merkle root recomputes to <code>{verification.root}</code>, and the manifest's signature verifies with key{' '}
          <code>{verification.signer?.keyId}</code> ({verification.signer?.algorithm}) of the tenant's key ring, valid at its signing time.
        </p>
      ) : (
        <FailureList failures={verification.failures} />
      )}
      {verification.notes?.length ? (
        <ul className="muted">
          {verification.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Saves a Blob as a file, as a download link would. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Text for a short time cell. */
export function when(iso: string | null | undefined): string {
  return iso ? formatDateTime(iso) : '–';
}
