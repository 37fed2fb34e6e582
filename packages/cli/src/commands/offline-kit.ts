/**
 * `stella offline-kit …` (OFF-1, OFF-2), offline on files.
 *
 * - build: one deterministic `.tar.gz` — every Collector profile rendered and signed
 *   (`profiles/<name>/config.yaml` and its DSSE envelope), the deployment files of `--deploy`
 *   (backend configs, SLOs, alert rules and their promtool tests, dashboards) under `deploy/`,
 *   and `manifest.json` listing every file's SHA-256 and size, signed (`manifest.json.dsse.json`).
 *   Entries are sorted, owned by nobody, dated `--created-at`: the same input gives the same bytes.
 * - verify: checks the manifest's signature against a public key or key ring, every file against
 *   the manifest, and every profile against its envelope; each failing file is named (exit 1).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { ensureDirectory } from '../download.js';
import { loadKeyring, readPublicKeyPem, readSigner } from '../key-files.js';
import { collectorConfigLib, forensicsLib } from '../lazy.js';
import { CliError, EXIT } from '../output.js';

export const KIT_MANIFEST_PAYLOAD_TYPE = 'application/vnd.stellaops.offline-kit-manifest+json';
const MANIFEST = 'manifest.json';
const MANIFEST_ENVELOPE = 'manifest.json.dsse.json';

interface KitManifest {
  format: 'stellaops.offline-kit/v1';
  created_at: string;
  files: { path: string; sha256: string; size: number }[];
}

interface KitFailure {
  path: string;
  code: string;
  message: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

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

/** The regular files of a ustar archive, by path (prefix and name joined). */
function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const text = (from: number, len: number): string => header.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const name = text(0, 100);
    const prefix = text(345, 155);
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    if (!Number.isFinite(size) || at + 512 + size > tar.length) throw new CliError('kit_invalid', 'the kit is not a readable tar archive (a header or an entry is cut short)', { exitCode: EXIT.invalid });
    if (type === '0' || type === '\0') files.set(prefix ? `${prefix}/${name}` : name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + size + ((512 - (size % 512)) % 512);
  }
  return files;
}

