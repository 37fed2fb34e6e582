/** Picks the evidence backend from the feature's settings. */
import { join } from 'node:path';
import { FsObjectStore } from './fs-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

export interface ObjectStoreSettings {
  /** `fs` (default) or `s3`. */
  backend: 'fs' | 's3';
  /** fs: root directory. Default `<dataDir>/evidence`. */
  dir?: string;
  /** s3: bucket (required for s3). */
  bucket?: string;
  /** s3: endpoint URL of an S3-compatible server; absent → AWS. */
  endpoint?: string;
  /** s3: region. Default `us-east-1`. */
  region?: string;
  /** s3: path-style addressing (MinIO and most self-hosted servers). Default true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** s3: key prefix inside the bucket. */
  keyPrefix?: string;
}

export function openObjectStore(settings: ObjectStoreSettings, dataDir: string): ObjectStore {
  if (settings.backend === 's3') {
    return new S3ObjectStore({
      bucket: settings.bucket!,
      keyPrefix: settings.keyPrefix,
      clientConfig: {
        region: settings.region ?? 'us-east-1',
        ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: settings.forcePathStyle ?? true } : {}),
      },
    });
  }
  return new FsObjectStore({ root: settings.dir ?? join(dataDir, 'evidence') });
}
