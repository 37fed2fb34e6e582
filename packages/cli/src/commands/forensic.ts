/**
 * `stella forensic …` — evidence work (EVI-4/6, ATT-3, TL-5, CLI-2/4).
 *
 * Offline, on a copied bundle and a public key or key ring, no server: keygen, bundle create,
 * verify, attest verify, keyring init|rotate|revoke.
 *
 * Against the service: snapshot create|get, hold place|release, attest show, custody, key
 * rotate, keyring export. These take --server, --token (or $STELLA_TOKEN) and --tenant (or
 * $STELLA_TENANT), send a W3C `traceparent` and print the trace id, so a support case can find
 * the request in the service's traces and logs.
 */
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { Option, type Command } from 'commander';
import type { BundleFileInput, EvidenceKind, Keyring, SigningTime } from '@stellaops/forensics';
import { resolveTenant, withServerOptions, type CommandContext, type ServerOptions } from '../context.js';
import { Destination, ensureDirectory, notWritten, shellArg } from '../download.js';
import { loadKeyring, readPublicKeyPem, readSigner, readText } from '../key-files.js';
import { forensicsLib } from '../lazy.js';
import { CliError, EXIT, type CliIO, type CommandResult } from '../output.js';
import { startProgress } from '../progress.js';
import { connect, request, requestJson, traced } from '../service-client.js';
import { failureLines, failuresJson, signerJson, verificationJson, verifyOnDisk } from '../verification.js';

/** The snapshot kinds, for `--kind`'s choices without loading the library; the type check below keeps them equal to EvidenceKind. */
const EVIDENCE_KINDS = ['evaluation', 'job-capsule', 'export'] as const satisfies readonly EvidenceKind[];
const everyKindListed: [Exclude<EvidenceKind, (typeof EVIDENCE_KINDS)[number]>] extends [never] ? true : never = true;
void everyKindListed;

export function registerForensic(program: Command, ctx: CommandContext): void {
  const forensic = program.command('forensic').description('evidence bundles, signing keys and attestations: offline verification, and the evidence held by the service');
  registerOffline(forensic, ctx);
  registerService(forensic, ctx);
}

