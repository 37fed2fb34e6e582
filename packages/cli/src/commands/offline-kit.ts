/**
 * `stella offline-kit …` (OFF-1, OFF-2), offline on files, for sealed installations.
 *
 * - build: one deterministic `.tar.gz` holding
 *   - `profiles/<name>/config.yaml` and its DSSE envelope: every Collector profile rendered and signed;
 *   - `deploy/…`: the deployment files of `--deploy` (backend configs, SLOs, alert rules and their
 *     promtool tests, dashboards; `deploy/collector/` is replaced by the signed profiles);
 *   - the top-level folders of `<deploy>/offline-kit/`, reviewed and versioned in the repository:
 *     `scripts/` (bootstrap.sh, import.sh, replay.sh), `compliance/` (the checklists) and README.md;
 *   - `collector/<name>`: operator-supplied Collector binaries (`--collector`, repeatable);
 *   - `manifest.json`, every file's SHA-256 and size, the binaries pinned again under
 *     `collectors`, signed (`manifest.json.dsse.json`).
 *   Entries are sorted, owned by nobody, dated `--created-at`: the same input gives the same bytes.
 * - verify: checks the manifest's signature against a public key or key ring, every file against
 *   the manifest, the pinned collector binaries, every profile against its envelope, and refuses
 *   unsafe archive entries (absolute paths, `..`, links); each failing file is named (exit 1).
 * - import: the same verification, then — only when it passes — the kit's files written into
 *   `--target` (no path leaves it, no link is followed, a different existing file is replaced only
 *   with --force, the same kit again changes nothing), with `import.json` recording what was
 *   imported, and whether the host is sealed (STELLA_SEALED). No network is used by any of them.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { sealedFromEnv } from '@stellaops/telemetry-core/egress';
import type { CommandContext } from '../context.js';
import { ensureDirectory, shellArg } from '../download.js';
import { readSigner } from '../key-files.js';
import { collectorConfigLib, forensicsLib } from '../lazy.js';
import {
  KIT_COLLECTOR_DIR,
  KIT_FORMAT,
  KIT_IMPORT_RECORD,
  KIT_MANIFEST,
  KIT_MANIFEST_ENVELOPE,
  KIT_MANIFEST_PAYLOAD_TYPE,
  readKit,
  readKitTrust,
  sha256,
  verifyKit,
  type KitFailure,
  type KitFileEntry,
  type KitManifest,
  type KitVerification,
} from '../offline-kit-archive.js';
import { kitFileMode, writeAtomically, writeKitTarget } from '../offline-kit-target.js';
import { CliError, EXIT } from '../output.js';

/** The folder of `--deploy` whose contents become the kit's own top-level folders. */
const KIT_FILES_DIR = 'offline-kit';
/** Files the kit cannot go without (OFF-1: replay tooling, bootstrap and import scripts). */
const REQUIRED_KIT_FILES = ['scripts/bootstrap.sh', 'scripts/import.sh', 'scripts/replay.sh'];
/** Top-level names the build itself fills; `<deploy>/offline-kit/` may not use them. */
const RESERVED = new Set(['profiles', 'deploy', KIT_COLLECTOR_DIR, KIT_MANIFEST, KIT_MANIFEST_ENVELOPE, KIT_IMPORT_RECORD]);
const IMPORT_FORMAT = 'stellaops.offline-kit-import/v1';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A ustar archive of `files` in path order, every entry mode 0644, uid/gid 0, dated `mtime`. */
async function tarOf(files: ReadonlyMap<string, Buffer>, mtime: number): Promise<Buffer> {
  const { compareTarPaths, tarHeader, tarPadding, END_OF_ARCHIVE } = await forensicsLib();
  const parts: Buffer[] = [];
  for (const path of [...files.keys()].sort(compareTarPaths)) {
    const body = files.get(path)!;
    parts.push(tarHeader(path, body.length, mtime), body, Buffer.alloc(tarPadding(body.length)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

const byPath = (a: KitFileEntry, b: KitFileEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const entryOf = (path: string, body: Buffer): KitFileEntry => ({ path, sha256: sha256(body), size: body.length });

/** The operator's Collector binaries, as `collector/<basename>` entries (a name given twice is refused). */
async function collectorFiles(paths: readonly string[], path: (p: string) => string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const given of paths) {
    const file = path(given);
    const name = basename(file);
    // eslint-disable-next-line no-control-regex
    if (!name || name === '.' || name === '..' || /[\u0000-\u001f\u007f\\]/.test(name)) throw new CliError('usage', `--collector ${given}: not a usable file name`);
    const info = await stat(file).catch((cause: unknown) => {
      throw new CliError('not_found', `cannot read --collector ${file}: ${(cause as Error).message}`, { cause });
    });
    if (!info.isFile()) throw new CliError('usage', `--collector ${file} is not a regular file`);
    const kitPath = `${KIT_COLLECTOR_DIR}/${name}`;
    if (out.has(kitPath)) throw new CliError('usage', `--collector: two binaries are named ${name}; each goes to ${KIT_COLLECTOR_DIR}/<file name>, so rename one`);
    out.set(kitPath, await readFile(file));
  }
  return out;
}

/** The failures of a kit as lines under a heading. */
const failureLines = (heading: string, failures: readonly KitFailure[]): string => [heading, ...failures.map((f) => `  ${f.path}: ${f.code}: ${f.message}`)].join('\n');

export function registerOfflineKit(program: Command, ctx: CommandContext): void {
  const { io, path } = ctx;
  const kit = program
    .command('offline-kit')
    .description('the Offline Kit for sealed installations: signed Collector profiles, backend configs, SLO rules, dashboards, replay, bootstrap and import scripts, compliance checklists and pinned Collector binaries in one verifiable archive');

  ctx.action(
    kit
      .command('build')
      .description('build one deterministic .tar.gz: every Collector profile signed, the deployment files of --deploy, the scripts and checklists of <deploy>/offline-kit/, pinned Collector binaries, and a signed manifest.json of their digests (offline)')
      .requiredOption('--out <file>', 'the archive to write (.tar.gz); never overwritten')
      .requiredOption('--key <file>', 'private signing key (PEM) for the profiles and the manifest, e.g. signing.key.pem of stella forensic keygen')
      .option('--deploy <dir>', 'the deployment files to include (backends, rules, slo, dashboards; collector/ is replaced by the signed profiles; offline-kit/ gives the kit its scripts/, compliance/ and README.md)', 'deploy')
      .option('--collector <file>', 'an operator-supplied Collector binary, put in the kit as collector/<file name> and pinned by SHA-256 in manifest.json (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--created-at <time>', 'the date recorded in the manifest and on every entry (RFC 3339); default $SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z')
      .addHelpText(
        'after',
        [
          '',
          'The same inputs and --created-at give byte-identical archives.',
          '',
          'Layout: profiles/<name>/ (signed Collector profiles), deploy/ (backends, rules, slo, dashboards),',
          'scripts/ (bootstrap.sh, import.sh, replay.sh), compliance/ (checklists), README.md,',
          'collector/<file name> (--collector), manifest.json and manifest.json.dsse.json.',
          '',
          'Example:',
          '  stella offline-kit build --deploy deploy --key keys/signing.key.pem --collector dist/otelcol-contrib --out kit.tar.gz --created-at 2026-12-01T00:00:00Z',
        ].join('\n'),
      ),
    async (_args, opts: { out: string; key: string; deploy: string; collector: string[]; createdAt?: string }) => {
      const epoch = io.env['SOURCE_DATE_EPOCH'];
      const createdAt = new Date(opts.createdAt ?? (epoch ? Number(epoch) * 1000 : 0));
      if (Number.isNaN(createdAt.getTime())) throw new CliError('usage', `--created-at "${opts.createdAt}" is not a time (RFC 3339, e.g. 2026-12-01T00:00:00Z)`);
      const collectors = await collectorFiles(opts.collector, path);
      const signer = await readSigner(path(opts.key));
      const lib = await collectorConfigLib();
      const { signDsse } = await forensicsLib();
      const files = new Map<string, Buffer>();
      for (const name of lib.PROFILE_NAMES) {
        const bundle = await lib.signProfile(lib.renderProfile(name), signer);
        files.set(`profiles/${name}/${lib.PROFILE_CONFIG_FILE}`, Buffer.from(bundle.yaml, 'utf8'));
        files.set(`profiles/${name}/${lib.PROFILE_ENVELOPE_FILE}`, Buffer.from(lib.serializeProfileEnvelope(bundle.envelope), 'utf8'));
      }
      const deployDir = path(opts.deploy);
      let deployFiles: string[];
      try {
        deployFiles = await walk(deployDir);
      } catch (cause) {
        throw new CliError('not_found', `cannot read --deploy ${deployDir}: ${(cause as Error).message}`, { cause });
      }
      const kitFilesDir = join(deployDir, KIT_FILES_DIR);
      for (const file of deployFiles) {
        const rel = relative(deployDir, file).split(sep).join('/');
        if (rel.startsWith('collector/')) continue;
        if (rel.startsWith(`${KIT_FILES_DIR}/`)) {
          const inKit = rel.slice(KIT_FILES_DIR.length + 1);
          if (RESERVED.has(inKit.split('/')[0]!)) throw new CliError('usage', `${file}: the kit's ${inKit.split('/')[0]} is made by the build; ${kitFilesDir} may not hold it`);
          files.set(inKit, await readFile(file));
          continue;
        }
        files.set(`deploy/${rel}`, await readFile(file));
      }
      const missing = REQUIRED_KIT_FILES.filter((f) => !files.has(f));
      if (![...files.keys()].some((f) => /^compliance\/[^/]+\.md$/.test(f))) missing.push('compliance/<checklist>.md');
      if (missing.length > 0) {
        throw new CliError('kit_incomplete', `${kitFilesDir} lacks ${missing.join(', ')}: the kit's replay, bootstrap and import scripts and its compliance checklists come from there`, {
          hint: `pass the repository's deploy/ as --deploy (it holds ${KIT_FILES_DIR}/), or a copy of it with ${KIT_FILES_DIR}/ inside`,
        });
      }
      for (const [p, body] of collectors) files.set(p, body);
      const manifest: KitManifest = {
        format: KIT_FORMAT,
        created_at: createdAt.toISOString(),
        files: [...files.entries()].map(([p, b]) => entryOf(p, b)).sort(byPath),
        collectors: [...collectors.entries()].map(([p, b]) => entryOf(p, b)).sort(byPath),
      };
      const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      const envelope = await signDsse(manifestBytes, KIT_MANIFEST_PAYLOAD_TYPE, signer);
      files.set(KIT_MANIFEST, manifestBytes);
      files.set(KIT_MANIFEST_ENVELOPE, Buffer.from(lib.serializeProfileEnvelope(envelope), 'utf8'));
      const archive = gzipSync(await tarOf(files, Math.floor(createdAt.getTime() / 1000)), { level: 9 });
      const out = path(opts.out);
      await ensureDirectory(join(out, '..'), out);
      try {
        await writeFile(out, archive, { flag: 'wx' });
      } catch (cause) {
        const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
        throw new CliError(exists ? 'destination_exists' : 'destination_unwritable', exists ? `${out} already exists; choose another --out` : `cannot write ${out}: ${(cause as Error).message}`, { cause });
      }
      const digest = sha256(archive);
      const pinned = manifest.collectors!;
      return {
        exitCode: EXIT.ok,
        json: { ok: true, kit: out, sha256: digest, created_at: manifest.created_at, files: manifest.files.length, collectors: pinned, key_id: signer.keyId, manifest_sha256: sha256(manifestBytes) },
        human: [
          `offline kit ${out}: ${manifest.files.length} files, signed by ${signer.keyId}`,
          `  sha256 ${digest}`,
          ...pinned.map((c) => `  collector binary ${c.path}: sha256 ${c.sha256} (${c.size} bytes)`),
        ].join('\n'),
      };
    },
  );

  ctx.action(
    kit
      .command('verify')
      .description("verify an Offline Kit: the manifest's signature, every file's digest and size, the pinned collector binaries, and every profile's signature; names each failing file (offline)")
      .argument('<kit>', 'the archive (.tar.gz) built by stella offline-kit build')
      .option('--key <file>', 'trusted public key (PEM)')
      .option('--keyring <file>', 'trusted key ring (signatures checked at the manifest created_at)')
      .addHelpText('after', '\nExit 1 when anything does not verify, listing each failing file and why (unsafe entries —\nabsolute paths, "..", links — included).\n\nExample:\n  stella offline-kit verify kit.tar.gz --key keys/signing.pub.pem'),
    async ([kitPath], opts: { key?: string; keyring?: string }) => {
      const trust = await readKitTrust(opts, path);
      const archive = await readKit(path(kitPath!));
      const v = await verifyKit(archive, trust);
      const pinned = v.manifest?.collectors ?? [];
      return {
        exitCode: v.ok ? EXIT.ok : EXIT.invalid,
        json: { ok: v.ok, kit: archive.file, sha256: archive.sha256, files: v.manifest?.files.length ?? 0, collectors: pinned, created_at: v.manifest?.created_at ?? null, key_ids: v.keyIds, failures: v.failures },
        human: v.ok
          ? `offline kit ${archive.file} verifies: manifest signed, ${v.manifest!.files.length} files match, every profile signed${pinned.length ? `, ${pinned.length} collector binar${pinned.length === 1 ? 'y' : 'ies'} pinned` : ''}`
          : failureLines(`offline kit ${archive.file} does NOT verify:`, v.failures),
      };
    },
  );

  ctx.action(
    kit
      .command('import')
      .description('verify an Offline Kit, then write its files into --target (nothing is written unless it verifies); records import.json and reports whether the host is sealed (offline)')
      .argument('<kit>', 'the archive (.tar.gz) built by stella offline-kit build')
      .requiredOption('--target <dir>', 'the directory to import into (created if missing)')
      .option('--key <file>', 'trusted public key (PEM)')
      .option('--keyring <file>', 'trusted key ring (signatures checked at the manifest created_at)')
      .option('--force', 'replace files of --target whose content differs from the kit’s')
      .addHelpText(
        'after',
        [
          '',
          'Nothing is written unless the kit verifies (exit 1, naming each failing file, as verify does).',
          'No entry may leave --target: absolute paths, ".." and links are refused, and no link already in',
          '--target is followed. A file that exists with other content is refused (exit 2) unless --force;',
          'the same kit imported again changes nothing. Collector binaries and scripts are written 0755.',
          'import.json in --target records the kit, its manifest digest, the signing key, the time and the files.',
          'Sealed: STELLA_SEALED=true (or 1) marks this host air-gapped; the answer says whether it is set.',
          '',
          'Example:',
          '  STELLA_SEALED=true stella offline-kit import kit.tar.gz --target /opt/stellaops/offline-kit --key kit-signing.pub.pem',
        ].join('\n'),
      ),
    async ([kitPath], opts: { target: string; key?: string; keyring?: string; force?: boolean }) => {
      const trust = await readKitTrust(opts, path);
      const archive = await readKit(path(kitPath!));
      const target = path(opts.target);
      const sealed = sealedFromEnv(io.env);
      const v: KitVerification = await verifyKit(archive, trust);
      if (!v.ok) {
        return {
          exitCode: EXIT.invalid,
          json: { ok: false, kit: archive.file, target, imported: false, sealed, failures: v.failures },
          human: failureLines(`offline kit ${archive.file} does NOT verify; nothing was imported into ${target}:`, v.failures),
        };
      }
      const manifest = v.manifest!;
      const paths = [...manifest.files.map((f) => f.path), KIT_MANIFEST, KIT_MANIFEST_ENVELOPE];
      const results = await writeKitTarget(
        target,
        paths.map((p) => ({ path: p, body: archive.files.get(p)!, mode: kitFileMode(p) })),
        !!opts.force,
      );
      const count = (o: string): number => results.filter((r) => r.outcome === o).length;
      const recordFile = join(target, KIT_IMPORT_RECORD);
      const previous = await readFile(recordFile, 'utf8')
        .then((t) => JSON.parse(t) as { kit_sha256?: string; manifest_sha256?: string; imported_at?: string })
        .catch(() => undefined);
      // The same kit again over the same files: nothing changes, the record of the first import included.
      const again = count('unchanged') === results.length && previous?.kit_sha256 === archive.sha256 && previous.manifest_sha256 === v.manifestSha256;
      const importedAt = again && previous?.imported_at ? previous.imported_at : new Date().toISOString();
      const record = {
        format: IMPORT_FORMAT,
        kit: archive.file,
        kit_sha256: archive.sha256,
        manifest_sha256: v.manifestSha256,
        created_at: manifest.created_at,
        key_id: v.keyIds[0] ?? null,
        key_ids: v.keyIds,
        imported_at: importedAt,
        sealed,
        collectors: manifest.collectors ?? [],
        files: paths.map((p) => {
          const body = archive.files.get(p)!;
          return { path: p, sha256: sha256(body), size: body.length, mode: `0${kitFileMode(p).toString(8)}` };
        }),
      };
      if (!again) await writeAtomically(recordFile, Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8'), 0o644);
      const pinned = manifest.collectors ?? [];
      return {
        exitCode: EXIT.ok,
        json: {
          ok: true,
          kit: archive.file,
          target,
          imported: true,
          already_imported: again,
          kit_sha256: archive.sha256,
          manifest_sha256: v.manifestSha256,
          key_id: record.key_id,
          imported_at: importedAt,
          sealed,
          record: recordFile,
          files: results.length,
          written: count('written'),
          unchanged: count('unchanged'),
          overwritten: count('overwritten'),
          collectors: pinned,
        },
        human: [
          again
            ? `offline kit ${archive.file} verified; already imported into ${target} at ${importedAt}: all ${results.length} files unchanged`
            : `offline kit ${archive.file} verified (signed by ${v.keyIds.join(', ')}, created ${manifest.created_at}) and imported into ${target}: ${results.length} files (${count('written')} written, ${count('unchanged')} unchanged, ${count('overwritten')} overwritten)`,
          `  kit sha256 ${archive.sha256}; record ${recordFile}`,
          ...pinned.map((c) => `  collector binary ${join(target, c.path)} (0755): sha256 ${c.sha256}`),
          sealed
            ? `  sealed host (STELLA_SEALED=${io.env['STELLA_SEALED']}): exporters and replays reach loopback only`
            : '  NOT a sealed host: STELLA_SEALED is not true here; on an air-gapped host set STELLA_SEALED=true for the service and for stella',
          `  next: bash ${shellArg(join(target, 'scripts', 'bootstrap.sh'))} --kit ${shellArg(archive.file)} ${opts.keyring ? `--keyring ${shellArg(path(opts.keyring))}` : `--key ${shellArg(path(opts.key!))}`}`,
        ].join('\n'),
      };
    },
  );
}
