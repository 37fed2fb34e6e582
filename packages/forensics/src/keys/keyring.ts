import { createHash } from 'node:crypto';
import { jcs } from '../encoding/jcs.js';
import { ForensicsError } from '../errors.js';
import { parseDsseEnvelope, signDsse, verifyDsse, type DsseEnvelope } from '../dsse/dsse.js';
import { loadPublicKey, type SignatureAlgorithm, type Signer, type VerificationKey } from './signer.js';

/** DSSE payload type of rotation log entries. */
export const ROTATION_PAYLOAD_TYPE = 'application/vnd.stellaops.key-rotation+json';
const GENESIS_PREV = '0'.repeat(64);

export type RotationOp = 'add' | 'retire' | 'revoke';

/** The signed body of one rotation log entry. */
export interface RotationEntry {
  /** Position in the log, from 0. */
  readonly seq: number;
  /** Hex SHA-256 of the previous entry's payload bytes (64 zeros for the first): the log is a hash chain. */
  readonly prev: string;
  readonly op: RotationOp;
  /** ISO-8601 UTC time the change takes effect; never earlier than the previous entry's. */
  readonly at: string;
  readonly keyId: string;
  /** op "add": SPKI PEM of the key being added. */
  readonly publicKeyPem?: string;
  /** op "add": start of validity (default `at`). */
  readonly notBefore?: string;
  /** op "add": end of validity, exclusive (default open-ended until retired). */
  readonly notAfter?: string;
  /** op "revoke": why. */
  readonly reason?: string;
}

/** What the log says about one key after replay. */
export interface KeyRecord {
  readonly keyId: string;
  readonly algorithm: SignatureAlgorithm;
  readonly publicKeyPem: string;
  readonly notBefore: Date;
  /** Exclusive end of validity; set by "add" or by a later "retire". */
  readonly notAfter?: Date;
  /** Revocation voids every signature by the key, whenever it was made (compromise). */
  readonly revokedAt?: Date;
  readonly revocationReason?: string;
  readonly verificationKey: VerificationKey;
}

/** The key ring file: only the signed log; key state is always derived by replaying it. */
export interface KeyringDocument {
  readonly version: 1;
  readonly log: readonly DsseEnvelope[];
}

export type KeyCheck =
  | { readonly ok: true; readonly key: VerificationKey; readonly record: KeyRecord }
  | { readonly ok: false; readonly code: 'key_unknown' | 'key_outside_validity' | 'key_revoked'; readonly message: string };

export interface KeyringLoadOptions {
  /**
   * Key ids allowed to start the log. Without it the first entry is trusted as is (the file
   * itself must then come from a trusted channel); with it a substituted log is refused.
   */
  readonly trustedRootKeyIds?: readonly string[];
}

function parseTime(value: unknown, what: string): Date {
  const d = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime()) || typeof value !== 'string' || d.toISOString() !== value) {
    throw new ForensicsError('rotation_log_invalid', `${what} must be an ISO-8601 UTC timestamp like 2025-01-01T00:00:00.000Z`);
  }
  return d;
}

function iso(d: Date | string): string {
  const date = typeof d === 'string' ? new Date(d) : d;
  if (Number.isNaN(date.getTime())) throw new ForensicsError('invalid_argument', `invalid time ${String(d)}`);
  return date.toISOString();
}

/**
 * Signing keys with validity windows, managed through an append-only, hash-chained, signed
 * rotation log. The first entry adds a key and is signed by it; every later entry must be signed
 * by a key that is active at the entry's time. Verification asks `checkKey(keyId, signedAt)`: a
 * key signs only inside [notBefore, notAfter) and never once revoked.
 */
export class Keyring {
  readonly #log: DsseEnvelope[] = [];
  readonly #entries: RotationEntry[] = [];
  readonly #records = new Map<string, KeyRecord>();
  #lastHash = GENESIS_PREV;

  private constructor() {}

