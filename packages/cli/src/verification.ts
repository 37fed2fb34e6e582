/**
 * Offline bundle verification as the commands show it: a progress bar while an archive is read
 * (when stderr is a terminal), and the library's result in the CLI's snake_case JSON.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { BundleVerification, SigningTime, VerificationFailure, VerifyBundleOptions } from '@stellaops/forensics';
import { forensicsLib } from './lazy.js';
import type { CliIO } from './output.js';
import { metered, startProgress } from './progress.js';

/** Verifies a bundle on disk (directory, .tar or .tar.gz); an archive's bytes are counted on a progress bar labelled `label`. */
export async function verifyOnDisk(io: CliIO, location: string, options: VerifyBundleOptions, label = 'verify'): Promise<BundleVerification> {
  const lib = await forensicsLib();
  const info = io.stderrIsTTY ? await stat(location).catch(() => undefined) : undefined;
  // No terminal, a directory, or nothing there (the library says what is wrong): no bar to draw.
  if (!info?.isFile()) return lib.verifyBundle(location, options);
  const progress = startProgress(io, label, info.size);
  const stream = createReadStream(location, { highWaterMark: options.chunkSize ?? 1 << 20 });
  try {
    return await lib.verifyBundleStream(metered(stream, progress), options);
  } finally {
    stream.destroy();
    progress.finish();
  }
}

export function signerJson(signer: BundleVerification['signer']): { key_id: string; algorithm: string } | null {
  return signer ? { key_id: signer.keyId, algorithm: signer.algorithm } : null;
}

export function signingTimeJson(t: SigningTime | undefined): { source: string; time: string; asserted: string; tsa: string | null } | null {
  return t ? { source: t.source, time: t.time, asserted: t.asserted, tsa: t.tsa ?? null } : null;
}

export function timestampJson(t: BundleVerification['timestamp']): Record<string, unknown> | null {
  return t
    ? { gen_time: t.genTime, trusted: t.trusted, covers: t.covers, tsa: t.tsa ?? null, serial_number: t.serialNumber ?? null, policy: t.policy ?? null }
    : null;
}

export function failuresJson(failures: readonly VerificationFailure[]): { code: string; message: string; path: string | null }[] {
  return failures.map((f) => ({ code: f.code, message: f.message, path: f.path ?? null }));
}

/** Everything `stella forensic verify --json` reports about a bundle (besides `ok` and its name). */
export function verificationJson(v: BundleVerification): Record<string, unknown> {
  return {
    failures: failuresJson(v.failures),
    format: v.format ?? null,
    container: v.container ?? null,
    root: v.root ?? null,
    manifest_digest: v.manifestDigest ?? null,
    signer: signerJson(v.signer),
    created_at: v.createdAt ?? null,
    signing_time: signingTimeJson(v.signingTime),
    files: v.fileCount,
    bytes: v.contentBytes,
    timestamp: timestampJson(v.timestamp),
    notes: v.notes,
    manifest: v.manifest ? { kind: v.manifest.kind, tenant: v.manifest.tenant, case_id: v.manifest.caseId, resource_id: v.manifest.resourceId } : null,
  };
}

export function failureLines(failures: readonly { code: string; message: string; path?: string | null }[]): string[] {
  return failures.map((f) => `  ✗ ${f.code}${f.path ? ` [${f.path}]` : ''}: ${f.message}`);
}
