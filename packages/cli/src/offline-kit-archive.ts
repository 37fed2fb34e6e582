/**
 * An Offline Kit archive (OFF-1, OFF-2): its manifest format, reading it, and verifying it — the
 * one verification that `stella offline-kit verify` reports and `stella offline-kit import`
 * requires before it writes a byte.
 *
 * The archive is read with forensics' bundle tar reader, so an entry that could escape or alias
 * an extraction directory — an absolute path, a `..` segment, a symbolic or hard link, a device,
 * a directory entry, a duplicate — is a named failure, never a file. Verification then checks
 * the manifest's DSSE signature (a public key, or a key ring at the manifest's `created_at`),
 * every file against the manifest (and nothing more in the archive), the collector binaries
 * pinned in `collectors`, and each Collector profile against its own envelope.
 *
 * The kit is held in memory once (uncompressed); verification and extraction read the same
 * bytes, so what is written is exactly what was verified.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { Keyring, VerificationKey } from '@stellaops/forensics';
import { loadKeyring, readPublicKeyPem } from './key-files.js';
import { collectorConfigLib, forensicsLib } from './lazy.js';
import { CliError, EXIT } from './output.js';

export const KIT_FORMAT = 'stellaops.offline-kit/v1';
export const KIT_MANIFEST_PAYLOAD_TYPE = 'application/vnd.stellaops.offline-kit-manifest+json';
export const KIT_MANIFEST = 'manifest.json';
export const KIT_MANIFEST_ENVELOPE = 'manifest.json.dsse.json';
/** Where operator-supplied Collector binaries sit in a kit (`collector/<name>`). */
export const KIT_COLLECTOR_DIR = 'collector';
/** The record `stella offline-kit import` writes into its target; no kit may carry a file of that name. */
export const KIT_IMPORT_RECORD = 'import.json';

export interface KitFileEntry {
  path: string;
  sha256: string;
  size: number;
}

export interface KitManifest {
  format: typeof KIT_FORMAT;
  created_at: string;
  files: KitFileEntry[];
  /** The Collector binaries of the kit (each also in `files`), pinned by digest. Absent in kits built before binaries could be added. */
  collectors?: KitFileEntry[];
}

export interface KitFailure {
  path: string;
  code: string;
  message: string;
}

/** What a kit must be signed by: public keys, or a key ring (keys valid at the manifest's `created_at`). */
export interface KitTrust {
  keys?: readonly VerificationKey[];
  keyring?: Keyring;
}

export interface KitArchive {
  /** The archive's absolute path. */
  file: string;
  /** SHA-256 of the archive's bytes (the .tar.gz as given). */
  sha256: string;
  /** The regular files of the archive, by path. */
  files: ReadonlyMap<string, Buffer>;
  /** Entries refused while reading (unsafe paths, links, devices, a malformed archive). */
  problems: KitFailure[];
}

export interface KitVerification {
  ok: boolean;
  manifest: KitManifest | undefined;
  /** SHA-256 of manifest.json's bytes, when it was read. */
  manifestSha256: string | undefined;
  /** The keys whose signatures over the manifest verified. */
  keyIds: string[];
  failures: KitFailure[];
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The trust the --key / --keyring flags name (one of them is required). */
export async function readKitTrust(opts: { key?: string; keyring?: string }, path: (p: string) => string): Promise<KitTrust> {
  if (!opts.key && !opts.keyring) throw new CliError('usage', 'pass --key <public key> or --keyring <file> to verify against');
  const forensics = await forensicsLib();
  return {
    ...(opts.key ? { keys: [forensics.loadPublicKey(await readPublicKeyPem(path(opts.key), '--key'))] } : {}),
    ...(opts.keyring ? { keyring: await loadKeyring(path(opts.keyring)) } : {}),
  };
}

/** Reads a kit (.tar.gz): its regular files, and every entry refused as unsafe. Exit 2 when it is not a readable gzip file. */
export async function readKit(file: string): Promise<KitArchive> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (cause) {
    throw new CliError('not_found', `cannot read kit ${file}: ${(cause as Error).message}`, { cause });
  }
  let tar: Buffer;
  try {
    tar = gunzipSync(raw);
  } catch (cause) {
    throw new CliError('kit_invalid', `${file} is not a gzip archive: ${(cause as Error).message}`, { exitCode: EXIT.invalid, cause });
  }
  const { readTar } = await forensicsLib();
  const files = new Map<string, Buffer>();
  const problems = await readTar([tar], ({ path }) => {
    const parts: Buffer[] = [];
    return {
      write: (chunk) => parts.push(chunk),
      // One chunk (the whole archive is one buffer) is kept as a view, without a copy.
      end: () => void files.set(path, parts.length === 1 ? parts[0]! : Buffer.concat(parts)),
    };
  });
  return { file, sha256: sha256(raw), files, problems: problems.map((p) => ({ path: p.path ?? '(archive)', code: p.code, message: p.message })) };
}

/** Why a manifest is not a kit manifest, or undefined when its shape is right. */
function manifestProblem(m: unknown): string | undefined {
  const entryOk = (e: unknown): boolean => {
    const f = e as Partial<KitFileEntry> | null;
    return !!f && typeof f.path === 'string' && typeof f.sha256 === 'string' && typeof f.size === 'number';
  };
  const doc = m as Partial<KitManifest> | null;
  if (!doc || typeof doc !== 'object') return 'not a JSON object';
  if (doc.format !== KIT_FORMAT) return `format is ${JSON.stringify(doc.format)}, not "${KIT_FORMAT}"`;
  if (!Array.isArray(doc.files) || !doc.files.every(entryOk)) return 'no "files" list of {path, sha256, size}';
  if (doc.collectors !== undefined && (!Array.isArray(doc.collectors) || !doc.collectors.every(entryOk))) return '"collectors" is not a list of {path, sha256, size}';
  return undefined;
}

