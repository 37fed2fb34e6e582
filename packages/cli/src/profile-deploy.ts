/**
 * Signed Collector profiles on disk (COL-3, COL-4): what `stella telemetry deploy`, `profile
 * diff` and `status` share. A deployed profile is a directory holding `config.yaml` and its DSSE
 * envelope `config.yaml.dsse.json` (and, with --k8s, `configmap.yaml` carrying both); it is
 * written only after the bundle verifies against the key ring, never over a different file
 * without --force, and the same bytes again are a no-op.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Keyring, KeyringDocument } from '@stellaops/forensics';
import type { ProfileVerification } from '@stellaops/collector-config';
import { ensureDirectory } from './download.js';
import { loadKeyring } from './key-files.js';
import { collectorConfigLib, forensicsLib } from './lazy.js';
import { CliError } from './output.js';
import { requestJson, type Connection } from './service-client.js';

/** What `GET /telemetry/config/profile/{name}` answers. */
export interface ServedProfile {
  name: string;
  profile_digest: string;
  collector: { distribution: string; version: string };
  sealed: boolean;
  key_id: string;
  yaml: string;
  envelope: { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[] };
}

/** The key ring `--keyring` names, else the one the service publishes (`GET /evidence/keyring`). */
export async function trustedKeyring(file: string | undefined, conn: Connection | undefined): Promise<{ keyring: Keyring; source: string }> {
  if (file) return { keyring: await loadKeyring(file), source: file };
  if (!conn) throw new CliError('usage', 'no key ring: pass --keyring <file> (from stella forensic keyring export)');
  const doc = await requestJson<KeyringDocument>(conn, 'GET', '/evidence/keyring');
  const { Keyring } = await forensicsLib();
  return { keyring: Keyring.fromJSON({ version: doc.version, log: doc.log }), source: `${conn.base.origin}/evidence/keyring` };
}

export type FileOutcome = 'written' | 'unchanged' | 'overwritten';

async function current(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new CliError('destination_unwritable', `cannot write ${file}: it is a directory`);
    throw new CliError('destination_unwritable', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Writes `files` (name → content) into `dir`: a file with the same content is left alone; a
 * different one is refused (nothing written at all) unless `force`. Each write goes to a private
 * file beside the target and is renamed into place.
 */
export async function writeTarget(dir: string, files: ReadonlyMap<string, string>, force: boolean): Promise<{ file: string; outcome: FileOutcome }[]> {
  await ensureDirectory(dir, dir);
  const plan: { file: string; content: string; before: string | undefined }[] = [];
  for (const [name, content] of files) {
    const file = join(dir, name);
    plan.push({ file, content, before: await current(file) });
  }
  const conflicts = plan.filter((p) => p.before !== undefined && p.before !== p.content);
  if (conflicts.length > 0 && !force) {
    throw new CliError('target_differs', `${conflicts.map((c) => c.file).join(', ')} already exist${conflicts.length === 1 ? 's' : ''} with different content; nothing was written`, {
      hint: 'compare with stella telemetry profile diff, then pass --force to replace them',
    });
  }
  const out: { file: string; outcome: FileOutcome }[] = [];
  for (const p of plan) {
    if (p.before === p.content) {
      out.push({ file: p.file, outcome: 'unchanged' });
      continue;
    }
    const temp = `${p.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, p.content, { flag: 'wx', mode: 0o644 });
      await rename(temp, p.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw new CliError('destination_unwritable', `cannot write ${p.file}: ${(error as Error).message}`, { cause: error });
    }
    out.push({ file: p.file, outcome: p.before === undefined ? 'written' : 'overwritten' });
  }
  return out;
}

/** The signature status of a deployed profile directory. */
export interface TargetStatus {
  target: string;
  status: 'verified' | 'tampered' | 'missing' | 'untrusted';
  profile: string | null;
  digest: string | null;
  key_ids: string[];
  sealed: boolean | null;
  code: string | null;
  message: string;
}

/** Reads a deployed profile directory and verifies its YAML against its envelope and the key ring. */
export async function targetStatus(dir: string, keyring: Keyring): Promise<TargetStatus> {
  const { PROFILE_CONFIG_FILE, PROFILE_ENVELOPE_FILE, verifyProfileBundle } = await collectorConfigLib();
  const info = await stat(dir).catch(() => undefined);
  const none = { profile: null, digest: null, key_ids: [], sealed: null };
  if (!info?.isDirectory()) return { target: dir, status: 'missing', ...none, code: 'target_missing', message: `${dir} is not a directory` };
  const yaml = await readFile(join(dir, PROFILE_CONFIG_FILE)).catch(() => undefined);
  if (!yaml) return { target: dir, status: 'missing', ...none, code: 'profile.config_missing', message: `no ${PROFILE_CONFIG_FILE} in ${dir}` };
  const envelope = await readFile(join(dir, PROFILE_ENVELOPE_FILE)).catch(() => undefined);
  const v: ProfileVerification = verifyProfileBundle(yaml, envelope, { keyring });
  const sealedLine = /^# stellaops\.sealed: (true|false)$/m.exec(yaml.toString('utf8'))?.[1];
  const status: TargetStatus['status'] = v.ok ? 'verified' : v.code === 'profile.signature_missing' ? 'missing' : v.code === 'profile.key_untrusted' ? 'untrusted' : 'tampered';
  return {
    target: dir,
    status,
    profile: v.profile ?? null,
    digest: v.digest,
    key_ids: v.key_ids,
    sealed: sealedLine === undefined ? null : sealedLine === 'true',
    code: v.code ?? null,
    message: v.message,
  };
}

/**
 * A profile for `profile diff`: a file (or a deployed directory's config.yaml) when one exists
 * at `ref`, else a profile name rendered locally with the defaults.
 */
export async function profileText(ref: string, path: (p: string) => string): Promise<{ source: string; yaml: string }> {
  const lib = await collectorConfigLib();
  const resolved = path(ref);
  const info = await stat(resolved).catch(() => undefined);
  if (info?.isDirectory()) {
    const file = join(resolved, lib.PROFILE_CONFIG_FILE);
    const yaml = await current(file);
    if (yaml === undefined) throw new CliError('not_found', `${ref} is a directory without ${lib.PROFILE_CONFIG_FILE}`);
    return { source: file, yaml };
  }
  if (info) return { source: resolved, yaml: (await current(resolved))! };
  if ((lib.PROFILE_NAMES as readonly string[]).includes(ref)) return { source: `profile ${ref}`, yaml: lib.renderProfile(ref as (typeof lib.PROFILE_NAMES)[number]).yaml };
  throw new CliError('not_found', `${ref} is neither a file nor a profile (${lib.PROFILE_NAMES.join(', ')})`);
}

/** Sums of Prometheus counters in the service's `/metrics` text, by one label. */
export function counterTotals(text: string, metric: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const line = new RegExp(`^${metric}(?:\\{([^}]*)\\})? ([0-9.eE+-]+)$`, 'gm');
  for (const m of text.matchAll(line)) {
    const labels = m[1] ?? '';
    const key = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(labels)?.[1] ?? 'all';
    out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
