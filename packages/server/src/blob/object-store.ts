/**
 * The object store seam (SPEC EVI-1): the file system under the data directory by default, an
 * S3-compatible bucket with Object Lock at scale. Both are write-once: a committed key is never
 * replaced, and deletion is refused while an object is under legal hold or inside its retention.
 */
import type { Readable } from 'node:stream';

/** WORM settings applied when objects are committed. */
export interface ObjectLock {
  /** No deletion before this time (S3 `x-amz-object-lock-retain-until-date`). */
  retainUntil?: Date;
  /** S3 Object Lock mode. Default `COMPLIANCE` (not even the bucket owner can shorten it). */
  mode?: 'GOVERNANCE' | 'COMPLIANCE';
  /** Place a legal hold at commit time. Default false. */
  legalHold?: boolean;
}

export interface ObjectPut {
  /** Key relative to the prefix being committed, "/"-separated. */
  path: string;
  body: Uint8Array;
}

export interface ObjectInfo {
  /** Full key. */
  key: string;
  size: number;
}

export interface LockState {
  legalHold: boolean;
  retainUntil?: Date;
}

export interface RecoveryReport {
  /** Uncommitted staging areas removed (interrupted commits). */
  removedStaging: number;
}

export interface ObjectStore {
  readonly kind: 'fs' | 's3';
  /**
   * Commits the objects under `prefix` as one unit. The file system stages everything, flushes
   * it to disk and renames the whole prefix into place, so a crash leaves nothing visible; S3
   * writes each object with `If-None-Match: *` and the lock headers. Fails with `blob.exists`
   * if anything is already committed under the prefix.
   */
  commit(prefix: string, objects: readonly ObjectPut[], lock: ObjectLock): Promise<void>;
  /** True when something is committed under `prefix`. */
  exists(prefix: string): Promise<boolean>;
  /** A stream of one object; `blob.not_found` when absent. */
  get(key: string): Promise<Readable>;
  /** One object's bytes (small objects: manifests, statements). */
  read(key: string): Promise<Buffer>;
  /** Objects under `prefix`, sorted by key bytes. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Places or lifts a legal hold on every object under `prefix`. */
  setLegalHold(prefix: string, on: boolean): Promise<void>;
  /** Extends (never shortens) the retention of every object under `prefix`. */
  extendRetention(prefix: string, until: Date, mode?: ObjectLock['mode']): Promise<void>;
  lockState(prefix: string): Promise<LockState>;
  /**
   * Deletes everything under `prefix`; `blob.locked` while under legal hold or before its
   * retain-until (checked against `now`). Returns the number of objects removed.
   */
  deletePrefix(prefix: string, now: Date): Promise<number>;
  /** Clears what interrupted commits left behind; called once at start. */
  recover(): Promise<RecoveryReport>;
}
