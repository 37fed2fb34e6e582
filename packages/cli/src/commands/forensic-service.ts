/**
 * `stella forensic …` commands that talk to the service (EVI-4/6, ATT-3, TL-5, CLI-2/4):
 * snapshot create|get, hold place|release, attest show, custody, key rotate, keyring export.
 * Every one takes --server, --token (or $STELLA_TOKEN), --tenant (or $STELLA_TENANT) and
 * --json, sends a W3C `traceparent`, and prints the trace id so a support case can find the
 * request in the service's traces and logs.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Destination, notWritten, shellArg } from '../download.js';
import { CliError } from '../output.js';
import { connect, request, requestJson, traced, withServerOptions, type ServerOptions } from '../service-client.js';
import type { CommandContext } from '../program.js';

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

interface Verification {
  ok: boolean;
  failures: { code: string; message: string; path?: string }[];
}

function failureLines(failures: Verification['failures']): string[] {
  return failures.map((f) => `  ✗ ${f.code}${f.path ? ` [${f.path}]` : ''}: ${f.message}`);
}

function sub(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

export function registerForensicService(forensic: Command, ctx: CommandContext): void {
  const io = ctx.io;
  const path = (p: string): string => resolve(io.cwd, p);

  const snapshot = sub(forensic, 'snapshot', 'evidence snapshots in the service');
  ctx.action(
    withServerOptions(
      snapshot
        .command('create')
        .description('gather, sign and commit an evidence bundle for a resource; --out downloads its archive')
        .requiredOption('--case <id>', 'case id the bundle is filed under')
        .requiredOption('--scope <kind>', 'snapshot kind: evaluation, job-capsule or export')
        .requiredOption('--id <resource>', 'resource id (evaluation, job or export id)')
        .option('--resource-type <type>', 'resource type when it differs from the kind default')
        .option('--out <bundle.tar>', 'download the archive here (never overwrites)'),
    ),
    async (_args, opts: ServerOptions & { case: string; scope: string; id: string; resourceType?: string; out?: string }) => {
      if (!['evaluation', 'job-capsule', 'export'].includes(opts.scope)) throw new CliError('usage', `--scope must be evaluation, job-capsule or export, not "${opts.scope}"`);
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
          const res = await request(conn, 'GET', `/evidence/${encodeURIComponent(bundle.bundle_id)}/archive`);
          await dest.writeResponse(res.body);
          await dest.commit();
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
      const d = await requestJson<{ bundle: BundleOut; manifest: { files: { path: string; size: number; sha256: string }[] }; verification: Verification; hold: { reason: string } | null }>(
        conn,
        'GET',
        `/evidence/${encodeURIComponent(id!)}`,
      ).catch(async (error: unknown) => {
        await dest?.discard();
        throw error;
      });
      let out: string | undefined;
      if (dest) {
        try {
          const res = await request(conn, 'GET', `/evidence/${encodeURIComponent(id!)}/archive`);
          await dest.writeResponse(res.body);
          await dest.commit();
          out = dest.path;
        } catch (error) {
          await dest.discard();
          return notWritten(conn.traceId, { ...d, archive: null }, [`bundle ${d.bundle.bundle_id} (${d.bundle.kind}, case ${d.bundle.case_id})`], error, `stella forensic snapshot get ${d.bundle.bundle_id} --out ${shellArg(opts.out!)}`);
        }
      }
      return traced(conn.traceId, d.verification.ok, { ...d, archive: out ?? null }, [
        `${d.verification.ok ? 'VALID' : 'INVALID'} bundle ${d.bundle.bundle_id} (${d.bundle.kind}, case ${d.bundle.case_id})${d.hold ? ` — LEGAL HOLD: ${d.hold.reason}` : ''}`,
        `  root ${d.bundle.root_hash}, signer ${d.bundle.signer_key_id ?? 'unknown'}, created ${d.bundle.created_at}`,
        ...d.manifest.files.map((f) => `  ${f.sha256}  ${f.size}  files/${f.path}`),
        ...failureLines(d.verification.failures),
        ...(out ? [`  archive ${out}`] : []),
      ]);
    },
  );

  const hold = sub(forensic, 'hold', 'legal holds on evidence cases');
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

  const attest = sub(forensic, 'attest', 'in-toto / SLSA attestations');
  ctx.action(
    withServerOptions(attest.command('show').description('show an attestation, verified by the service on read (signer, time, status)').argument('<id>', 'attestation id')),
    async ([id], opts: ServerOptions) => {
      const conn = connect(opts, io);
      const r = await requestJson<{
        attestation: { id: string; subject_id: string; subject_digest: string; predicate_type: string | null; signer_key_id: string | null; signed_at: string | null; status: string; verification: Verification };
        statement: unknown;
      }>(conn, 'GET', `/attestations/${encodeURIComponent(id!)}`);
      const a = r.attestation;
      return traced(conn.traceId, a.verification.ok, r, [
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

  const key = sub(forensic, 'key', 'signing keys held by the service');
  ctx.action(
    withServerOptions(
      key
        .command('rotate')
        .description("rotate the service's signing key (logged in the signed rotation log; earlier evidence stays valid)")
        .option('--scope <scope>', 'platform or tenant (default: the key that signs this tenant\'s evidence)'),
    ),
    async (_args, opts: ServerOptions & { scope?: string }) => {
      if (opts.scope !== undefined && opts.scope !== 'platform' && opts.scope !== 'tenant') throw new CliError('usage', '--scope must be platform or tenant');
      const conn = connect(opts, io);
      const r = await requestJson<{ scope: string; previous_key_id: string; key_id: string; at: string; audit_event_id: string }>(conn, 'POST', '/evidence/keys/rotate', opts.scope ? { scope: opts.scope } : {});
      return traced(conn.traceId, true, r, [`rotated the ${r.scope} key at ${r.at}`, `  retired ${r.previous_key_id}`, `  active  ${r.key_id}`, `  audit event ${r.audit_event_id}`]);
    },
  );

  const keyring = sub(forensic, 'keyring', 'key ring with a signed, append-only rotation log');
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
      const out = dest.path;
      try {
        const r = await requestJson<{ version: 1; log: unknown[]; scope: string; current_key_id: string | null; keys: { key_id: string }[] }>(conn, 'GET', '/evidence/keyring');
        // Only the key ring document: verifiers replay and check the log themselves.
        await dest.writeBytes(Buffer.from(`${JSON.stringify({ version: r.version, log: r.log }, null, 2)}\n`));
        await dest.commit();
        return traced(conn.traceId, true, { keyring: out, scope: r.scope, current_key_id: r.current_key_id, keys: r.keys.length, entries: r.log.length }, [
          `saved the ${r.scope} key ring to ${out} (${r.keys.length} keys, ${r.log.length} log entries, current ${r.current_key_id ?? 'none'})`,
        ]);
      } catch (error) {
        await dest.discard();
        throw error;
      }
    },
  );
}