  /** Starts a key ring whose first key is `signer`'s. */
  static async create(options: { signer: Signer; at: Date | string; notBefore?: Date | string; notAfter?: Date | string }): Promise<Keyring> {
    const ring = new Keyring();
    const at = iso(options.at);
    await ring.#append(
      {
        seq: 0,
        prev: GENESIS_PREV,
        op: 'add',
        at,
        keyId: options.signer.keyId,
        publicKeyPem: options.signer.publicKeyPem,
        notBefore: options.notBefore ? iso(options.notBefore) : at,
        ...(options.notAfter ? { notAfter: iso(options.notAfter) } : {}),
      },
      options.signer,
    );
    return ring;
  }

  /** Loads and fully re-verifies a key ring document (object or JSON text). */
  static fromJSON(input: unknown, options: KeyringLoadOptions = {}): Keyring {
    let doc = input;
    if (typeof input === 'string') {
      try {
        doc = JSON.parse(input);
      } catch (cause) {
        throw new ForensicsError('invalid_keyring', 'key ring file is not valid JSON', { cause });
      }
    }
    const d = doc as Partial<KeyringDocument> | null;
    if (!d || typeof d !== 'object' || d.version !== 1 || !Array.isArray(d.log) || d.log.length === 0) {
      throw new ForensicsError('invalid_keyring', 'key ring must be {"version": 1, "log": [...]} with at least one entry');
    }
    const ring = new Keyring();
    for (const [i, raw] of d.log.entries()) {
      let env: DsseEnvelope;
      try {
        env = parseDsseEnvelope(raw);
      } catch (cause) {
        throw new ForensicsError('rotation_log_invalid', `rotation log entry ${i} is not a DSSE envelope`, { cause });
      }
      ring.#replay(env, i === 0 ? options.trustedRootKeyIds : undefined);
    }
    return ring;
  }

  toJSON(): KeyringDocument {
    return { version: 1, log: [...this.#log] };
  }

  /** Every key the log has ever added, in order of addition. */
  keys(): KeyRecord[] {
    return [...this.#records.values()];
  }

  get(keyId: string): KeyRecord | undefined {
    return this.#records.get(keyId);
  }

  /** The decoded log, oldest first. */
  entries(): RotationEntry[] {
    return [...this.#entries];
  }

  /** May `keyId` have signed something at `at`? */
  checkKey(keyId: string, at: Date): KeyCheck {
    const record = this.#records.get(keyId);
    if (!record) return { ok: false, code: 'key_unknown', message: `key ${keyId} is not in the key ring` };
    if (record.revokedAt) {
      return {
        ok: false,
        code: 'key_revoked',
        message: `key ${keyId} was revoked at ${record.revokedAt.toISOString()}${record.revocationReason ? ` (${record.revocationReason})` : ''}`,
      };
    }
    const t = at.getTime();
    if (Number.isNaN(t) || t < record.notBefore.getTime() || (record.notAfter && t >= record.notAfter.getTime())) {
      return {
        ok: false,
        code: 'key_outside_validity',
        message: `key ${keyId} is valid from ${record.notBefore.toISOString()}${record.notAfter ? ` until ${record.notAfter.toISOString()}` : ''}, not at ${Number.isNaN(t) ? 'an invalid time' : at.toISOString()}`,
      };
    }
    return { ok: true, key: record.verificationKey, record };
  }

  /** Adds a key; `signer` must be active at `at`. */
  async add(
    publicKeyPem: string,
    options: { signer: Signer; at: Date | string; notBefore?: Date | string; notAfter?: Date | string },
  ): Promise<KeyRecord> {
    const key = loadPublicKey(publicKeyPem);
    const at = iso(options.at);
    await this.#append(
      {
        seq: this.#entries.length,
        prev: this.#lastHash,
        op: 'add',
        at,
        keyId: key.keyId,
        publicKeyPem: key.publicKeyPem,
        notBefore: options.notBefore ? iso(options.notBefore) : at,
        ...(options.notAfter ? { notAfter: iso(options.notAfter) } : {}),
      },
      options.signer,
    );
    return this.#records.get(key.keyId)!;
  }

  /** Ends a key's validity at `at` (routine rotation: its earlier signatures stay valid). */
  async retire(keyId: string, options: { signer: Signer; at: Date | string }): Promise<void> {
    await this.#append({ seq: this.#entries.length, prev: this.#lastHash, op: 'retire', at: iso(options.at), keyId }, options.signer);
  }

  /** Revokes a key (compromise): every signature it ever made is rejected from now on. */
  async revoke(keyId: string, options: { signer: Signer; at: Date | string; reason?: string }): Promise<void> {
    await this.#append(
      {
        seq: this.#entries.length,
        prev: this.#lastHash,
        op: 'revoke',
        at: iso(options.at),
        keyId,
        ...(options.reason ? { reason: options.reason } : {}),
      },
      options.signer,
    );
  }

  /** Rotation in one step: the current key (`signer`) adds its successor and retires itself at `at`. */
  async rotate(newPublicKeyPem: string, options: { signer: Signer; at: Date | string }): Promise<KeyRecord> {
    const record = await this.add(newPublicKeyPem, options);
    await this.retire(options.signer.keyId, options);
    return record;
  }

  async #append(entry: RotationEntry, signer: Signer): Promise<void> {
    const envelope = await signDsse(jcs(entry), ROTATION_PAYLOAD_TYPE, signer);
    try {
      this.#replay(envelope, undefined);
    } catch (err) {
      if (err instanceof ForensicsError && err.code === 'rotation_log_invalid') {
        throw new ForensicsError(err.message.includes('not signed by') ? 'key_not_active' : 'invalid_argument', err.message, { cause: err });
      }
      throw err;
    }
  }

  /** Applies one entry after checking chain, order, op rules and signature; state is untouched on failure. */
  #replay(envelope: DsseEnvelope, trustedRootKeyIds: readonly string[] | undefined): void {
    const seq = this.#entries.length;
    const bad = (message: string): never => {
      throw new ForensicsError('rotation_log_invalid', `rotation log entry ${seq}: ${message}`);
    };
    if (envelope.payloadType !== ROTATION_PAYLOAD_TYPE) bad(`payload type must be ${ROTATION_PAYLOAD_TYPE}`);
    const payload = Buffer.from(envelope.payload, 'base64');
    let entry: RotationEntry;
    try {
      entry = JSON.parse(payload.toString('utf8')) as RotationEntry;
    } catch {
      return bad('payload is not JSON');
    }
    if (entry.seq !== seq) bad(`sequence number ${String(entry.seq)} out of order`);
    if (entry.prev !== this.#lastHash) bad('does not chain to the previous entry (log was altered or reordered)');
    if (!['add', 'retire', 'revoke'].includes(entry.op)) bad(`unknown op ${String(entry.op)}`);
    if (typeof entry.keyId !== 'string') bad('lacks a keyId');
    const at = parseTime(entry.at, `entry ${seq} "at"`);
    const last = this.#entries.at(-1);
    if (last && at.getTime() < new Date(last.at).getTime()) bad('time goes backwards');

    let added: KeyRecord | undefined;
    if (entry.op === 'add') {
      if (typeof entry.publicKeyPem !== 'string') bad('"add" lacks publicKeyPem');
      let key: VerificationKey;
      try {
        key = loadPublicKey(entry.publicKeyPem!);
      } catch {
        return bad('"add" carries an unusable public key');
      }
      if (key.keyId !== entry.keyId) bad('keyId does not match the public key');
      if (this.#records.has(entry.keyId)) bad(`key ${entry.keyId} was already added`);
      const notBefore = parseTime(entry.notBefore ?? entry.at, '"notBefore"');
      const notAfter = entry.notAfter === undefined ? undefined : parseTime(entry.notAfter, '"notAfter"');
      if (notAfter && notAfter.getTime() <= notBefore.getTime()) bad('notAfter must be after notBefore');
      added = {
        keyId: key.keyId,
        algorithm: key.algorithm,
        publicKeyPem: key.publicKeyPem,
        notBefore,
        ...(notAfter ? { notAfter } : {}),
        verificationKey: key,
      };
    } else if (!this.#records.has(entry.keyId)) {
      bad(`"${entry.op}" names unknown key ${entry.keyId}`);
    }

    // Who may sign this entry: the new key itself for the first entry, else a key active at `at`.
    if (seq === 0) {
      if (entry.op !== 'add' || !added) return bad('the first entry must add a key');
      if (trustedRootKeyIds && !trustedRootKeyIds.includes(entry.keyId)) bad(`first key ${entry.keyId} is not a trusted root`);
      const v = verifyDsse(envelope, { keys: [added.verificationKey] });
      if (!v.ok) bad('first entry is not signed by the key it adds');
    } else {
      const active = [...this.#records.values()].filter((r) => this.checkKey(r.keyId, at).ok).map((r) => r.verificationKey);
      const v = active.length > 0 ? verifyDsse(envelope, { keys: active }) : undefined;
      if (!v?.ok) bad(`not signed by a key active at ${entry.at}`);
    }

    if (added) {
      this.#records.set(added.keyId, added);
    } else {
      const r = this.#records.get(entry.keyId)!;
      if (entry.op === 'retire') {
        if (r.revokedAt) bad(`key ${entry.keyId} is already revoked`);
        const notAfter = r.notAfter && r.notAfter.getTime() < at.getTime() ? r.notAfter : at;
        this.#records.set(r.keyId, { ...r, notAfter });
      } else {
        if (r.revokedAt) bad(`key ${entry.keyId} is already revoked`);
        this.#records.set(r.keyId, { ...r, revokedAt: at, ...(entry.reason ? { revocationReason: entry.reason } : {}) });
      }
    }
    this.#entries.push(entry);
    this.#log.push(envelope);
    this.#lastHash = createHash('sha256').update(payload).digest('hex');
  }
}
