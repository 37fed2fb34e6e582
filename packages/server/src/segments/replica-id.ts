/**
 * The replica id names the segment files a replica appends to (segment-path.ts). It is the
 * configured one (`STELLA_REPLICA_ID`), or else one made once per data directory and kept in
 * `<dataDir>/replica-id`, so a replica restarted on its data directory appends to its own files
 * again. Two replicas sharing a segments directory must have different ids.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPLICA_ID_RE } from './segment-path.js';
import { SegmentError } from './segment-store.js';

export const REPLICA_ID_FILE = 'replica-id';

export function resolveReplicaId(dataDir: string, configured: string | undefined): string {
  if (configured !== undefined) return checked(configured, 'STELLA_REPLICA_ID');
  const file = join(dataDir, REPLICA_ID_FILE);
  try {
    return checked(readFileSync(file, 'utf8').trim(), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `r-${randomBytes(6).toString('hex')}\n`, { flag: 'wx', mode: 0o644 });
  } catch (error) {
    // Another process on this data directory made it first: use that one.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return checked(readFileSync(file, 'utf8').trim(), file);
}

function checked(id: string, source: string): string {
  if (!REPLICA_ID_RE.test(id)) {
    throw new SegmentError('segment.replica_invalid', `replica id "${id}" (${source}) must be letters, digits, "_" and "-", at most 63, starting with a letter or digit`);
  }
  return id;
}
