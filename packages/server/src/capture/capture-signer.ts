/**
 * The key forensic captures are signed with: an ECDSA P-256 key kept in the data directory
 * (`telemetry/capture-signing-key.pem`, mode 0600), created on first use. ECDSA here signs with
 * RFC 6979 nonces (the forensics library), so the same capture gets the same signature. The
 * public half is served at `GET /telemetry/exports/signing-key` for offline verification.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createKeySigner, generateSigningKeyPair, type Signer } from '@stellaops/forensics';

export const CAPTURE_KEY_FILE = join('telemetry', 'capture-signing-key.pem');

export function openCaptureSigner(dataDir: string): Signer {
  const file = join(dataDir, CAPTURE_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const pair = generateSigningKeyPair('ecdsa-p256-sha256');
    try {
      writeFileSync(file, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another replica sharing the directory wrote it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return createKeySigner(readFileSync(file, 'utf8'));
}
