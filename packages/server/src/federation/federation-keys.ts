/**
 * The federation key map (FED-4): `{"keys": {"<keyid>": "<base64 secret>"}}`, the service's
 * HMAC-SHA256 signer and the keys it trusts when it verifies. It is `STELLA_FEDERATION_KEYS_FILE`
 * when set (and then never created: a missing or broken file means no signer), else
 * `<dataDir>/federation/keys.json`, made with one fresh key (`stella-<8 hex>`, 32 random bytes,
 * mode 0600) the first time the service signs. Installations that federate copy each other's
 * keys into their maps out of band. The file is read again when it changes, so adding a
 * partner's key needs no restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseFederationKeyMap, type FederationKeyMap, type FederationSignOptions, type FederationTrustOptions } from '@stellaops/forensics';
import type { Logger } from '@stellaops/telemetry-core';

export interface FederationKeysOptions {
  /** An operator's key map; absent → the default file in the data directory. */
  file: string | undefined;
  dataDir: string;
  /** The key to sign with; absent → the map's only key. */
  signingKeyId: string | undefined;
  /** With no key to sign with, write unsigned envelopes tagged offline-unsigned-fallback. */
  allowUnsigned: boolean;
  logger: Logger;
}

export class FederationKeys {
  readonly path: string;
  private cached: { mtimeMs: number; size: number; map: FederationKeyMap } | undefined;

  constructor(private readonly options: FederationKeysOptions) {
    this.path = options.file ?? join(options.dataDir, 'federation', 'keys.json');
  }

  /** The key map as the file holds it now; undefined when there is none (or it cannot be read: logged). */
  current(): FederationKeyMap | undefined {
    let info: { mtimeMs: number; size: number };
    try {
      info = statSync(this.path);
    } catch {
      this.cached = undefined;
      return undefined;
    }
    if (this.cached && this.cached.mtimeMs === info.mtimeMs && this.cached.size === info.size) return this.cached.map;
    try {
      const map = parseFederationKeyMap(readFileSync(this.path, 'utf8'));
      this.cached = { mtimeMs: info.mtimeMs, size: info.size, map };
      return map;
    } catch (error) {
      this.options.logger.error({ err: error, error_code: 'federation.dsse.signer_unavailable', details: { file: this.path } }, 'the federation key map cannot be read; nothing is signed or trusted with it');
      this.cached = undefined;
      return undefined;
    }
  }

  /** How envelopes are signed now: the default map is made on first use. */
  signOptions(): FederationSignOptions {
    let keys = this.current();
    if (!keys && this.options.file === undefined) keys = this.createDefault();
    return { ...(keys ? { keys } : {}), ...(this.options.signingKeyId ? { keyId: this.options.signingKeyId } : {}), allowUnsigned: this.options.allowUnsigned };
  }

  /** What verification trusts: the map's keys; unsigned envelopes only when the caller says so. */
  trust(allowUnsigned: boolean): FederationTrustOptions {
    const keys = this.current();
    return { ...(keys ? { keys } : {}), allowUnsigned };
  }

  private createDefault(): FederationKeyMap | undefined {
    const keyId = `stella-${randomBytes(4).toString('hex')}`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      // `wx`: of two replicas (or requests) making it at once, one writes and the other reads its key.
      writeFileSync(this.path, `${JSON.stringify({ keys: { [keyId]: randomBytes(32).toString('base64') } }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      this.options.logger.info({ details: { file: this.path, key_id: keyId } }, 'federation key map created with one key; share it only with the installations that verify this one');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        this.options.logger.error({ err: error, error_code: 'federation.dsse.signer_unavailable', details: { file: this.path } }, 'the federation key map cannot be created');
        return undefined;
      }
    }
    return this.current();
  }
}