/** Verifies a kit read by readKit against `trust`; every failing file is named. */
export async function verifyKit(kit: KitArchive, trust: KitTrust): Promise<KitVerification> {
  const forensics = await forensicsLib();
  const lib = await collectorConfigLib();
  const { files } = kit;
  const failures: KitFailure[] = [...kit.problems];
  const manifestBytes = files.get(KIT_MANIFEST);
  const envelopeBytes = files.get(KIT_MANIFEST_ENVELOPE);
  let manifest: KitManifest | undefined;
  let keyIds: string[] = [];
  if (!manifestBytes) failures.push({ path: KIT_MANIFEST, code: 'file_missing', message: 'the kit has no manifest.json' });
  else {
    try {
      const doc = JSON.parse(manifestBytes.toString('utf8')) as unknown;
      const problem = manifestProblem(doc);
      if (problem) throw new Error(problem);
      manifest = doc as KitManifest;
    } catch (error) {
      failures.push({ path: KIT_MANIFEST, code: 'manifest_invalid', message: `manifest.json is not a kit manifest: ${(error as Error).message}` });
    }
  }
  if (manifestBytes && manifest) {
    const signedAt = new Date(manifest.created_at);
    const v = envelopeBytes
      ? forensics.verifyDsse(
          envelopeBytes,
          trust.keyring ? { keyring: trust.keyring, signedAt, payloadType: KIT_MANIFEST_PAYLOAD_TYPE } : { keys: trust.keys ?? [], payloadType: KIT_MANIFEST_PAYLOAD_TYPE },
        )
      : undefined;
    if (!v) failures.push({ path: KIT_MANIFEST_ENVELOPE, code: 'signature_missing', message: 'the manifest has no signature envelope' });
    else if (!v.ok) failures.push({ path: KIT_MANIFEST_ENVELOPE, code: 'signature_invalid', message: v.failures.map((f) => f.message).join('; ') });
    else if (!v.payload.equals(manifestBytes)) failures.push({ path: KIT_MANIFEST, code: 'manifest_mismatch', message: 'manifest.json is not the manifest its envelope signs' });
    else keyIds = [...v.verifiedKeyIds];
    const listed = new Map<string, KitFileEntry>();
    for (const entry of manifest.files) {
      listed.set(entry.path, entry);
      const body = files.get(entry.path);
      if (entry.path === KIT_IMPORT_RECORD) failures.push({ path: entry.path, code: 'path_reserved', message: `${KIT_IMPORT_RECORD} is the record an import writes; a kit cannot carry one` });
      else if (!body) failures.push({ path: entry.path, code: 'file_missing', message: 'listed in the manifest, absent from the kit' });
      else if (body.length !== entry.size || sha256(body) !== entry.sha256) failures.push({ path: entry.path, code: 'digest_mismatch', message: `sha256 ${sha256(body)}, the manifest says ${entry.sha256}` });
    }
    for (const p of [...files.keys()].sort()) {
      if (p !== KIT_MANIFEST && p !== KIT_MANIFEST_ENVELOPE && !listed.has(p)) failures.push({ path: p, code: 'file_unexpected', message: 'in the kit but not in the manifest' });
    }
    // Collector binaries: each pinned in `collectors` with the digest `files` gives it, and no unpinned one.
    const pinned = new Map((manifest.collectors ?? []).map((c) => [c.path, c]));
    for (const c of pinned.values()) {
      const entry = listed.get(c.path);
      if (!c.path.startsWith(`${KIT_COLLECTOR_DIR}/`) || c.path.split('/').length !== 2) failures.push({ path: c.path, code: 'collector_invalid', message: `a collector binary is pinned at ${KIT_COLLECTOR_DIR}/<name>, not at ${c.path}` });
      else if (!entry || entry.sha256 !== c.sha256 || entry.size !== c.size) failures.push({ path: c.path, code: 'collector_unpinned', message: "the collectors pin and the manifest's files list disagree on this binary" });
    }
    for (const p of listed.keys()) {
      if (p.startsWith(`${KIT_COLLECTOR_DIR}/`) && !pinned.has(p)) failures.push({ path: p, code: 'collector_unpinned', message: 'a file under collector/ that the manifest does not pin in "collectors"' });
    }
    for (const name of lib.PROFILE_NAMES) {
      const yamlPath = `profiles/${name}/${lib.PROFILE_CONFIG_FILE}`;
      const yaml = files.get(yamlPath);
      if (!yaml) continue;
      const pv = lib.verifyProfileBundle(yaml, files.get(`profiles/${name}/${lib.PROFILE_ENVELOPE_FILE}`), trust.keyring ? { keyring: trust.keyring, at: signedAt } : { keys: trust.keys ?? [] });
      if (!pv.ok) failures.push({ path: yamlPath, code: pv.code!, message: pv.message });
    }
  }
  return { ok: failures.length === 0, manifest, manifestSha256: manifestBytes ? sha256(manifestBytes) : undefined, keyIds, failures };
}
