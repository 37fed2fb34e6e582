/**
 * `stella federation …` (FED-1..4): consent proofs and aggregate bundles, offline on files — no
 * service is asked anything, so an air-gapped installation can make, carry and check them.
 *
 * - keygen: a key map `{"keys": {"<keyid>": "<base64 secret>"}}` with a fresh 32-byte secret
 *   (mode 0600), or a key added to an existing map.
 * - consent create|verify: a consent proof for a tenant, signed with HMAC-SHA256 by a key of the
 *   map; verified against a trusted key map (and, with --at, in force at a time).
 * - bundle build|verify: an aggregate bundle from findings documents (each the findings.json the
 *   Policy Engine attaches to an evaluation; each file one artifact), under a consent; verified
 *   with its consent: envelope, payload type, trusted signature, canonical payload, bucket
 *   order, bundle id, consent-digest link and expiry.
 *
 * Envelopes are written as their canonical JSON (one line), so the same input gives the same
 * file. A verification that fails exits 1 with its stable `federation.*` code; a signer that is
 * missing or fails exits 2 with its code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { FederationEnvelope, FederationKeyMap, FederationObservation, FederationSignOptions } from '@stellaops/forensics';
import { resolveTenant, type CommandContext } from '../context.js';
import { ensureDirectory } from '../download.js';
import { readText } from '../key-files.js';
import { forensicsLib } from '../lazy.js';
import { CliError, EXIT, type CommandResult } from '../output.js';

interface SignFlags {
  keys?: string;
  keyId?: string;
  allowUnsigned?: boolean;
}

/** Rethrows the library's federation and key-map errors as CLI errors with their codes (exit 2). */
async function asCli<T>(work: () => Promise<T>): Promise<T> {
  const lib = await forensicsLib();
  try {
    return await work();
  } catch (error) {
    if (error instanceof lib.FederationError) throw new CliError(error.code, error.message, { cause: error });
    if (error instanceof lib.ForensicsError) throw new CliError(error.code, error.message, { cause: error });
    throw error;
  }
}

async function readKeyMap(path: string, flag: string): Promise<FederationKeyMap> {
  const text = await readText(path, `${flag}`);
  return asCli(async () => (await forensicsLib()).parseFederationKeyMap(text));
}

async function readEnvelope(path: string, what: string): Promise<FederationEnvelope | string> {
  return readText(path, what);
}

function time(flag: string, value: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || !Number.isFinite(ms)) throw new CliError('usage', `${flag} must be an RFC 3339 time such as 2026-01-01T00:00:00Z, not "${value}"`);
  return new Date(ms).toISOString();
}

function digestFlag(value: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(value)) throw new CliError('usage', `--digest must be sha256:<64 hex digits>, not "${value}"`);
  return value;
}

