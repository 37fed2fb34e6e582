import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Option, type Command } from 'commander';
import type { BundleFileInput, EvidenceKind, Keyring, Signer, SigningTime, VerificationFailure } from '@stellaops/forensics';
import { forensicsLib } from '../lazy.js';
import { CliError, EXIT, type CliIO, type CommandResult } from '../output.js';
import type { CommandContext } from '../program.js';
import { registerForensicService } from './forensic-service.js';

/** The snapshot kinds, for `--kind`'s choices without loading the library; the type check below keeps them equal to EvidenceKind. */
const EVIDENCE_KINDS = ['evaluation', 'job-capsule', 'export'] as const satisfies readonly EvidenceKind[];
const everyKindListed: [Exclude<EvidenceKind, (typeof EVIDENCE_KINDS)[number]>] extends [never] ? true : never = true;
void everyKindListed;

/**
 * `stella forensic …` — offline evidence work: keys, bundles, verification, attestations.
 * Verification never needs the server: a copied bundle and a public key (or key ring) suffice.
 */
export function registerForensic(program: Command, ctx: CommandContext): void {
  const forensic = program.command('forensic').description('evidence bundles, signing keys and attestations (works offline)');
  const io = ctx.io;
  const path = (p: string): string => resolve(io.cwd, p);

  ctx.action(
    forensic
      .command('keygen')
      .description('generate a signing key pair: signing.key.pem (PKCS#8, mode 0600) and signing.pub.pem (SPKI)')
      .requiredOption('--out <dir>', 'directory to write the key files into')
      .addOption(new Option('--algorithm <alg>', 'signature algorithm').choices(['ecdsa-p256', 'ed25519']).default('ecdsa-p256'))
      .option('--force', 'overwrite existing key files'),
    async (_args, opts: { out: string; algorithm: string; force?: boolean; json?: boolean }) => {
      const dir = path(opts.out);
      const keyPath = join(dir, 'signing.key.pem');
      const pubPath = join(dir, 'signing.pub.pem');
      if (!opts.force && ((await exists(keyPath)) || (await exists(pubPath)))) {
        throw new CliError('exists', `${keyPath} or ${pubPath} already exists; pass --force to replace them`);
      }
      const pair = (await forensicsLib()).generateSigningKeyPair(opts.algorithm === 'ed25519' ? 'ed25519' : 'ecdsa-p256-sha256');
      await mkdir(dir, { recursive: true });
      await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
      await chmod(keyPath, 0o600);
      await writeFile(pubPath, pair.publicKeyPem, { mode: 0o644 });
      return {
        exitCode: EXIT.ok,
        json: { ok: true, keyId: pair.keyId, algorithm: pair.algorithm, privateKey: keyPath, publicKey: pubPath },
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
      .option('--tsa-url <url>', 'RFC 3161 time-stamping authority to stamp the Merkle root'),
    async (_args, opts: { from: string; kind: EvidenceKind; key: string; out: string; tenant?: string; case: string; resource?: string; createdAt?: string; tsaUrl?: string }) => {
      const from = path(opts.from);
      const signer = await readSigner(path(opts.key));
      const files = await collectFiles(from);
      const createdAt = creationTime(opts.createdAt, io);
      const out = path(opts.out);
      const { buildEvidenceBundle, createHttpTimestamper } = await forensicsLib();
      const built = await buildEvidenceBundle({
        kind: opts.kind,
        tenant: opts.tenant ?? io.env.STELLA_TENANT ?? 'default',
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
        json: { ok: true, bundle: out, root: built.root, manifestDigest: built.manifestDigest, files: built.manifest.files.length, bytes: built.contentBytes, signer: built.manifest.signer, createdAt: built.manifest.createdAt, timestamped: !!built.timestamp },
        human: `bundle ${out}\n  files:   ${built.manifest.files.length} (${built.contentBytes} bytes)\n  root:    ${built.root}\n  signer:  ${built.manifest.signer.keyId}\n  created: ${built.manifest.createdAt}${built.timestamp ? '\n  timestamp: attached' : ''}`,
      };
    },
  );

  ctx.action(
    forensic
      .command('verify')
      .description('verify a bundle (.tar, .tar.gz or directory) offline; names every file, proof or signature that fails, and says whether the signing time is proven')
      .argument('<bundle>', 'bundle.tar, bundle.tar.gz or bundle directory')
      .option('--key <pub.pem>', 'trusted SPKI PEM public key')
      .option('--keyring <file>', 'trusted key ring (checks validity windows and revocation)')
      .option('--tsa-ca <pem>', 'trusted TSA root (or issuing CA) certificate(s), PEM; repeatable', collect, [] as string[])
      .option('--require-timestamp', "fail unless a trusted RFC 3161 timestamp is present; with --keyring, also fail a bundle signed by a key that is no longer active unless the TSA time over its signature falls inside the key's validity window"),
    async ([location], opts: { key?: string; keyring?: string; tsaCa: string[]; requireTimestamp?: boolean }) => {
      const trust = await readTrust(opts, path);
      const anchors = await Promise.all(opts.tsaCa.map((p) => readText(path(p), 'TSA certificate')));
      const v = await (await forensicsLib()).verifyBundle(path(location!), {
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
      return {
        exitCode: v.ok ? EXIT.ok : EXIT.invalid,
        json: {
          ok: v.ok,
          bundle: location,
          failures: v.failures,
          format: v.format ?? null,
          container: v.container ?? null,
          root: v.root ?? null,
          manifestDigest: v.manifestDigest ?? null,
          signer: v.signer ?? null,
          createdAt: v.createdAt ?? null,
          signingTime: v.signingTime ?? null,
          files: v.fileCount,
          bytes: v.contentBytes,
          timestamp: v.timestamp ?? null,
          notes: v.notes,
          manifest: v.manifest ? { kind: v.manifest.kind, tenant: v.manifest.tenant, caseId: v.manifest.caseId, resourceId: v.manifest.resourceId } : null,
        },
        human: lines.join('\n'),
      };
    },
  );

  const attest = forensic.command('attest').description('in-toto / SLSA attestations');
  ctx.action(
    attest
      .command('verify')
      .description('verify a DSSE-signed in-toto statement: signature by a trusted key and subject digests of the artifacts')
      .argument('<envelope.json>', 'DSSE envelope')
      .option('--artifact <file>', 'artifact that must match a subject (repeatable)', collect, [] as string[])
      .option('--key <pub.pem>', 'trusted SPKI PEM public key')
      .option('--keyring <file>', 'trusted key ring'),
    async ([envelopePath], opts: { artifact: string[]; key?: string; keyring?: string }) => {
      const trust = await readTrust(opts, path);
      const envelope = await readText(path(envelopePath!), 'envelope');
      for (const a of opts.artifact) await readable(path(a), 'artifact');
      const v = await (await forensicsLib()).verifyAttestation(envelope, { ...trust, artifacts: opts.artifact.map(path) });
      const subjects = (v.statement?.subject ?? []).map((s) => s.name);
      return {
        exitCode: v.ok ? EXIT.ok : EXIT.invalid,
        json: { ok: v.ok, failures: v.failures, signerKeyIds: v.signerKeyIds, signedAt: v.signedAt ?? null, signedAtSource: v.signedAtSource, predicateType: v.statement?.predicateType ?? null, subjects, matched: v.matchedSubjects.map((s) => s.name) },
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

  const keyring = forensic.command('keyring').description('key ring with a signed, append-only rotation log');
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
      .requiredOption('--new-public <pub.pem>', 'public key of the successor')
      .option('--at <iso>', 'effective time (default now)'),
    async (_args, opts: { keyring: string; key: string; newPublic: string; at?: string }) => {
      const file = path(opts.keyring);
      const ring = await loadKeyring(file);
      await ring.rotate(await readText(path(opts.newPublic), 'public key'), { signer: await readSigner(path(opts.key)), at: time(opts.at) });
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
  registerForensicService(forensic, ctx);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function signingTimeLine(t: SigningTime): string {
  return t.source === 'tsa'
    ? `  signed no later than ${t.time} (tsa: proven by an RFC 3161 timestamp over the signature from ${t.tsa ?? 'a trusted TSA'}; the signer claims ${t.asserted})`
    : `  signed at ${t.time} (asserted: the signer's own claim, not proven — a TSA timestamp checked with --tsa-ca proves it)`;
}

function failureLines(failures: readonly VerificationFailure[]): string[] {
  return failures.map((f) => `  ✗ ${f.code}${f.path ? ` [${f.path}]` : ''}: ${f.message}`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function readable(p: string, what: string): Promise<void> {
  if (!(await exists(p))) throw new CliError('not_found', `${what} ${p} does not exist`);
}

async function readText(p: string, what: string): Promise<string> {
  try {
    return await readFile(p, 'utf8');
  } catch (cause) {
    throw new CliError('not_found', `cannot read ${what} ${p}: ${(cause as Error).message}`, { cause });
  }
}

async function readSigner(p: string): Promise<Signer> {
  return (await forensicsLib()).createKeySigner(await readText(p, 'private key'));
}

async function loadKeyring(p: string): Promise<Keyring> {
  return (await forensicsLib()).Keyring.fromJSON(await readText(p, 'key ring'));
}

async function writeKeyring(p: string, ring: Keyring): Promise<void> {
  await writeFile(p, `${JSON.stringify(ring.toJSON(), null, 2)}\n`);
}

function keyringResult(file: string, ring: Keyring): CommandResult {
  const keys = ring.keys().map((k) => ({
    keyId: k.keyId,
    algorithm: k.algorithm,
    notBefore: k.notBefore.toISOString(),
    notAfter: k.notAfter?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  }));
  return {
    exitCode: EXIT.ok,
    json: { ok: true, keyring: file, entries: ring.entries().length, keys },
    human: [`key ring ${file} (${ring.entries().length} log entries)`, ...keys.map((k) => `  ${k.keyId} ${k.algorithm} from ${k.notBefore}${k.notAfter ? ` until ${k.notAfter}` : ''}${k.revokedAt ? ` REVOKED ${k.revokedAt}` : ''}`)].join('\n'),
  };
}

async function readTrust(opts: { key?: string; keyring?: string }, path: (p: string) => string): Promise<{ publicKey: string } | { keyring: Keyring }> {
  if (!!opts.key === !!opts.keyring) throw new CliError('usage', 'pass exactly one of --key <pub.pem> or --keyring <file>');
  if (opts.keyring) return { keyring: await loadKeyring(path(opts.keyring)) };
  const pem = await readText(path(opts.key!), 'public key');
  (await forensicsLib()).loadPublicKey(pem);
  return { publicKey: pem };
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
