/**
 * The S3 backend against a real S3 server that enforces Object Lock: Ceph's RADOS Gateway, as
 * `scripts/ceph-rgw.sh start` brings it up (its output is the environment these tests read:
 * STELLA_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY, _REGION). Each run makes its own bucket with
 * Object Lock enabled. COMPLIANCE retention here lasts seconds, so the bucket can be emptied and
 * removed at the end; the cluster itself is throwaway (memory only) and `stop` discards it.
 *
 * Besides the backend's own refusals (it reads the lock state before deleting), the tests check
 * that the bucket itself refuses: deleting a retained or held version, shortening COMPLIANCE
 * retention, and that a second write never changes a committed version.
 *
 * With CI=true a missing or unreachable server fails the suite; elsewhere the suite is skipped
 * only when STELLA_TEST_S3_ENDPOINT is not set.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/blob/s3-object-store.js';
import { CI } from '../helpers/external.js';

const ENDPOINT = process.env['STELLA_TEST_S3_ENDPOINT'];

async function s3Available(): Promise<boolean> {
  if (!ENDPOINT) {
    const message = 'STELLA_TEST_S3_ENDPOINT is not set (scripts/ceph-rgw.sh start prints it)';
    if (CI) throw new Error(`${message}; CI=true requires an S3 server with Object Lock`);
    console.warn(`SKIPPING: ${message}`);
    return false;
  }
  // Set but unreachable is a failure, with or without CI: the environment says a server is there.
  try {
    await fetch(ENDPOINT, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new Error(`S3 at STELLA_TEST_S3_ENDPOINT=${ENDPOINT} is unreachable: ${(error as Error).message}`, { cause: error });
  }
  return true;
}

const s3Up = await s3Available();

/** Retention long enough for the refusals to be checked, short enough to empty the bucket after. */
const RETAIN_MS = 12_000;
const BUCKET = `stella-lock-${randomBytes(5).toString('hex')}`;
const body = (s: string): Buffer => Buffer.from(s, 'utf8');

function client(): S3Client {
  return new S3Client({
    endpoint: ENDPOINT!,
    region: process.env['STELLA_TEST_S3_REGION'] ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env['STELLA_TEST_S3_ACCESS_KEY'] ?? '', secretAccessKey: process.env['STELLA_TEST_S3_SECRET_KEY'] ?? '' },
  });
}

/** Every version (and delete marker) under a prefix. */
async function versions(s3: S3Client, prefix: string): Promise<{ Key: string; VersionId: string }[]> {
  const res = await s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: prefix }));
  return [...(res.Versions ?? []), ...(res.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
}

async function httpStatusOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
}

async function readVersion(s3: S3Client, key: string, versionId: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }));
  return res.Body!.transformToString();
}