/** Writes `text` to `path`; refuses an existing file unless `force`. */
async function writeOut(path: string, text: string, force: boolean, mode = 0o644): Promise<void> {
  if (!force && (await lstat(path).catch(() => undefined))) throw new CliError('exists', `${path} already exists; pass --force to replace it`);
  await ensureDirectory(dirname(path), path);
  try {
    await writeFile(path, text, { mode, flag: force ? 'w' : 'wx' });
    await chmod(path, mode);
  } catch (cause) {
    throw new CliError('write_failed', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

export function registerFederation(program: Command, ctx: CommandContext): void {
  const { io, path } = ctx;
  const federation = program.command('federation').description('federated telemetry: consent proofs and anonymised aggregate bundles (DSSE, HMAC-SHA256), offline on files');

  const signOptions = async (opts: SignFlags): Promise<FederationSignOptions> => ({
    ...(opts.keys ? { keys: await readKeyMap(path(opts.keys), '--keys') } : {}),
    ...(opts.keyId ? { keyId: opts.keyId } : {}),
    allowUnsigned: !!opts.allowUnsigned,
  });
  const signerJson = (env: FederationEnvelope): { signer_key_id: string | null; unsigned: boolean } => {
    const unsigned = env.signatures.every((s) => s.keyid === 'offline-unsigned-fallback' && s.sig === '');
    return { signer_key_id: unsigned ? null : (env.signatures[0]?.keyid ?? null), unsigned };
  };

  ctx.action(
    federation
      .command('keygen')
      .description('write a key map {"keys": {"<keyid>": "<base64 secret>"}} with a fresh 32-byte secret (mode 0600), or add the key to an existing map')
      .requiredOption('--key-id <id>', 'the id of the new key')
      .requiredOption('--out <file>', 'the key map file'),
    async (_args, opts: { keyId: string; out: string }): Promise<CommandResult> => {
      const file = path(opts.out);
      let existing: Record<string, string> = {};
      if (await lstat(file).catch(() => undefined)) {
        const text = await readText(file, '--out');
        await asCli(async () => (await forensicsLib()).parseFederationKeyMap(text));
        existing = (JSON.parse(text) as { keys: Record<string, string> }).keys;
      }
      if (Object.hasOwn(existing, opts.keyId)) throw new CliError('exists', `${opts.out} already holds a key "${opts.keyId}"`);
      const map = { keys: { ...existing, [opts.keyId]: randomBytes(32).toString('base64') } };
      await asCli(async () => (await forensicsLib()).parseFederationKeyMap(map));
      await writeOut(file, `${JSON.stringify(map, null, 2)}\n`, true, 0o600);
      return { exitCode: EXIT.ok, json: { ok: true, key_id: opts.keyId, keys: file, key_ids: Object.keys(map.keys).sort() }, human: `added key ${opts.keyId} to ${opts.out} (share it only with the installations that verify your bundles)` };
    },
  );

  const consent = federation.command('consent').description('consent proofs: who allowed sharing, for what, until when');
  ctx.action(
    consent
      .command('create')
      .description("sign a consent proof for the tenant's aggregates to be shared")
      .option('--tenant <tenant>', 'the tenant that consents (default: $STELLA_TENANT)')
      .requiredOption('--granted-by <who>', 'who granted the consent (a person or role)')
      .requiredOption('--purpose <text>', 'what the aggregates may be used for')
      .requiredOption('--expires-at <time>', 'when the consent ends (RFC 3339)')
      .option('--granted-at <time>', 'when it was granted (RFC 3339; default now)')
      .option('--consent-id <id>', 'the consent id (default: derived from the other fields)')
      .option('--keys <file>', 'key map to sign with')
      .option('--key-id <id>', "key of the map to sign with (default: the map's only key)")
      .option('--allow-unsigned', 'with no key to sign with, write an unsigned envelope tagged offline-unsigned-fallback (verifiers refuse it unless told otherwise)')
      .requiredOption('--out <file>', 'where to write the consent envelope')
      .option('--force', 'overwrite --out'),
    async (_args, opts: SignFlags & { tenant?: string; grantedBy: string; purpose: string; expiresAt: string; grantedAt?: string; consentId?: string; out: string; force?: boolean }) => {
      const tenant = resolveTenant(opts.tenant, io);
      if (!tenant) throw new CliError('usage', 'the consent needs a tenant: pass --tenant or set STELLA_TENANT');
      const sign = await signOptions(opts);
      const made = await asCli(async () =>
        (await forensicsLib()).createFederationConsent(
          {
            ...(opts.consentId ? { consentId: opts.consentId } : {}),
            tenantId: tenant,
            grantedBy: opts.grantedBy,
            grantedAt: opts.grantedAt ? time('--granted-at', opts.grantedAt) : new Date().toISOString(),
            expiresAt: time('--expires-at', opts.expiresAt),
            purpose: opts.purpose,
          },
          sign,
        ),
      );
      const lib = await forensicsLib();
      await writeOut(path(opts.out), `${lib.canonicalFederationEnvelope(made.envelope)}\n`, !!opts.force);
      const digest = lib.federationEnvelopeDigest(made.envelope);
      const signer = signerJson(made.envelope);
      return {
        exitCode: EXIT.ok,
        json: { ok: true, consent_id: made.consent.consentId, tenant_id: tenant, expires_at: made.consent.expiresAt, digest, ...signer, out: path(opts.out) },
        human: [`consent ${made.consent.consentId} of ${tenant} until ${made.consent.expiresAt} → ${opts.out}`, `digest ${digest}`, signer.unsigned ? 'UNSIGNED (offline-unsigned-fallback)' : `signed by ${signer.signer_key_id}`].join('\n'),
      };
    },
  );

  ctx.action(
    consent
      .command('verify')
      .description('verify a consent envelope against a trusted key map')
      .argument('<consent>', 'the consent envelope file')
      .option('--keys <file>', 'the trusted key map')
      .option('--at <time>', 'also require the consent to be in force at this time (RFC 3339)')
      .option('--digest <sha256:hex>', 'also require the envelope to have this digest (as announced by the sender)')
      .option('--allow-unsigned', 'accept an unsigned envelope (offline-unsigned-fallback)'),
    async ([file], opts: { keys?: string; at?: string; digest?: string; allowUnsigned?: boolean }) => {
      const keys = opts.keys ? await readKeyMap(path(opts.keys), '--keys') : undefined;
      const text = await readEnvelope(path(file!), 'consent');
      const v = (await forensicsLib()).verifyFederationConsent(text, {
        ...(keys ? { keys } : {}),
        allowUnsigned: !!opts.allowUnsigned,
        ...(opts.at ? { at: time('--at', opts.at) } : {}),
        ...(opts.digest ? { expectedDigest: digestFlag(opts.digest) } : {}),
      });
      if (!v.ok) return { exitCode: EXIT.invalid, json: { ok: false, verified: false, error_code: v.code, message: v.message, digest: v.digest }, human: `consent does NOT verify: ${v.code}: ${v.message}` };
      return {
        exitCode: EXIT.ok,
        json: { ok: true, verified: true, consent: v.consent, digest: v.digest, signer_key_id: v.signer.keyId, fallback: v.signer.fallback },
        human: [`consent ${v.consent.consentId} of ${v.consent.tenantId} verified`, `granted by ${v.consent.grantedBy} at ${v.consent.grantedAt}, until ${v.consent.expiresAt}`, `purpose: ${v.consent.purpose}`, `digest ${v.digest}`, v.signer.fallback ? `UNSIGNED (${v.signer.fallback}), accepted with --allow-unsigned` : `signed by ${v.signer.keyId}`].join('\n'),
      };
    },
  );

  const bundle = federation.command('bundle').description('aggregate bundles: how noisy each CVE is across artifacts, k-anonymous');
  ctx.action(
    bundle
      .command('build')
      .description('aggregate findings documents into a signed bundle under a consent (buckets seen in fewer than --k artifacts are left out)')
      .requiredOption('--consent <file>', 'the consent envelope the bundle is shared under')
      .requiredOption('--findings <files...>', "findings documents (a JSON array of findings with advisory_id and vex_status, as the Policy Engine attaches findings.json to an evaluation); each file is one artifact")
      .requiredOption('--created-at <time>', 'the fixed clock input: when the bundle is created (RFC 3339)')
      .option('--k <n>', 'least artifacts a bucket must be seen in', '5')
      .option('--keys <file>', 'key map to sign with')
      .option('--key-id <id>', "key of the map to sign with (default: the map's only key)")
      .option('--allow-unsigned', 'with no key to sign with, write an unsigned envelope tagged offline-unsigned-fallback')
      .requiredOption('--out <file>', 'where to write the bundle envelope')
      .option('--force', 'overwrite --out'),
    async (_args, opts: SignFlags & { consent: string; findings: string[]; createdAt: string; k: string; out: string; force?: boolean }) => {
      const k = Number(opts.k);
      if (!Number.isInteger(k) || k < 1 || k > 1_000_000) throw new CliError('usage', `--k must be a whole number from 1, not "${opts.k}"`);
      const lib = await forensicsLib();
      const consentText = await readText(path(opts.consent), '--consent');
      const observations: FederationObservation[] = [];
      let skipped = 0;
      for (const f of opts.findings) {
        let bytes: Buffer;
        try {
          bytes = await readFile(path(f));
        } catch (cause) {
          throw new CliError('not_found', `cannot read findings ${f}: ${(cause as Error).message}`, { cause });
        }
        let doc: unknown;
        try {
          doc = JSON.parse(bytes.toString('utf8'));
        } catch (cause) {
          throw new CliError('input_invalid', `${f} is not JSON`, { cause });
        }
        // The artifact is named by the document's content, so the same documents give the same bundle wherever they sit.
        const artifact = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        const found = lib.observationsFromFindings(artifact, doc);
        observations.push(...found.observations);
        skipped += found.skipped;
      }
      const sign = await signOptions(opts);
      const built = await asCli(async () => lib.buildFederationBundle({ consent: lib.parseFederationEnvelope(consentText), createdAt: time('--created-at', opts.createdAt), observations, minArtifacts: k }, sign));
      await writeOut(path(opts.out), `${lib.canonicalFederationEnvelope(built.envelope)}\n`, !!opts.force);
      const signer = signerJson(built.envelope);
      const digest = lib.federationEnvelopeDigest(built.envelope);
      return {
        exitCode: EXIT.ok,
        json: { ok: true, bundle_id: built.payload.bundleId, consent_digest: built.payload.consentDigest, created_at: built.payload.createdAt, buckets: built.payload.buckets.length, suppressed: built.suppressed, observations: observations.length, skipped, k, digest, ...signer, out: path(opts.out) },
        human: [
          `bundle ${built.payload.bundleId} → ${opts.out}`,
          `${built.payload.buckets.length} bucket(s) from ${observations.length} finding(s) in ${opts.findings.length} artifact(s); ${built.suppressed} left out (seen in fewer than ${k} artifacts)${skipped ? `; ${skipped} item(s) that are not findings skipped` : ''}`,
          `consent ${built.consent.consentId} (${built.payload.consentDigest})`,
          signer.unsigned ? 'UNSIGNED (offline-unsigned-fallback)' : `signed by ${signer.signer_key_id}`,
        ].join('\n'),
      };
    },
  );

  ctx.action(
    bundle
      .command('verify')
      .description('verify a bundle with the consent it was shared under, against a trusted key map')
      .argument('<bundle>', 'the bundle envelope file')
      .requiredOption('--consent <file>', 'the consent envelope')
      .option('--keys <file>', 'the trusted key map')
      .option('--digest <sha256:hex>', 'also require the bundle envelope to have this digest (as announced by the sender)')
      .option('--allow-unsigned', 'accept unsigned envelopes (offline-unsigned-fallback)'),
    async ([file], opts: { consent: string; keys?: string; digest?: string; allowUnsigned?: boolean }) => {
      const keys = opts.keys ? await readKeyMap(path(opts.keys), '--keys') : undefined;
      const v = (await forensicsLib()).verifyFederationBundle(await readEnvelope(path(file!), 'bundle'), await readEnvelope(path(opts.consent), '--consent'), {
        ...(keys ? { keys } : {}),
        allowUnsigned: !!opts.allowUnsigned,
        ...(opts.digest ? { expectedDigest: digestFlag(opts.digest) } : {}),
      });
      if (!v.ok) {
        return { exitCode: EXIT.invalid, json: { ok: false, verified: false, error_code: v.code, message: v.message, digest: v.digest, consent_digest: v.consentDigest }, human: `bundle does NOT verify: ${v.code}: ${v.message}` };
      }
      const noisiest = [...v.bundle.buckets].sort((a, b) => b.noisyCount / b.observationCount - a.noisyCount / a.observationCount || (a.cveId < b.cveId ? -1 : 1)).slice(0, 5);
      return {
        exitCode: EXIT.ok,
        json: { ok: true, verified: true, bundle: v.bundle, consent: v.consent, digest: v.digest, consent_digest: v.consentDigest, signer_key_id: v.signer.keyId, fallback: v.signer.fallback, consent_signer_key_id: v.consentSigner.keyId },
        human: [
          `bundle ${v.bundle.bundleId} verified (created ${v.bundle.createdAt}, ${v.bundle.buckets.length} bucket(s))`,
          `consent ${v.consent.consentId} of ${v.consent.tenantId}, in force until ${v.consent.expiresAt}`,
          v.signer.fallback ? `UNSIGNED (${v.signer.fallback}), accepted with --allow-unsigned` : `signed by ${v.signer.keyId}`,
          ...noisiest.map((b) => `  ${b.cveId}: ${b.noisyCount}/${b.observationCount} noisy across ${b.artifactCount} artifacts`),
        ].join('\n'),
      };
    },
  );
}
