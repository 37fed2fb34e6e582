import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  MerkleTree,
  compareTarPaths,
  manifestLeafHash,
  merkleRootFileContent,
  signDsse,
  tarHeader,
  tarPadding,
  TAR_BLOCK,
  type Signer,
} from '../../src/index.js';

/**
 * Writes an evidence bundle exactly the way the first format (`stellaops.evidence/v1`) was
 * written before v2 — generated at test time, so tests prove that bundles already in lockers and
 * on auditors' disks still verify: manifest.json in the legacy layout (sorted members, two-space
 * indent, final newline), manifest.sig (base64, no newline), manifest.dsse.json (JSON.stringify
 * with two-space indent and a newline), root.merkle, and an optional RFC 3161 stamp of
 * root.merkle (timestamp.tsr) recorded in the manifest. No Sigstore bundle.
 */
export interface LegacyBundleOptions {
  readonly files: Readonly<Record<string, Buffer>>;
  readonly signer: Signer;
  readonly createdAt: string;
  readonly tenant?: string;
  readonly caseId?: string;
  readonly resourceId?: string;
  readonly metadata?: Record<string, unknown>;
  readonly timestamper?: (rootFile: Uint8Array) => Promise<Uint8Array>;
}

function legacyJson(value: unknown): string {
  const normalize = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => normalize(x === undefined ? null : x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) if ((v as Record<string, unknown>)[k] !== undefined) out[k] = normalize((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return `${JSON.stringify(normalize(value), null, 2)}\n`;
}

/** The bundle's entries (path → bytes), sorted as the v1 tar wrote them. */
export async function legacyBundleEntries(options: LegacyBundleOptions): Promise<[string, Buffer][]> {
  const files = Object.entries(options.files)
    .sort(([a], [b]) => compareTarPaths(a, b))
    .map(([path, bytes]) => ({ path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), bytes }));
  const entries = files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
  const root = MerkleTree.fromLeafHashes(entries.map(manifestLeafHash)).root().toString('hex');
  const rootFile = merkleRootFileContent(root);
  const timestamp = options.timestamper ? Buffer.from(await options.timestamper(rootFile)) : undefined;
  const manifest = {
    format: 'stellaops.evidence/v1',
    kind: 'evaluation',
    tenant: options.tenant ?? 'tenant-a',
    caseId: options.caseId ?? 'case-42',
    resourceId: options.resourceId ?? 'eval-7',
    createdAt: options.createdAt,
    files: entries,
    merkle: { algorithm: 'rfc9162-sha256', leaf: 'path NUL size NUL sha256-hex', treeSize: entries.length, root },
    signer: { keyId: options.signer.keyId, algorithm: options.signer.algorithm },
    ...(timestamp ? { timestamp: { sha256: createHash('sha256').update(timestamp).digest('hex') } } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
  const manifestBytes = Buffer.from(legacyJson(manifest), 'utf8');
  const signature = Buffer.from(await options.signer.sign(manifestBytes));
  const envelope = await signDsse(manifestBytes, 'application/vnd.stellaops.evidence-manifest+json', options.signer);
  return [
    ...files.map((f): [string, Buffer] => [`files/${f.path}`, f.bytes]),
    ['manifest.dsse.json', Buffer.from(`${JSON.stringify(envelope, null, 2)}\n`, 'utf8')],
    ['manifest.json', manifestBytes],
    ['manifest.sig', Buffer.from(signature.toString('base64'), 'ascii')],
    ['root.merkle', rootFile],
    ...(timestamp ? ([['timestamp.tsr', timestamp]] as [string, Buffer][]) : []),
  ];
}

/** The v1 deterministic tar of those entries. */
export function legacyTar(entries: readonly [string, Buffer][], createdAt: string): Buffer {
  const mtime = Math.floor(new Date(createdAt).getTime() / 1000);
  const parts: Buffer[] = [];
  for (const [path, bytes] of entries) {
    parts.push(tarHeader(path, bytes.length, mtime), bytes, Buffer.alloc(tarPadding(bytes.length)));
  }
  parts.push(Buffer.alloc(TAR_BLOCK * 2));
  return Buffer.concat(parts);
}

/** Writes a v1 bundle as a `.tar` file or a directory. */
export async function writeLegacyBundle(options: LegacyBundleOptions, output: { tarFile: string } | { directory: string }): Promise<void> {
  const entries = await legacyBundleEntries(options);
  if ('tarFile' in output) {
    await writeFile(output.tarFile, legacyTar(entries, options.createdAt));
    return;
  }
  for (const [path, bytes] of entries) {
    const abs = join(output.directory, ...path.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, bytes);
  }
}
