/**
 * The S3-compatible backend: one object per bundle file under the same keys as the file
 * system. Every put carries `If-None-Match: *` (a committed key is never replaced) and the
 * Object Lock headers — mode, retain-until and legal hold — so the bucket itself enforces WORM.
 * The bucket must have Object Lock (and so versioning) enabled. A bundle's objects become
 * visible one by one; the service records a bundle only after all are written, and `recover`
 * has nothing to sweep (an interrupted bundle is never recorded, and its objects expire with
 * their retention).
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { BlobError } from './blob-error.js';
import { assertSafeKey, assertSafeRelativePath } from './object-keys.js';
import type { LockState, ObjectInfo, ObjectLock, ObjectPut, ObjectStore, RecoveryReport } from './object-store.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** A ready client; otherwise one is made from `clientConfig`. */
  client?: S3Client;
  /** Endpoint, region, credentials, `forcePathStyle` for MinIO-like servers. */
  clientConfig?: S3ClientConfig;
  /** Key prefix inside the bucket (e.g. `stella/`). Default none. */
  keyPrefix?: string;
}

function status(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** How servers answer a legal hold or retention read on an object that has none. */
const NO_LOCK_CONFIGURATION = ['NoSuchObjectLockConfiguration', 'ObjectLockConfigurationNotFoundError', 'InvalidRequest'];

function named(error: unknown, ...names: string[]): boolean {
  return names.includes((error as { name?: string })?.name ?? '');
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
    this.bucket = options.bucket;
    this.keyPrefix = options.keyPrefix ?? '';
  }

  private k(key: string): string {
    assertSafeKey(key);
    return this.keyPrefix + key;
  }

  private fail(error: unknown, what: string): BlobError {
    if (error instanceof BlobError) return error;
    if (named(error, 'NoSuchKey', 'NotFound') || status(error) === 404) return new BlobError('blob.not_found', `${what}: not found`, { cause: error });
    if (status(error) === 412 || named(error, 'PreconditionFailed')) return new BlobError('blob.exists', `${what}: already committed; committed objects are never replaced`, { cause: error });
    if (named(error, 'AccessDenied') && /lock|retention|legal hold/i.test((error as Error).message)) {
      return new BlobError('blob.locked', `${what}: the bucket refused (Object Lock)`, { cause: error });
    }
    return new BlobError('blob.unavailable', `${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }

  async commit(prefix: string, objects: readonly ObjectPut[], lock: ObjectLock): Promise<void> {
    if (!prefix.endsWith('/')) throw new BlobError('blob.key_invalid', 'a commit prefix ends with "/"');
    this.k(prefix);
    for (const o of objects) assertSafeRelativePath(o.path);
    if (objects.length === 0) throw new BlobError('blob.key_invalid', 'a commit needs at least one object');
    if (await this.exists(prefix)) throw new BlobError('blob.exists', `${prefix} is already committed; committed objects are never replaced`);
    for (const o of objects) {
      const key = prefix + o.path;
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.k(key),
            Body: o.body,
            ContentLength: o.body.byteLength,
            IfNoneMatch: '*',
            ...(lock.retainUntil ? { ObjectLockMode: lock.mode ?? 'COMPLIANCE', ObjectLockRetainUntilDate: lock.retainUntil } : {}),
            ...(lock.legalHold ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
          }),
        );
      } catch (error) {
        throw this.fail(error, `writing ${key}`);
      }
    }
  }

  async exists(prefix: string): Promise<boolean> {
    try {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.k(prefix), MaxKeys: 1 }));
      return (res.KeyCount ?? res.Contents?.length ?? 0) > 0;
    } catch (error) {
      throw this.fail(error, `listing ${prefix}`);
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.k(key) }));
      const body = res.Body;
      if (!body) throw new BlobError('blob.not_found', `no object ${key}`);
      return body instanceof Readable ? body : Readable.fromWeb((body as { transformToWebStream(): ReadableStream }).transformToWebStream() as never);
    } catch (error) {
      throw this.fail(error, `reading ${key}`);
    }
  }

  async read(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.k(prefix), ContinuationToken: token }));
        for (const o of res.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.keyPrefix.length), size: Number(o.Size ?? 0) });
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.fail(error, `listing ${prefix}`);
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  async setLegalHold(prefix: string, on: boolean): Promise<void> {
    const objects = await this.list(prefix);
    if (objects.length === 0) throw new BlobError('blob.not_found', `nothing is committed under ${prefix}`);
    for (const o of objects) {
      try {
        await this.client.send(new PutObjectLegalHoldCommand({ Bucket: this.bucket, Key: this.k(o.key), LegalHold: { Status: on ? 'ON' : 'OFF' } }));
      } catch (error) {
        throw this.fail(error, `setting the legal hold on ${o.key}`);
      }
    }
  }

  async extendRetention(prefix: string, until: Date, mode: ObjectLock['mode'] = 'COMPLIANCE'): Promise<void> {
    const current = await this.lockState(prefix);
    if (current.retainUntil && current.retainUntil.getTime() >= until.getTime()) return;
    for (const o of await this.list(prefix)) {
      try {
        await this.client.send(new PutObjectRetentionCommand({ Bucket: this.bucket, Key: this.k(o.key), Retention: { Mode: mode, RetainUntilDate: until } }));
      } catch (error) {
        throw this.fail(error, `extending the retention of ${o.key}`);
      }
    }
  }

  async lockState(prefix: string): Promise<LockState> {
    const objects = await this.list(prefix);
    let legalHold = false;
    let retainUntil: Date | undefined;
    for (const o of objects) {
      try {
        const hold = await this.client.send(new GetObjectLegalHoldCommand({ Bucket: this.bucket, Key: this.k(o.key) }));
        legalHold ||= hold.LegalHold?.Status === 'ON';
      } catch (error) {
        // No legal hold configuration on the object reads as "off" (Ceph RGW names it ObjectLockConfigurationNotFoundError).
        if (!named(error, ...NO_LOCK_CONFIGURATION)) throw this.fail(error, `reading the legal hold of ${o.key}`);
      }
      try {
        const r = await this.client.send(new GetObjectRetentionCommand({ Bucket: this.bucket, Key: this.k(o.key) }));
        const until = r.Retention?.RetainUntilDate;
        if (until && (!retainUntil || until.getTime() > retainUntil.getTime())) retainUntil = until;
      } catch (error) {
        if (!named(error, ...NO_LOCK_CONFIGURATION)) throw this.fail(error, `reading the retention of ${o.key}`);
      }
    }
    return { legalHold, ...(retainUntil ? { retainUntil } : {}) };
  }

  async deletePrefix(prefix: string, now: Date): Promise<number> {
    const state = await this.lockState(prefix);
    if (state.legalHold) throw new BlobError('blob.locked', `${prefix} is under legal hold`);
    if (state.retainUntil && state.retainUntil.getTime() > now.getTime()) {
      throw new BlobError('blob.locked', `${prefix} is retained until ${state.retainUntil.toISOString()}`);
    }
    // With versioning on, deleting a key only adds a delete marker: remove every version.
    const versions: { Key: string; VersionId?: string }[] = [];
    try {
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const res = await this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: this.k(prefix), KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
        );
        for (const v of [...(res.Versions ?? []), ...(res.DeleteMarkers ?? [])]) if (v.Key) versions.push({ Key: v.Key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) });
        keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
        versionMarker = res.IsTruncated ? res.NextVersionIdMarker : undefined;
      } while (keyMarker);
      for (let i = 0; i < versions.length; i += 1000) {
        const res = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: versions.slice(i, i + 1000), Quiet: true } }));
        const refused = res.Errors?.[0];
        if (refused) throw new BlobError(/lock|retention|hold|AccessDenied/i.test(`${refused.Code} ${refused.Message}`) ? 'blob.locked' : 'blob.unavailable', `deleting ${refused.Key}: ${refused.Code} ${refused.Message ?? ''}`.trim());
      }
    } catch (error) {
      throw this.fail(error, `deleting ${prefix}`);
    }
    return new Set(versions.map((v) => v.Key)).size;
  }

  async recover(): Promise<RecoveryReport> {
    return { removedStaging: 0 };
  }
}