export function registerOfflineKit(program: Command, ctx: CommandContext): void {
  const { path } = ctx;
  const kit = program.command('offline-kit').description('the Offline Kit for sealed installations: signed Collector profiles, backend configs, SLO rules and dashboards in one verifiable archive');

  ctx.action(
    kit
      .command('build')
      .description('build one deterministic .tar.gz: every Collector profile signed, the deployment files of --deploy, and a signed manifest.json of their digests (offline)')
      .requiredOption('--out <file>', 'the archive to write (.tar.gz); never overwritten')
      .requiredOption('--key <file>', 'private signing key (PEM) for the profiles and the manifest, e.g. signing.key.pem of stella forensic keygen')
      .option('--deploy <dir>', 'the deployment files to include (backends, rules, slo, dashboards; collector/ is replaced by the signed profiles)', 'deploy')
      .option('--created-at <time>', 'the date recorded in the manifest and on every entry (RFC 3339); default $SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z')
      .addHelpText('after', '\nThe same inputs and --created-at give byte-identical archives.\n\nExample:\n  stella offline-kit build --deploy deploy --key keys/signing.key.pem --out kit.tar.gz --created-at 2026-12-01T00:00:00Z'),
    async (_args, opts: { out: string; key: string; deploy: string; createdAt?: string }) => {
      const epoch = ctx.io.env['SOURCE_DATE_EPOCH'];
      const createdAt = new Date(opts.createdAt ?? (epoch ? Number(epoch) * 1000 : 0));
      if (Number.isNaN(createdAt.getTime())) throw new CliError('usage', `--created-at "${opts.createdAt}" is not a time (RFC 3339, e.g. 2026-12-01T00:00:00Z)`);
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
      for (const file of deployFiles) {
        const rel = relative(deployDir, file).split(sep).join('/');
        if (rel.startsWith('collector/')) continue;
        files.set(`deploy/${rel}`, await readFile(file));
      }
      const manifest: KitManifest = {
        format: 'stellaops.offline-kit/v1',
        created_at: createdAt.toISOString(),
        files: [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, b]) => ({ path: p, sha256: sha256(b), size: b.length })),
      };
      const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      const envelope = await signDsse(manifestBytes, KIT_MANIFEST_PAYLOAD_TYPE, signer);
      files.set(MANIFEST, manifestBytes);
      files.set(MANIFEST_ENVELOPE, Buffer.from(lib.serializeProfileEnvelope(envelope), 'utf8'));
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
      return {
        exitCode: EXIT.ok,
        json: { ok: true, kit: out, sha256: digest, created_at: manifest.created_at, files: manifest.files.length, key_id: signer.keyId, manifest_sha256: sha256(manifestBytes) },
        human: `offline kit ${out}: ${manifest.files.length} files, signed by ${signer.keyId}\n  sha256 ${digest}`,
      };
    },
  );

  ctx.action(
    kit
      .command('verify')
      .description("verify an Offline Kit: the manifest's signature, every file's digest and size, and every profile's signature; names each failing file (offline)")
      .argument('<kit>', 'the archive (.tar.gz) built by stella offline-kit build')
      .option('--key <file>', 'trusted public key (PEM)')
      .option('--keyring <file>', 'trusted key ring (signatures checked at the manifest created_at)')
      .addHelpText('after', '\nExit 1 when anything does not verify, listing each failing file and why.\n\nExample:\n  stella offline-kit verify kit.tar.gz --key keys/signing.pub.pem'),
    async ([kitPath], opts: { key?: string; keyring?: string }) => {
      if (!opts.key && !opts.keyring) throw new CliError('usage', 'pass --key <public key> or --keyring <file> to verify against');
      const forensics = await forensicsLib();
      const lib = await collectorConfigLib();
      const file = path(kitPath!);
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
      const files = untar(tar);
      const failures: KitFailure[] = [];
      const keys = opts.key ? [forensics.loadPublicKey(await readPublicKeyPem(path(opts.key), '--key'))] : undefined;
      const keyring = opts.keyring ? await loadKeyring(path(opts.keyring)) : undefined;
      const manifestBytes = files.get(MANIFEST);
      const envelopeBytes = files.get(MANIFEST_ENVELOPE);
      let manifest: KitManifest | undefined;
      if (!manifestBytes) failures.push({ path: MANIFEST, code: 'file_missing', message: 'the kit has no manifest.json' });
      else {
        try {
          manifest = JSON.parse(manifestBytes.toString('utf8')) as KitManifest;
          if (!Array.isArray(manifest.files)) throw new Error('no "files" list');
        } catch (error) {
          failures.push({ path: MANIFEST, code: 'manifest_invalid', message: `manifest.json is not a kit manifest: ${(error as Error).message}` });
          manifest = undefined;
        }
      }
      if (manifestBytes && manifest) {
        const signedAt = new Date(manifest.created_at);
        const v = envelopeBytes
          ? forensics.verifyDsse(envelopeBytes, keyring ? { keyring, signedAt, payloadType: KIT_MANIFEST_PAYLOAD_TYPE } : { keys: keys!, payloadType: KIT_MANIFEST_PAYLOAD_TYPE })
          : undefined;
        if (!v) failures.push({ path: MANIFEST_ENVELOPE, code: 'signature_missing', message: 'the manifest has no signature envelope' });
        else if (!v.ok) failures.push({ path: MANIFEST_ENVELOPE, code: 'signature_invalid', message: v.failures.map((f) => f.message).join('; ') });
        else if (!v.payload.equals(manifestBytes)) failures.push({ path: MANIFEST, code: 'manifest_mismatch', message: 'manifest.json is not the manifest its envelope signs' });
        const listed = new Set<string>();
        for (const entry of manifest.files) {
          listed.add(entry.path);
          const body = files.get(entry.path);
          if (!body) failures.push({ path: entry.path, code: 'file_missing', message: 'listed in the manifest, absent from the kit' });
          else if (body.length !== entry.size || sha256(body) !== entry.sha256) failures.push({ path: entry.path, code: 'digest_mismatch', message: `sha256 ${sha256(body)}, the manifest says ${entry.sha256}` });
        }
        for (const p of [...files.keys()].sort()) {
          if (p !== MANIFEST && p !== MANIFEST_ENVELOPE && !listed.has(p)) failures.push({ path: p, code: 'file_unexpected', message: 'in the kit but not in the manifest' });
        }
        for (const name of lib.PROFILE_NAMES) {
          const yamlPath = `profiles/${name}/${lib.PROFILE_CONFIG_FILE}`;
          const yaml = files.get(yamlPath);
          if (!yaml) continue;
          const pv = lib.verifyProfileBundle(yaml, files.get(`profiles/${name}/${lib.PROFILE_ENVELOPE_FILE}`), keyring ? { keyring, at: signedAt } : { keys: keys! });
          if (!pv.ok) failures.push({ path: yamlPath, code: pv.code!, message: pv.message });
        }
      }
      const ok = failures.length === 0;
      return {
        exitCode: ok ? EXIT.ok : EXIT.invalid,
        json: { ok, kit: file, files: manifest?.files.length ?? 0, created_at: manifest?.created_at ?? null, failures },
        human: ok
          ? `offline kit ${file} verifies: manifest signed, ${manifest!.files.length} files match, every profile signed`
          : [`offline kit ${file} does NOT verify:`, ...failures.map((f) => `  ${f.path}: ${f.code}: ${f.message}`)].join('\n'),
      };
    },
  );
}
