/**
 * S3 backend request shape, independent of any server (s3-object-lock.test.ts runs the backend
 * against Ceph RGW, which enforces Object Lock). The real SDK client runs its whole middleware
 * stack — serialization, checksums, signing — and
 * a middleware at the end of `finalizeRequest` records each signed request and answers for the
 * bucket instead of the network. The assertions are on the wire: Object Lock headers,
 * `If-None-Match: *`, legal-hold bodies, version-aware deletes.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { BlobError } from '../../src/blob/blob-error.js';
import { S3ObjectStore } from '../../src/blob/s3-object-store.js';

interface Sent {
  command: string;
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
  body: string;
}

type Answer = (command: string, sent: Sent) => Record<string, unknown> | Error;

function bucket(answer: Answer): { store: S3ObjectStore; sent: Sent[] } {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test-access', secretAccessKey: 'test-secret' },
  });
  const sent: Sent[] = [];
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const req = args.request as { method: string; path: string; query: Record<string, unknown>; headers: Record<string, string>; body?: unknown };
      const body = typeof req.body === 'string' ? req.body : req.body instanceof Uint8Array ? Buffer.from(req.body).toString('utf8') : '';
      const s: Sent = { command: String(context.commandName), method: req.method, path: req.path, query: req.query ?? {}, headers: req.headers, body };
      sent.push(s);
      const out = answer(s.command, s);
      if (out instanceof Error) throw out;
      return { output: { $metadata: { httpStatusCode: 200 }, ...out }, response: {} };
    },
    { step: 'finalizeRequest', priority: 'low', name: 'recordAndAnswer' },
  );
  return { store: new S3ObjectStore({ client, bucket: 'evidence' }), sent };
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

const PREFIX = 'tenants/acme/evidence/case-1/b1/';

describe('S3ObjectStore on the wire', () => {
  it('writes every object once, with Object Lock retain-until, mode and legal hold', async () => {
    const { store, sent } = bucket((c) => (c === 'ListObjectsV2Command' ? { KeyCount: 0, Contents: [] } : {}));
    const until = new Date('2025-09-01T00:00:00.000Z');
    await store.commit(PREFIX, [{ path: 'manifest.json', body: Buffer.from('{}') }, { path: 'files/a.txt', body: Buffer.from('abc') }], { retainUntil: until, mode: 'COMPLIANCE', legalHold: true });
    const puts = sent.filter((s) => s.command === 'PutObjectCommand');
    expect(puts.map((p) => p.path)).toEqual([`/evidence/${PREFIX}manifest.json`, `/evidence/${PREFIX}files/a.txt`]);
    for (const p of puts) {
      expect(p.method).toBe('PUT');
      expect(p.headers['if-none-match']).toBe('*');
      expect(p.headers['x-amz-object-lock-mode']).toBe('COMPLIANCE');
      expect(new Date(p.headers['x-amz-object-lock-retain-until-date']!).toISOString()).toBe(until.toISOString());
      expect(p.headers['x-amz-object-lock-legal-hold']).toBe('ON');
      // Object Lock puts need an integrity checksum; the SDK adds one and signs the request.
      expect(Object.keys(p.headers).some((h) => h.startsWith('x-amz-checksum-') || h === 'content-md5')).toBe(true);
      expect(p.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=test-access\//);
    }
    expect(sent[0]).toMatchObject({ command: 'ListObjectsV2Command', query: expect.objectContaining({ prefix: PREFIX }) });
  });

  it('omits lock headers it was not asked for', async () => {
    const { store, sent } = bucket((c) => (c === 'ListObjectsV2Command' ? { KeyCount: 0 } : {}));
    await store.commit('tenants/acme/artifacts/sha256/ab/', [{ path: 'content', body: Buffer.from('x') }], {});
    const put = sent.find((s) => s.command === 'PutObjectCommand')!;
    expect(put.headers['if-none-match']).toBe('*');
    expect(put.headers['x-amz-object-lock-mode']).toBeUndefined();
    expect(put.headers['x-amz-object-lock-legal-hold']).toBeUndefined();
  });

  it('maps a conditional-write conflict to blob.exists and refuses an existing prefix before writing', async () => {
    const conflict = bucket((c) => (c === 'ListObjectsV2Command' ? { KeyCount: 0 } : s3Error('PreconditionFailed', 412)));
    await expect(conflict.store.commit(PREFIX, [{ path: 'manifest.json', body: Buffer.from('{}') }], {})).rejects.toMatchObject({ code: 'blob.exists' });
    const existing = bucket((c) => (c === 'ListObjectsV2Command' ? { KeyCount: 1, Contents: [{ Key: `${PREFIX}manifest.json`, Size: 2 }] } : {}));
    await expect(existing.store.commit(PREFIX, [{ path: 'manifest.json', body: Buffer.from('{}') }], {})).rejects.toMatchObject({ code: 'blob.exists' });
    expect(existing.sent.some((s) => s.command === 'PutObjectCommand')).toBe(false);
  });

  it('refuses keys outside the tenant layout without sending anything', async () => {
    const { store, sent } = bucket(() => ({}));
    await expect(store.commit('tenants/acme/../other/', [{ path: 'x', body: Buffer.from('x') }], {})).rejects.toBeInstanceOf(BlobError);
    await expect(store.read('tenants/../etc/passwd')).rejects.toMatchObject({ code: 'blob.key_invalid' });
    expect(sent).toEqual([]);
  });

  it('places and lifts legal holds object by object', async () => {
    const { store, sent } = bucket((c) => (c === 'ListObjectsV2Command' ? { KeyCount: 2, Contents: [{ Key: `${PREFIX}a`, Size: 1 }, { Key: `${PREFIX}b`, Size: 1 }] } : {}));
    await store.setLegalHold(PREFIX, true);
    await store.setLegalHold(PREFIX, false);
    const holds = sent.filter((s) => s.command === 'PutObjectLegalHoldCommand');
    expect(holds.map((h) => [h.path, h.query['legal-hold'] !== undefined, /<Status>(ON|OFF)<\/Status>/.exec(h.body)?.[1]])).toEqual([
      [`/evidence/${PREFIX}a`, true, 'ON'],
      [`/evidence/${PREFIX}b`, true, 'ON'],
      [`/evidence/${PREFIX}a`, true, 'OFF'],
      [`/evidence/${PREFIX}b`, true, 'OFF'],
    ]);
  });

  it('refuses deletion under legal hold or retention and deletes every version otherwise', async () => {
    const now = new Date('2025-06-01T00:00:00Z');
    const listing = { KeyCount: 1, Contents: [{ Key: `${PREFIX}manifest.json`, Size: 2 }] };
    const held = bucket((c) => (c === 'ListObjectsV2Command' ? listing : c === 'GetObjectLegalHoldCommand' ? { LegalHold: { Status: 'ON' } } : s3Error('NoSuchObjectLockConfiguration', 404)));
    await expect(held.store.deletePrefix(PREFIX, now)).rejects.toMatchObject({ code: 'blob.locked' });
    expect(held.sent.some((s) => s.command === 'DeleteObjectsCommand')).toBe(false);

    const retained = bucket((c) =>
      c === 'ListObjectsV2Command' ? listing : c === 'GetObjectLegalHoldCommand' ? { LegalHold: { Status: 'OFF' } } : { Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date('2025-07-01T00:00:00Z') } },
    );
    await expect(retained.store.deletePrefix(PREFIX, now)).rejects.toMatchObject({ code: 'blob.locked' });

    const expired = bucket((c) => {
      if (c === 'ListObjectsV2Command') return listing;
      if (c === 'GetObjectLegalHoldCommand') return { LegalHold: { Status: 'OFF' } };
      if (c === 'GetObjectRetentionCommand') return { Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date('2025-05-01T00:00:00Z') } };
      if (c === 'ListObjectVersionsCommand') return { Versions: [{ Key: `${PREFIX}manifest.json`, VersionId: 'v1' }], DeleteMarkers: [] };
      return {};
    });
    expect(await expired.store.deletePrefix(PREFIX, now)).toBe(1);
    const del = expired.sent.find((s) => s.command === 'DeleteObjectsCommand')!;
    expect(del.method).toBe('POST');
    expect(del.body).toContain(`<Key>${PREFIX}manifest.json</Key>`);
    expect(del.body).toContain('<VersionId>v1</VersionId>');
  });

  it('extends retention and never shortens it', async () => {
    const { store, sent } = bucket((c) =>
      c === 'ListObjectsV2Command'
        ? { KeyCount: 1, Contents: [{ Key: `${PREFIX}m`, Size: 1 }] }
        : c === 'GetObjectRetentionCommand'
          ? { Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date('2026-01-01T00:00:00Z') } }
          : c === 'GetObjectLegalHoldCommand'
            ? { LegalHold: { Status: 'OFF' } }
            : {},
    );
    await store.extendRetention(PREFIX, new Date('2025-12-01T00:00:00Z'));
    expect(sent.some((s) => s.command === 'PutObjectRetentionCommand')).toBe(false);
    await store.extendRetention(PREFIX, new Date('2027-01-01T00:00:00Z'));
    const put = sent.find((s) => s.command === 'PutObjectRetentionCommand')!;
    expect(put.query['retention']).toBeDefined();
    expect(put.body).toMatch(/<Mode>COMPLIANCE<\/Mode>.*<RetainUntilDate>2027-01-01T00:00:00(\.000)?Z<\/RetainUntilDate>/s);
  });
});