/** Subcommand group `name` of `parent`, created on first use (offline and service commands share `attest` and `keyring`). */
function group(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

function registerOffline(forensic: Command, ctx: CommandContext): void {
  const { io, path } = ctx;

  ctx.action(
    forensic
      .command('keygen')
      .description('generate a signing key pair: signing.key.pem (PKCS#8, mode 0600) and signing.pub.pem (SPKI)')
      .requiredOption('--out <dir>', 'directory to write the key files into')
      .addOption(new Option('--algorithm <alg>', 'signature algorithm').choices(['ecdsa-p256', 'ed25519']).default('ecdsa-p256'))
      .option('--force', 'overwrite existing key files'),
    async (_args, opts: { out: string; algorithm: string; force?: boolean }) => {
      const dir = path(opts.out);
      const keyPath = join(dir, 'signing.key.pem');
      const pubPath = join(dir, 'signing.pub.pem');
      if (!opts.force && ((await exists(keyPath)) || (await exists(pubPath)))) {
        throw new CliError('exists', `${keyPath} or ${pubPath} already exists; pass --force to replace them`);
      }
      await ensureDirectory(dir, keyPath);
      const pair = (await forensicsLib()).generateSigningKeyPair(opts.algorithm === 'ed25519' ? 'ed25519' : 'ecdsa-p256-sha256');
      await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
      await chmod(keyPath, 0o600);
      await writeFile(pubPath, pair.publicKeyPem, { mode: 0o644 });
      return {
        exitCode: EXIT.ok,
        json: { ok: true, key_id: pair.keyId, algorithm: pair.algorithm, private_key: keyPath, public_key: pubPath },
        human: `key ${pair.keyId} (${pair.algorithm})\n  private: ${keyPath}\n  public:  ${pubPath}`,
      };
    },
  );

  const bundle = forensic.command('bundle').description('build evidence bundles');
  ctx.action(
    bundle
      .command('create')
      .description('build and sign an evidence bundle from a directory of files (a .tar when --out ends in .tar, else a directory)')
      .requiredOption('--from <dir>', 'directory whose files become the bundle content')
      .addOption(new Option('--kind <kind>', 'snapshot kind').choices([...EVIDENCE_KINDS]).makeOptionMandatory())
      .requiredOption('--key <signing.key.pem>', 'PKCS#8 PEM private key to sign with')
      .requiredOption('--out <bundle>', 'output: bundle.tar or a new directory')
      .option('--tenant <tenant>', 'tenant id (default: $STELLA_TENANT or "default")')
      .option('--case <id>', 'case id', 'local')
      .option('--resource <id>', 'resource id (default: the --from directory name)')
      .option('--created-at <iso>', 'creation time (default: $SOURCE_DATE_EPOCH, else now); fixes every tar mtime')
      .option('--tsa-url <url>', 'RFC 3161 time-stamping authority to stamp the signature'),
    async (_args, opts: { from: string; kind: EvidenceKind; key: string; out: string; tenant?: string; case: string; resource?: string; createdAt?: string; tsaUrl?: string }) => {
      const from = path(opts.from);
      const tenant = resolveTenant(opts.tenant, io) ?? 'default';
      const signer = await readSigner(path(opts.key));
      const files = await collectFiles(from);
      const createdAt = creationTime(opts.createdAt, io);
      const out = path(opts.out);
      await ensureDirectory(dirname(out), out);
      const { buildEvidenceBundle, createHttpTimestamper } = await forensicsLib();
      const built = await buildEvidenceBundle({
        kind: opts.kind,
        tenant,
        caseId: opts.case,
        resourceId: opts.resource ?? basename(from),
        createdAt,
        signer,
        files,
        output: out.endsWith('.tar') ? { tarFile: out } : { directory: out },
        ...(opts.tsaUrl ? { timestamper: createHttpTimestamper(opts.tsaUrl) } : {}),
      });
      return {
        exitCode: EXIT.ok,
        json: {
          ok: true,
          bundle: out,
          root: built.root,
          manifest_digest: built.manifestDigest,
          files: built.manifest.files.length,
          bytes: built.contentBytes,
          signer: signerJson(built.manifest.signer),
          created_at: built.manifest.createdAt,
          timestamped: !!built.timestamp,
        },
        human: `bundle ${out}\n  files:   ${built.manifest.files.length} (${built.contentBytes} bytes)\n  root:    ${built.root}\n  signer:  ${built.manifest.signer.keyId}\n  created: ${built.manifest.createdAt}${built.timestamp ? '\n  timestamp: attached' : ''}`,
      };
    },
  );

  ctx.action(
    forensic
      .command('verify')
      .description('verify a bundle (.tar, .tar.gz or directory) offline; names every file, proof or signature that fails, and says whether the signing time is proven')
      .argument('<bundle>', 'bundle.tar, bundle.tar.gz or bundle directory')
      .option('--key <pub.pem>', 'trusted public key (SPKI PEM; a private key is refused)')
      .option('--keyring <file>', 'trusted key ring (checks validity windows and revocation)')
      .option('--tsa-ca <pem>', 'trusted TSA root (or issuing CA) certificate(s), PEM; repeatable', collect, [] as string[])
      .option('--require-timestamp', "fail unless a trusted RFC 3161 timestamp is present; with --keyring, also fail a bundle signed by a key that is no longer active unless the TSA time over its signature falls inside the key's validity window"),
    async ([location], opts: { key?: string; keyring?: string; tsaCa: string[]; requireTimestamp?: boolean }) => {
      const trust = await readTrust(opts, path);
      const anchors = await Promise.all(opts.tsaCa.map((p) => readText(path(p), 'TSA certificate')));
      const v = await verifyOnDisk(io, path(location!), {
        ...trust,
        ...(anchors.length ? { tsaTrustAnchors: anchors } : {}),
        ...(opts.requireTimestamp ? { requireTimestamp: true } : {}),
      });
      const lines = [
        `${v.ok ? 'VALID' : 'INVALID'} ${location}`,
        ...(v.manifest ? [`  kind ${v.manifest.kind}, tenant ${v.manifest.tenant}, case ${v.manifest.caseId}, resource ${v.manifest.resourceId} (${v.format}, ${v.container})`] : []),
        ...(v.signer ? [`  signer ${v.signer.keyId} (${v.signer.algorithm})`] : []),
        ...(v.signingTime ? [signingTimeLine(v.signingTime)] : []),
        `  ${v.fileCount} files, ${v.contentBytes} bytes${v.root ? `, root ${v.root}` : ''}`,
        ...(v.timestamp
          ? [`  timestamp ${v.timestamp.genTime} over the ${v.timestamp.covers === 'signature' ? 'signature' : 'Merkle root'}${v.timestamp.trusted ? ' (trusted)' : ' (untrusted: pass --tsa-ca)'}${v.timestamp.tsa ? ` by ${v.timestamp.tsa}` : ''}`]
          : []),
        ...v.notes.map((n) => `  note: ${n}`),
        ...failureLines(v.failures),
      ];
      return { exitCode: v.ok ? EXIT.ok : EXIT.invalid, json: { ok: v.ok, bundle: location, ...verificationJson(v) }, human: lines.join('\n') };
    },
  );

  const attest = group(forensic, 'attest', 'in-toto / SLSA attestations');
  ctx.action(
    attest
      .command('verify')
      .description('verify a DSSE-signed in-toto statement offline: signature by a trusted key and subject digests of the artifacts')
      .argument('<envelope.json>', 'DSSE envelope')
      .option('--artifact <file>', 'artifact that must match a subject (repeatable)', collect, [] as string[])
      .option('--key <pub.pem>', 'trusted public key (SPKI PEM; a private key is refused)')
      .option('--keyring <file>', 'trusted key ring'),
    async ([envelopePath], opts: { artifact: string[]; key?: string; keyring?: string }) => {
      const trust = await readTrust(opts, path);
      const envelope = await readText(path(envelopePath!), 'envelope');
      for (const a of opts.artifact) if (!(await exists(path(a)))) throw new CliError('not_found', `artifact ${path(a)} does not exist`);
      const v = await (await forensicsLib()).verifyAttestation(envelope, { ...trust, artifacts: opts.artifact.map(path) });
      const subjects = (v.statement?.subject ?? []).map((s) => s.name);
      return {
        exitCode: v.ok ? EXIT.ok : EXIT.invalid,
        json: {
          ok: v.ok,
          failures: failuresJson(v.failures),
          signer_key_ids: v.signerKeyIds,
          signed_at: v.signedAt ?? null,
          signed_at_source: v.signedAtSource,
          predicate_type: v.statement?.predicateType ?? null,
          subjects,
          matched: v.matchedSubjects.map((s) => s.name),
        },
        human: [
          `${v.ok ? 'VALID' : 'INVALID'} ${envelopePath}`,
          ...(v.statement ? [`  predicate ${v.statement.predicateType}`, `  subjects ${subjects.join(', ')}`] : []),
          ...(v.signerKeyIds.length ? [`  signed by ${v.signerKeyIds.join(', ')}${v.signedAt ? ` at ${v.signedAt} (asserted: the statement's own time, not proven)` : ''}`] : []),
          ...(v.matchedSubjects.length ? [`  matched ${v.matchedSubjects.map((s) => s.name).join(', ')}`] : []),
          ...failureLines(v.failures),
        ].join('\n'),
      };
    },
  );

  const keyring = group(forensic, 'keyring', 'key ring with a signed, append-only rotation log');
  ctx.action(
    keyring
      .command('init')
      .description('start a key ring whose first key is --key')
      .requiredOption('--key <signing.key.pem>', 'private key of the first key (signs the first entry)')
      .requiredOption('--out <keyring.json>', 'key ring file to create')
      .option('--at <iso>', 'effective time (default now)')
      .option('--not-before <iso>', 'start of validity (default --at)'),
    async (_args, opts: { key: string; out: string; at?: string; notBefore?: string }) => {
      const out = path(opts.out);
      if (await exists(out)) throw new CliError('exists', `${out} already exists`);
      await ensureDirectory(dirname(out), out);
      const ring = await (await forensicsLib()).Keyring.create({ signer: await readSigner(path(opts.key)), at: time(opts.at), ...(opts.notBefore ? { notBefore: time(opts.notBefore) } : {}) });
      await writeKeyring(out, ring);
      return keyringResult(out, ring);
    },
  );
  ctx.action(
    keyring
      .command('rotate')
      .description('add --new-public as the successor of the --key signing key and retire the old key at --at')
      .requiredOption('--keyring <file>', 'key ring file to append to')
      .requiredOption('--key <signing.key.pem>', 'current (active) private key')
      .requiredOption('--new-public <pub.pem>', 'public key of the successor (SPKI PEM; a private key is refused)')
      .option('--at <iso>', 'effective time (default now)'),
    async (_args, opts: { keyring: string; key: string; newPublic: string; at?: string }) => {
      const file = path(opts.keyring);
      const ring = await loadKeyring(file);
      await ring.rotate(await readPublicKeyPem(path(opts.newPublic), '--new-public'), { signer: await readSigner(path(opts.key)), at: time(opts.at) });
      await writeKeyring(file, ring);
      return keyringResult(file, ring);
    },
  );
  ctx.action(
    keyring
      .command('revoke')
      .description('revoke a key: every signature it made is rejected from now on')
      .requiredOption('--keyring <file>', 'key ring file to append to')
      .requiredOption('--key <signing.key.pem>', 'an active private key that signs the revocation')
      .requiredOption('--key-id <id>', 'key id to revoke')
      .option('--reason <text>', 'reason, e.g. "key compromise"')
      .option('--at <iso>', 'effective time (default now)'),
    async (_args, opts: { keyring: string; key: string; keyId: string; reason?: string; at?: string }) => {
      const file = path(opts.keyring);
      const ring = await loadKeyring(file);
      await ring.revoke(opts.keyId, { signer: await readSigner(path(opts.key)), at: time(opts.at), ...(opts.reason ? { reason: opts.reason } : {}) });
      await writeKeyring(file, ring);
      return keyringResult(file, ring);
    },
  );
}

interface BundleOut {
  bundle_id: string;
  case_id: string;
  kind: string;
  root_hash: string;
  signer_key_id: string | null;
  path: string;
  created_at: string;
  file_count: number | null;
}

interface ServiceVerification {
  ok: boolean;
  failures: { code: string; message: string; path?: string; keyId?: string; key_id?: string }[];
  signer?: { keyId?: string; key_id?: string; algorithm: string };
  timestamp?: { genTime?: string; gen_time?: string; trusted: boolean; covers?: string; tsa?: string; serialNumber?: string; serial_number?: string; policy?: string };
}

/**
 * The service's verification in the CLI's snake_case form: its answer spells a few library
 * fields in camelCase (signer.keyId, timestamp.genTime, …); they are renamed here, everything
 * else passes as it is.
 */
function verificationOut(v: ServiceVerification): Record<string, unknown> {
  const { signer, timestamp, failures, ...rest } = v;
  return {
    ...rest,
    failures: failures.map((f) => ({ code: f.code, message: f.message, path: f.path ?? null, ...((f.key_id ?? f.keyId) ? { key_id: f.key_id ?? f.keyId } : {}) })),
    ...(signer ? { signer: { key_id: signer.key_id ?? signer.keyId ?? null, algorithm: signer.algorithm } } : {}),
    ...(timestamp
      ? {
          timestamp: {
            gen_time: timestamp.gen_time ?? timestamp.genTime ?? null,
            trusted: timestamp.trusted,
            covers: timestamp.covers ?? null,
            tsa: timestamp.tsa ?? null,
            serial_number: timestamp.serial_number ?? timestamp.serialNumber ?? null,
            policy: timestamp.policy ?? null,
          },
        }
      : {}),
  };
}

function registerService(forensic: Command, ctx: CommandContext): void {
  const { io, path } = ctx;

  /** Downloads a bundle's archive into a reserved destination, with a progress bar on a terminal. */
  const downloadArchive = async (conn: ReturnType<typeof connect>, bundleId: string, dest: Destination): Promise<void> => {
    const res = await request(conn, 'GET', `/evidence/${encodeURIComponent(bundleId)}/archive`);
    const length = Number(res.headers.get('content-length') ?? 0);
    await dest.writeResponse(res.body, startProgress(io, 'download', length));
    await dest.commit();
  };

  const snapshot = group(forensic, 'snapshot', 'evidence snapshots in the service');
  ctx.action(
    withServerOptions(
      snapshot
        .command('create')
        .description('gather, sign and commit an evidence bundle for a resource; --out downloads its archive')
        .requiredOption('--case <id>', 'case id the bundle is filed under')
        .addOption(new Option('--scope <kind>', 'snapshot kind').choices([...EVIDENCE_KINDS]).makeOptionMandatory())
        .requiredOption('--id <resource>', 'resource id (evaluation, job or export id)')
        .option('--resource-type <type>', 'resource type when it differs from the kind default')
        .option('--out <bundle.tar>', 'download the archive here (never overwrites)'),
    ),
    async (_args, opts: ServerOptions & { case: string; scope: string; id: string; resourceType?: string; out?: string }) => {
      const conn = connect(opts, io);
      // The destination is settled before the service commits anything: an existing --out is refused here.
      const dest = opts.out ? await Destination.reserve(path(opts.out)) : undefined;
      let bundle: BundleOut;
      try {
        bundle = await requestJson<BundleOut>(conn, 'POST', '/evidence/snapshot', {
          kind: opts.scope,
          resource_id: opts.id,
          case_id: opts.case,
          ...(opts.resourceType ? { resource_type: opts.resourceType } : {}),
        });
      } catch (error) {
        await dest?.discard();
        throw error;
      }
      const lines = [
        `created bundle ${bundle.bundle_id} (${bundle.kind}, case ${bundle.case_id}, ${bundle.file_count ?? '?'} files)`,
        `  root ${bundle.root_hash}`,
        `  signer ${bundle.signer_key_id ?? 'unknown'}`,
        `  stored at ${bundle.path}`,
      ];
      if (dest) {
        try {
          await downloadArchive(conn, bundle.bundle_id, dest);
        } catch (error) {
          await dest.discard();
          // The bundle is committed on the service: say which, and how to download it again.
          return notWritten(conn.traceId, { bundle, archive: null }, lines, error, `stella forensic snapshot get ${bundle.bundle_id} --out ${shellArg(opts.out!)}`);
        }
      }
      return traced(conn.traceId, true, { bundle, archive: dest?.path ?? null }, [...lines, ...(dest ? [`  archive ${dest.path}`] : [])]);
    },
  );

  ctx.action(
    withServerOptions(
      snapshot
        .command('get')
        .description('show a bundle: manifest, signed hashes and server-side verification; --out downloads its archive')
        .argument('<bundle-id>', 'bundle id')
        .option('--out <bundle.tar>', 'download the archive here (never overwrites)'),
    ),
    async ([id], opts: ServerOptions & { out?: string }) => {
      const conn = connect(opts, io);
      const dest = opts.out ? await Destination.reserve(path(opts.out)) : undefined;
      const d = await requestJson<{ bundle: BundleOut; manifest: { files: { path: string; size: number; sha256: string }[] }; verification: ServiceVerification; hold: { reason: string } | null }>(
        conn,
        'GET',
        `/evidence/${encodeURIComponent(id!)}`,
      ).catch(async (error: unknown) => {
        await dest?.discard();
        throw error;
      });
      if (dest) {
        try {
          await downloadArchive(conn, id!, dest);
        } catch (error) {
          await dest.discard();
          return notWritten(conn.traceId, { ...d, archive: null }, [`bundle ${d.bundle.bundle_id} (${d.bundle.kind}, case ${d.bundle.case_id})`], error, `stella forensic snapshot get ${d.bundle.bundle_id} --out ${shellArg(opts.out!)}`);
        }
      }
      return traced(conn.traceId, d.verification.ok, { ...d, verification: verificationOut(d.verification), archive: dest?.path ?? null }, [
        `${d.verification.ok ? 'VALID' : 'INVALID'} bundle ${d.bundle.bundle_id} (${d.bundle.kind}, case ${d.bundle.case_id})${d.hold ? ` — LEGAL HOLD: ${d.hold.reason}` : ''}`,
        `  root ${d.bundle.root_hash}, signer ${d.bundle.signer_key_id ?? 'unknown'}, created ${d.bundle.created_at}`,
        ...d.manifest.files.map((f) => `  ${f.sha256}  ${f.size}  files/${f.path}`),
        ...failureLines(d.verification.failures),
        ...(dest ? [`  archive ${dest.path}`] : []),
      ]);
    },
  );

  const hold = group(forensic, 'hold', 'legal holds on evidence cases');
  for (const action of ['place', 'release'] as const) {
    ctx.action(
      withServerOptions(
        hold
          .command(action)
          .description(action === 'place' ? 'place a legal hold: no bundle of the case can be deleted or expire' : 'release the legal hold on a case')
          .argument('<case>', 'case id')
          .requiredOption('--reason <text>', 'why (kept in the audit trail)'),
      ),
      async ([caseId], opts: ServerOptions & { reason: string }) => {
        const conn = connect(opts, io);
        const r = await requestJson<{ case_id: string; held: boolean; bundles: number; audit_event_id: string }>(conn, 'POST', `/evidence/hold/${encodeURIComponent(caseId!)}`, {
          action,
          reason: opts.reason,
        });
        return traced(conn.traceId, true, r, [`case ${r.case_id}: ${r.held ? 'under legal hold' : 'hold released'} (${r.bundles} bundles), audit event ${r.audit_event_id}`]);
      },
    );
  }

  const attest = group(forensic, 'attest', 'in-toto / SLSA attestations');
  ctx.action(
    withServerOptions(attest.command('show').description('show an attestation, verified by the service on read (signer, time, status)').argument('<id>', 'attestation id')),
    async ([id], opts: ServerOptions) => {
      const conn = connect(opts, io);
      const r = await requestJson<{
        attestation: { id: string; subject_id: string; subject_digest: string; predicate_type: string | null; signer_key_id: string | null; signed_at: string | null; status: string; verification: ServiceVerification };
        statement: unknown;
      }>(conn, 'GET', `/attestations/${encodeURIComponent(id!)}`);
      const a = r.attestation;
      // `statement` is the signed in-toto statement, shown as it is (its keys are the in-toto spec's).
      return traced(conn.traceId, a.verification.ok, { ...r, attestation: { ...a, verification: verificationOut(a.verification) } }, [
        `${a.verification.ok ? 'VERIFIED' : 'FAILED'} attestation ${a.id}`,
        `  subject ${a.subject_id} ${a.subject_digest}`,
        `  predicate ${a.predicate_type ?? 'unknown'}`,
        `  signer ${a.signer_key_id ?? 'none'} at ${a.signed_at ?? 'unknown'}`,
        ...failureLines(a.verification.failures),
      ]);
    },
  );

  ctx.action(
    withServerOptions(
      forensic
        .command('custody')
        .description('chain of custody of a resource: source fetch → SBOM → policy → advisory link → export, verified')
        .argument('<type>', 'resource type')
        .argument('<id>', 'resource id'),
    ),
    async ([type, id], opts: ServerOptions) => {
      const conn = connect(opts, io);
      const c = await requestJson<{
        complete: boolean;
        verified: boolean;
        problems: string[];
        steps: { step: string; present: boolean; verified: boolean; event_id: string | null; input_digest: string | null; output_digest: string | null; bundle_id: string | null; attestation_id: string | null }[];
      }>(conn, 'GET', `/custody/${encodeURIComponent(type!)}/${encodeURIComponent(id!)}`);
      return traced(conn.traceId, c.verified, c, [
        `${c.verified ? 'VERIFIED' : c.complete ? 'BROKEN' : 'INCOMPLETE'} chain of custody for ${type}/${id}`,
        ...c.steps.map((s) =>
          s.present
            ? `  ${s.verified ? '✓' : '✗'} ${s.step.padEnd(14)} ${s.input_digest ?? '-'} → ${s.output_digest ?? '-'}${s.bundle_id ? ` bundle ${s.bundle_id}` : ''}${s.attestation_id ? ` attestation ${s.attestation_id}` : ''}`
            : `  ✗ ${s.step.padEnd(14)} not recorded`,
        ),
        ...c.problems.map((p) => `  ! ${p}`),
      ]);
    },
  );

  const key = group(forensic, 'key', 'signing keys held by the service');
  ctx.action(
    withServerOptions(
      key
        .command('rotate')
        .description("rotate the service's evidence signing key (logged in the signed rotation log; earlier evidence stays valid)")
        .addOption(
          new Option(
            '--scope <scope>',
            "which key: platform (the key every tenant shares; needs a platform-wide token, stella:evidence:admin with no #tenant/ part) or tenant (this tenant's own key, when the service keeps one per tenant). Default: the key that signs this tenant's evidence",
          ).choices(['platform', 'tenant']),
        ),
    ),
    async (_args, opts: ServerOptions & { scope?: 'platform' | 'tenant' }) => {
      const conn = connect(opts, io);
      const r = await requestJson<{ scope: string; previous_key_id: string; key_id: string; at: string; audit_event_id: string }>(conn, 'POST', '/evidence/keys/rotate', opts.scope ? { scope: opts.scope } : {});
      return traced(conn.traceId, true, r, [`rotated the ${r.scope} key at ${r.at}`, `  retired ${r.previous_key_id}`, `  active  ${r.key_id}`, `  audit event ${r.audit_event_id}`]);
    },
  );

  const keyring = group(forensic, 'keyring', 'key ring with a signed, append-only rotation log');
  ctx.action(
    withServerOptions(
      keyring
        .command('export')
        .description("save the service's public key ring for offline verification (stella forensic verify --keyring)")
        .requiredOption('--out <keyring.json>', 'file to write (never overwrites)'),
    ),
    async (_args, opts: ServerOptions & { out: string }) => {
      const conn = connect(opts, io);
      const dest = await Destination.reserve(path(opts.out));
      try {
        const r = await requestJson<{ version: 1; log: unknown[]; scope: string; current_key_id: string | null; keys: { key_id: string }[] }>(conn, 'GET', '/evidence/keyring');
        // Only the key ring document: verifiers replay and check the log themselves.
        await dest.writeBytes(Buffer.from(`${JSON.stringify({ version: r.version, log: r.log }, null, 2)}\n`));
        await dest.commit();
        return traced(conn.traceId, true, { keyring: dest.path, scope: r.scope, current_key_id: r.current_key_id, keys: r.keys.length, entries: r.log.length }, [
          `saved the ${r.scope} key ring to ${dest.path} (${r.keys.length} keys, ${r.log.length} log entries, current ${r.current_key_id ?? 'none'})`,
        ]);
      } catch (error) {
        await dest.discard();
        throw error;
      }
    },
  );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function signingTimeLine(t: SigningTime): string {
  return t.source === 'tsa'
    ? `  signed no later than ${t.time} (tsa: proven by an RFC 3161 timestamp over the signature from ${t.tsa ?? 'a trusted TSA'}; the signer claims ${t.asserted})`
    : `  signed at ${t.time} (asserted: the signer's own claim, not proven — a TSA timestamp checked with --tsa-ca proves it)`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function writeKeyring(p: string, ring: Keyring): Promise<void> {
  await writeFile(p, `${JSON.stringify(ring.toJSON(), null, 2)}\n`);
}

function keyringResult(file: string, ring: Keyring): CommandResult {
  const keys = ring.keys().map((k) => ({
    key_id: k.keyId,
    algorithm: k.algorithm,
    not_before: k.notBefore.toISOString(),
    not_after: k.notAfter?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
  }));
  return {
    exitCode: EXIT.ok,
    json: { ok: true, keyring: file, entries: ring.entries().length, keys },
    human: [
      `key ring ${file} (${ring.entries().length} log entries)`,
      ...keys.map((k) => `  ${k.key_id} ${k.algorithm} from ${k.not_before}${k.not_after ? ` until ${k.not_after}` : ''}${k.revoked_at ? ` REVOKED ${k.revoked_at}` : ''}`),
    ].join('\n'),
  };
}

/** Exactly one of --key (a public key; a private one is refused) or --keyring. */
async function readTrust(opts: { key?: string; keyring?: string }, path: (p: string) => string): Promise<{ publicKey: string } | { keyring: Keyring }> {
  if (!!opts.key === !!opts.keyring) throw new CliError('usage', 'pass exactly one of --key <pub.pem> or --keyring <file>');
  if (opts.keyring) return { keyring: await loadKeyring(path(opts.keyring)) };
  return { publicKey: await readPublicKeyPem(path(opts.key!), '--key') };
}

function time(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new CliError('usage', `not a valid time: ${value} (use ISO-8601, e.g. 2025-01-01T00:00:00Z)`);
  return d;
}

function creationTime(value: string | undefined, io: CliIO): Date {
  if (value !== undefined) return time(value);
  const epoch = io.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined) {
    if (!/^\d+$/.test(epoch)) throw new CliError('usage', `SOURCE_DATE_EPOCH must be whole seconds, not ${epoch}`);
    return new Date(Number(epoch) * 1000);
  }
  return new Date();
}

/** Every regular file under `root`, as bundle paths; links and special files are refused. */
async function collectFiles(root: string): Promise<BundleFileInput[]> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError('not_found', `--from ${root} is not a directory`);
  const files: BundleFileInput[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile()) files.push({ path: relative(root, abs).split(sep).join('/'), source: abs });
      else throw new CliError('usage', `${abs} is not a regular file; bundles hold regular files only`);
    }
  };
  await walk(root);
  if (files.length === 0) throw new CliError('usage', `--from ${root} holds no files`);
  return files;
}