describe.skipIf(!s3Up)('S3ObjectStore on Ceph RGW with Object Lock', () => {
  let s3: S3Client;
  let store: S3ObjectStore;
  /** The latest retain-until set in this run: the bucket can be emptied after it. */
  let lastRetainUntil = 0;
  const until = (ms = RETAIN_MS): Date => {
    const d = new Date(Date.now() + ms);
    lastRetainUntil = Math.max(lastRetainUntil, d.getTime());
    return d;
  };

  beforeAll(async () => {
    s3 = client();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
    store = new S3ObjectStore({ client: s3, bucket: BUCKET, keyPrefix: 'stella/' });
  });

  afterAll(async () => {
    if (!s3) return;
    // Lift the holds left by the tests, wait out the last COMPLIANCE retention, then remove every version.
    const all = await versions(s3, '');
    for (const v of all) {
      await s3.send(new PutObjectLegalHoldCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId, LegalHold: { Status: 'OFF' } })).catch(() => undefined);
    }
    const wait = lastRetainUntil + 1_500 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const v of await versions(s3, '')) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId }));
    await s3.send(new DeleteBucketCommand({ Bucket: BUCKET }));
    s3.destroy();
  }, 60_000);

  it('the bucket has Object Lock enabled', async () => {
    const res = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: BUCKET }));
    expect(res.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
  });

  it('commits objects that read and list back, with no lock when none was asked for', async () => {
    const prefix = 'tenants/acme/artifacts/sha256/ab/';
    await store.commit(prefix, [{ path: 'content', body: body('artifact') }], {});
    expect(await store.exists(prefix)).toBe(true);
    expect(await store.list(prefix)).toEqual([{ key: `${prefix}content`, size: 8 }]);
    expect((await store.read(`${prefix}content`)).toString()).toBe('artifact');
    expect(await store.lockState(prefix)).toEqual({ legalHold: false });
    await expect(store.read(`${prefix}missing`)).rejects.toMatchObject({ code: 'blob.not_found' });
  });

  it('COMPLIANCE retain-until: the backend and the bucket both refuse deletes, and retention cannot be shortened', async () => {
    const prefix = 'tenants/acme/evidence/case-1/b1/';
    const retainUntil = until();
    await store.commit(prefix, [{ path: 'manifest.json', body: body('{"files":1}') }, { path: 'files/a.txt', body: body('abc') }], { retainUntil, mode: 'COMPLIANCE' });
    expect((await store.list(prefix)).map((o) => o.key)).toEqual([`${prefix}files/a.txt`, `${prefix}manifest.json`]);
    const state = await store.lockState(prefix);
    expect(state.legalHold).toBe(false);
    // The server keeps retain-until to the second.
    expect(Math.abs(state.retainUntil!.getTime() - retainUntil.getTime())).toBeLessThan(1_000);

    await expect(store.deletePrefix(prefix, new Date())).rejects.toMatchObject({ code: 'blob.locked' });

    const locked = await versions(s3, `stella/${prefix}`);
    expect(locked).toHaveLength(2);
    for (const v of locked) {
      const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId }));
      expect(retention.Retention?.Mode).toBe('COMPLIANCE');
      expect(await httpStatusOf(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId })))).toBe(403);
      const shorter = new Date(retainUntil.getTime() - 10_000);
      expect(await httpStatusOf(s3.send(new PutObjectRetentionCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: shorter } })))).toBe(403);
    }
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: locked, Quiet: true } }));
    expect(batch.Errors?.map((e) => e.Code)).toEqual(['AccessDenied', 'AccessDenied']);
    expect(await versions(s3, `stella/${prefix}`)).toEqual(locked);
    expect((await store.read(`${prefix}files/a.txt`)).toString()).toBe('abc');
  });

  it('a committed prefix is never committed again, and a second write never changes the retained version', async () => {
    const prefix = 'tenants/acme/evidence/case-1/b2/';
    await store.commit(prefix, [{ path: 'manifest.json', body: body('original') }], { retainUntil: until(), mode: 'COMPLIANCE' });
    await expect(store.commit(prefix, [{ path: 'manifest.json', body: body('forged') }], {})).rejects.toMatchObject({ code: 'blob.exists' });
    await expect(store.commit(prefix, [{ path: 'other.json', body: body('forged') }], {})).rejects.toMatchObject({ code: 'blob.exists' });
    expect((await store.read(`${prefix}manifest.json`)).toString()).toBe('original');

    // Around the backend: a conditional write of the same key, as a racing writer would send it.
    const key = `stella/${prefix}manifest.json`;
    const [first] = await versions(s3, key);
    const raced = await httpStatusOf(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body('raced'), IfNoneMatch: '*' })));
    // AWS S3 answers 412. Ceph RGW 16 does not apply If-None-Match: * on a versioned bucket (an
    // Object Lock bucket always is): the write becomes a new version. Either way the committed
    // version stays as it was, retained and undeletable.
    expect([200, 412]).toContain(raced);
    expect(await readVersion(s3, key, first!.VersionId)).toBe('original');
    const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: BUCKET, Key: key, VersionId: first!.VersionId }));
    expect(retention.Retention?.Mode).toBe('COMPLIANCE');
    expect(await httpStatusOf(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: first!.VersionId })))).toBe(403);
  });

  it('legal hold: placed at commit or later, refuses deletes until lifted, then the prefix is deleted with every version', async () => {
    const held = 'tenants/acme/evidence/case-2/b1/';
    await store.commit(held, [{ path: 'manifest.json', body: body('{}') }, { path: 'files/x.bin', body: randomBytes(1024) }], { legalHold: true });
    expect(await store.lockState(held)).toEqual({ legalHold: true });
    await expect(store.deletePrefix(held, new Date())).rejects.toMatchObject({ code: 'blob.locked' });
    for (const v of await versions(s3, `stella/${held}`)) {
      expect(await httpStatusOf(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: v.Key, VersionId: v.VersionId })))).toBe(403);
    }
    await store.setLegalHold(held, false);
    expect(await store.lockState(held)).toEqual({ legalHold: false });
    expect(await store.deletePrefix(held, new Date())).toBe(2);
    expect(await store.exists(held)).toBe(false);
    expect(await versions(s3, `stella/${held}`)).toEqual([]);

    const later = 'tenants/acme/evidence/case-2/b2/';
    await store.commit(later, [{ path: 'manifest.json', body: body('{}') }], {});
    await store.setLegalHold(later, true);
    expect(await store.lockState(later)).toEqual({ legalHold: true });
    await expect(store.deletePrefix(later, new Date())).rejects.toMatchObject({ code: 'blob.locked' });
    const [v] = await versions(s3, `stella/${later}`);
    expect(await httpStatusOf(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: v!.Key, VersionId: v!.VersionId })))).toBe(403);
    await store.setLegalHold(later, false);
    expect(await store.deletePrefix(later, new Date())).toBe(1);
  });

  it('extends retention (never shortens it) and reads it back', async () => {
    const prefix = 'tenants/acme/evidence/case-3/b1/';
    const first = until(5_000);
    await store.commit(prefix, [{ path: 'manifest.json', body: body('{}') }], { retainUntil: first, mode: 'COMPLIANCE' });
    const longer = until(RETAIN_MS);
    await store.extendRetention(prefix, longer);
    expect(Math.abs((await store.lockState(prefix)).retainUntil!.getTime() - longer.getTime())).toBeLessThan(1_000);
    await store.extendRetention(prefix, first);
    expect(Math.abs((await store.lockState(prefix)).retainUntil!.getTime() - longer.getTime())).toBeLessThan(1_000);
  });

  it('once retain-until has passed, the prefix is deleted with every version', async () => {
    const prefix = 'tenants/acme/evidence/case-4/b1/';
    const retainUntil = until(6_000);
    await store.commit(prefix, [{ path: 'manifest.json', body: body('{}') }, { path: 'files/a', body: body('a') }], { retainUntil, mode: 'COMPLIANCE' });
    await expect(store.deletePrefix(prefix, new Date())).rejects.toMatchObject({ code: 'blob.locked' });
    await new Promise((resolve) => setTimeout(resolve, retainUntil.getTime() + 1_500 - Date.now()));
    expect(await store.deletePrefix(prefix, new Date())).toBe(2);
    expect(await store.exists(prefix)).toBe(false);
    expect(await versions(s3, `stella/${prefix}`)).toEqual([]);
  });
});
