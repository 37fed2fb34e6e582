import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { children, DerError, parseDer as parseStrictDer, readUnsignedInteger, tlv, type Tlv } from '../encoding/der.js';
import { ForensicsError } from '../errors.js';
import { encodeEcdsaSignature, parseEcdsaSignature } from '../keys/signer.js';
import { failure, type VerificationFailure } from '../verification-failure.js';

/**
 * RFC 3161 time-stamping: a TSA signs (hash of our data, its clock), proving the data existed at
 * genTime. We stamp the bytes of `root.merkle`, so by hand it is
 * `openssl ts -verify -data root.merkle -in timestamp.tsr -CAfile tsa-ca.pem`.
 */

const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export interface TimestampRequest {
  /** DER TimeStampReq, the body of an `application/timestamp-query` POST. */
  readonly der: Buffer;
  /** The nonce sent; a response must echo it. */
  readonly nonce: Buffer;
  /** SHA-256 of the stamped data. */
  readonly digest: Buffer;
}

/** Builds a TimeStampReq for `data` (SHA-256 imprint, random 64-bit nonce, certReq true). */
export function createTimestampRequest(data: Uint8Array, options: { nonce?: Uint8Array; policy?: string } = {}): TimestampRequest {
  const digest = createHash('sha256').update(data).digest();
  // DER INTEGERs are minimal and signed: drop leading zeros, then add one back only when the top
  // bit is set (TSAs such as openssl reject a non-minimal nonce as a malformed request).
  const raw = stripZeros(Buffer.from(options.nonce ?? randomBytes(8)));
  const nonce = raw[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw;
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(digest) }),
    }),
    nonce: new asn1js.Integer({ valueHex: toArrayBuffer(nonce) }),
    certReq: true,
    ...(options.policy ? { reqPolicy: options.policy } : {}),
  });
  return { der: Buffer.from(req.toSchema().toBER(false)), nonce: stripZeros(nonce), digest };
}

function stripZeros(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return Buffer.from(b.subarray(i));
}

export interface TimestampClientOptions {
  /** Abort after this many milliseconds. Default 10 000. */
  readonly timeoutMs?: number;
  /** Extra request headers (e.g. authorization for a commercial TSA). */
  readonly headers?: Record<string, string>;
  /** fetch implementation. Default: global fetch. */
  readonly fetch?: typeof fetch;
}

/** Asks a TSA over HTTP (RFC 3161 §3.4) to stamp `data`; returns the DER TimeStampResp after checking status and nonce. */
export async function requestTimestamp(url: string, data: Uint8Array, options: TimestampClientOptions = {}): Promise<Buffer> {
  const request = createTimestampRequest(data);
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply', ...options.headers },
      body: request.der,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    throw new ForensicsError('timestamp_request_failed', `TSA at ${url} unreachable: ${(cause as Error).message}`, { cause });
  }
  if (!res.ok) throw new ForensicsError('timestamp_request_failed', `TSA at ${url} answered HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const parsed = parseTimestampResponse(body);
  if (!parsed.token) {
    throw new ForensicsError('timestamp_request_failed', `TSA refused the request: status ${parsed.status}${parsed.statusText ? ` (${parsed.statusText})` : ''}`);
  }
  const info = readTstInfo(parsed.token);
  if (!info.nonce || !info.nonce.equals(request.nonce)) {
    throw new ForensicsError('timestamp_request_failed', 'TSA response does not echo our nonce (replayed or foreign response)');
  }
  if (!info.digest.equals(request.digest)) throw new ForensicsError('timestamp_request_failed', 'TSA stamped a different hash than we asked for');
  return body;
}

/** A bundle-builder hook that stamps via `requestTimestamp`. */
export function createHttpTimestamper(url: string, options: TimestampClientOptions = {}): (data: Uint8Array) => Promise<Buffer> {
  return (data) => requestTimestamp(url, data, options);
}

export interface ParsedTimestampResponse {
  /** PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification. */
  readonly status: number;
  readonly statusText?: string;
  /** DER ContentInfo of the token, present when granted. */
  readonly token?: Buffer;
}

function parseDer(der: Uint8Array, what: string): asn1js.AsnType {
  const asn = asn1js.fromBER(toArrayBuffer(der));
  if (asn.offset === -1 || asn.offset !== der.byteLength) {
    throw new ForensicsError('invalid_timestamp', `${what} is not a single DER structure`);
  }
  return asn.result;
}

/** Parses a TimeStampResp (what `openssl ts -reply` writes and TSAs return). */
export function parseTimestampResponse(der: Uint8Array): ParsedTimestampResponse {
  try {
    const resp = new pkijs.TimeStampResp({ schema: parseDer(der, 'timestamp response') });
    const statusText = resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
    const token = resp.timeStampToken ? Buffer.from(resp.timeStampToken.toSchema().toBER(false)) : undefined;
    return { status: resp.status.status, ...(statusText ? { statusText } : {}), ...(token ? { token } : {}) };
  } catch (cause) {
    if (cause instanceof ForensicsError) throw cause;
    throw new ForensicsError('invalid_timestamp', 'not an RFC 3161 TimeStampResp', { cause });
  }
}

interface TstView {
  readonly signedData: pkijs.SignedData;
  readonly tstInfo: pkijs.TSTInfo;
  readonly digest: Buffer;
  readonly digestAlgorithm: string;
  readonly nonce?: Buffer;
}

function readTstInfo(token: Uint8Array): TstView {
  try {
    const contentInfo = new pkijs.ContentInfo({ schema: parseDer(token, 'timestamp token') });
    if (contentInfo.contentType !== OID_SIGNED_DATA) throw new ForensicsError('invalid_timestamp', 'timestamp token is not CMS SignedData');
    const signedData = new pkijs.SignedData({ schema: contentInfo.content });
    if (signedData.encapContentInfo.eContentType !== OID_TST_INFO || !signedData.encapContentInfo.eContent) {
      throw new ForensicsError('invalid_timestamp', 'timestamp token does not carry a TSTInfo');
    }
    const tstInfo = pkijs.TSTInfo.fromBER(signedData.encapContentInfo.eContent.getValue());
    const nonce = tstInfo.nonce ? stripZeros(new Uint8Array(tstInfo.nonce.valueBlock.valueHexView)) : undefined;
    return {
      signedData,
      tstInfo,
      digest: Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView),
      digestAlgorithm: tstInfo.messageImprint.hashAlgorithm.algorithmId,
      ...(nonce ? { nonce } : {}),
    };
  } catch (cause) {
    if (cause instanceof ForensicsError) throw cause;
    throw new ForensicsError('invalid_timestamp', 'malformed timestamp token', { cause });
  }
}

export interface TimestampVerifyOptions {
  /** The stamped bytes (for bundles: the contents of root.merkle). */
  readonly data: Uint8Array;
  /**
   * PEM certificates of trusted TSA roots. With them the TSA certificate must chain to one at
   * genTime; without them only the token's own signature, imprint and EKU are checked and the
   * result says `trusted: false`.
   */
  readonly trustAnchors?: readonly string[];
}

export interface TimestampVerification {
  readonly ok: boolean;
  /** True when the TSA chain was validated against a supplied anchor. */
  readonly trusted: boolean;
  readonly genTime?: Date;
  /** Hex serial number of the token. */
  readonly serialNumber?: string;
  readonly policy?: string;
  /** Subject of the TSA's signing certificate. */
  readonly tsa?: string;
  readonly failures: readonly VerificationFailure[];
}

function pemCertificates(pems: readonly string[]): pkijs.Certificate[] {
  const out: pkijs.Certificate[] = [];
  for (const pem of pems) {
    for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
      out.push(pkijs.Certificate.fromBER(toArrayBuffer(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))));
    }
  }
  if (out.length === 0) throw new ForensicsError('invalid_argument', 'no PEM certificate found among the TSA trust anchors');
  return out;
}

function hasCriticalTimestampingEku(cert: pkijs.Certificate): boolean {
  const ext = cert.extensions?.find((e) => e.extnID === OID_EXT_KEY_USAGE);
  if (!ext || !ext.critical) return false;
  const eku = ext.parsedValue as pkijs.ExtKeyUsage | undefined;
  return !!eku?.keyPurposes?.includes(OID_KP_TIME_STAMPING);
}

/**
 * Verifies a timestamp response or bare token against `data`: the imprint must be SHA-256(data),
 * the CMS signature must verify with the TSA certificate, that certificate must carry the
 * critical id-kp-timeStamping EKU, and (with anchors) chain to one at genTime.
 */
export async function verifyTimestamp(der: Uint8Array, options: TimestampVerifyOptions): Promise<TimestampVerification> {
  // The result is a pure function of the three inputs, and CMS verification costs milliseconds:
  // a stored bundle verified on every read, or a corpus of variants, asks the same question often.
  const key = createHash('sha256').update(der).update('\0').update(options.data).update('\0').update((options.trustAnchors ?? []).join('\0')).digest('hex');
  const known = verified.get(key);
  if (known) {
    verified.delete(key);
    verified.set(key, known);
    return known;
  }
  const result = await verifyTimestampUncached(der, options);
  verified.set(key, result);
  if (verified.size > 512) verified.delete(verified.keys().next().value!);
  return result;
}

const verified = new Map<string, TimestampVerification>();

async function verifyTimestampUncached(der: Uint8Array, options: TimestampVerifyOptions): Promise<TimestampVerification> {
  let token: Uint8Array;
  let view: TstView;
  try {
    // A TimeStampResp is SEQUENCE { PKIStatusInfo, token }; a token is ContentInfo. Try the response first.
    try {
      const parsed = parseTimestampResponse(der);
      if (!parsed.token) {
        return { ok: false, trusted: false, failures: [failure('timestamp_invalid', `the TSA did not grant this timestamp (status ${parsed.status})`)] };
      }
      token = parsed.token;
    } catch {
      token = der;
    }
    view = readTstInfo(token);
  } catch (err) {
    return { ok: false, trusted: false, failures: [failure('timestamp_invalid', (err as Error).message)] };
  }
  const { signedData, tstInfo } = view;
  const genTime = tstInfo.genTime;
  const base = {
    genTime,
    serialNumber: Buffer.from(tstInfo.serialNumber.valueBlock.valueHexView).toString('hex'),
    policy: tstInfo.policy,
  };
  const failures: VerificationFailure[] = [];
  const expected = createHash('sha256').update(options.data).digest();
  if (view.digestAlgorithm !== OID_SHA256 || !view.digest.equals(expected)) {
    failures.push(failure('timestamp_mismatch', 'the timestamp covers a different hash than this data'));
    return { ok: false, trusted: false, ...base, failures };
  }
  const trustedCerts = options.trustAnchors && options.trustAnchors.length > 0 ? pemCertificates(options.trustAnchors) : undefined;
  let tsa: string | undefined;
  let trusted = false;
  try {
    const result = (await signedData.verify({
      signer: 0,
      data: toArrayBuffer(options.data),
      checkChain: !!trustedCerts,
      trustedCerts: trustedCerts ?? [],
      checkDate: genTime,
      extendedMode: true,
    })) as pkijs.SignedDataVerifyResult;
    const cert = result.signerCertificate ?? undefined;
    if (cert) tsa = new X509Certificate(Buffer.from(cert.toSchema().toBER(false))).subject.replace(/\n/g, ', ');
    if (!result.signatureVerified) failures.push(failure('timestamp_invalid', 'the TSA signature over the timestamp does not verify'));
    else if (!cert || !hasCriticalTimestampingEku(cert)) {
      failures.push(failure('timestamp_invalid', 'the signing certificate lacks the critical id-kp-timeStamping extended key usage'));
    } else trusted = !!trustedCerts;
  } catch (err) {
    const e = err as pkijs.SignedDataVerifyError;
    const chainProblem = e.code === 5;
    failures.push(
      failure(
        chainProblem ? 'timestamp_untrusted' : 'timestamp_invalid',
        chainProblem ? `the TSA certificate does not chain to a trusted anchor at ${genTime.toISOString()}: ${e.message}` : `timestamp does not verify: ${e.message}`,
      ),
    );
  }
  return { ok: failures.length === 0, trusted: failures.length === 0 && trusted, ...base, ...(tsa ? { tsa } : {}), failures };
}

// ---------------------------------------------------------------------------------------------
// The canonical token form
// ---------------------------------------------------------------------------------------------

/** DER of an OBJECT IDENTIFIER. */
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  const body: number[] = [];
  const base128 = (v: bigint): number[] => {
    const out = [Number(v & 0x7fn)];
    for (let x = v >> 7n; x > 0n; x >>= 7n) out.unshift(Number((x & 0x7fn) | 0x80n));
    return out;
  };
  body.push(...base128(parts[0]! * 40n + parts[1]!));
  for (const p of parts.slice(2)) body.push(...base128(p));
  return tlv(0x06, Buffer.from(body));
}

const DER_OID = {
  signedData: oid(OID_SIGNED_DATA),
  tstInfo: oid(OID_TST_INFO),
  signingCertificate: oid('1.2.840.113549.1.9.16.2.12'),
  signingCertificateV2: oid('1.2.840.113549.1.9.16.2.47'),
  sha1: oid('1.3.14.3.2.26'),
};
const DIGESTS: Record<string, string> = {
  [oid('1.3.14.3.2.26').toString('hex')]: 'sha1',
  [oid(OID_SHA256).toString('hex')]: 'sha256',
  [oid('2.16.840.1.101.3.4.2.2').toString('hex')]: 'sha384',
  [oid('2.16.840.1.101.3.4.2.3').toString('hex')]: 'sha512',
};
const ECDSA_SIGNATURES = new Set(['1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4'].map((o) => oid(o).toString('hex')));
const RSA_SIGNATURES = new Set(['1.2.840.113549.1.1.1', '1.2.840.113549.1.1.5', '1.2.840.113549.1.1.11', '1.2.840.113549.1.1.12', '1.2.840.113549.1.1.13'].map((o) => oid(o).toString('hex')));
const CURVE_ORDERS: Record<string, bigint> = {
  prime256v1: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  secp384r1: BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  secp521r1: BigInt('0x01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
};
const NULL = Buffer.from([0x05, 0x00]);
const GRANTED = tlv(0x30, tlv(0x02, Buffer.from([0])));

function need(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return t;
}

/** An AlgorithmIdentifier in its one form: digests and ECDSA without parameters, RSA with NULL. */
function canonicalAlgorithm(t: Tlv, kind: 'digest' | 'signature'): { der: Buffer; oidHex: string } {
  const parts = children(need(t, 0x30, 'AlgorithmIdentifier'));
  const id = need(parts[0], 0x06, 'algorithm OID');
  const oidHex = id.raw.toString('hex');
  if (parts.length > 2 || (parts.length === 2 && !parts[1]!.raw.equals(NULL))) throw new DerError('algorithm parameters other than NULL');
  if (kind === 'digest') {
    if (!DIGESTS[oidHex]) throw new DerError('unsupported digest algorithm');
    return { der: tlv(0x30, id.raw), oidHex };
  }
  if (ECDSA_SIGNATURES.has(oidHex)) return { der: tlv(0x30, id.raw), oidHex };
  if (RSA_SIGNATURES.has(oidHex)) return { der: tlv(0x30, id.raw, NULL), oidHex };
  throw new DerError('unsupported signature algorithm');
}

/** Issuer and serial number of a certificate, as its own bytes. */
function certificateId(cert: Tlv): { issuer: Buffer; serial: Buffer } {
  const tbs = children(need(children(need(cert, 0x30, 'certificate'))[0], 0x30, 'tbsCertificate'));
  const offset = tbs[0]?.tag === 0xa0 ? 1 : 0;
  return { serial: need(tbs[offset], 0x02, 'serialNumber').raw, issuer: need(tbs[offset + 2], 0x30, 'issuer').raw };
}

/** The ESS signingCertificate(V2) attribute must name this certificate: RFC 3161 §2.4.1, RFC 5816. */
function checkEssCertId(signedAttrs: Tlv, certRaw: Buffer): void {
  for (const attr of children(signedAttrs)) {
    const [type, values] = children(need(attr, 0x30, 'attribute'));
    const v2 = type?.raw.equals(DER_OID.signingCertificateV2);
    if (!v2 && !type?.raw.equals(DER_OID.signingCertificate)) continue;
    const signingCertificate = children(need(values, 0x31, 'attribute values'))[0];
    const certs = children(need(children(need(signingCertificate, 0x30, 'SigningCertificate'))[0], 0x30, 'certs'));
    const first = children(need(certs[0], 0x30, 'ESSCertID'));
    let algorithm = v2 ? 'sha256' : 'sha1';
    let hashAt = 0;
    if (v2 && first[0]?.tag === 0x30) {
      const alg = children(first[0])[0];
      algorithm = DIGESTS[alg?.raw.toString('hex') ?? ''] ?? '';
      if (!algorithm) throw new DerError('unsupported ESSCertIDv2 hash algorithm');
      hashAt = 1;
    }
    const hash = need(first[hashAt], 0x04, 'certHash').content;
    if (!hash.equals(createHash(algorithm).update(certRaw).digest())) {
      throw new ForensicsError('invalid_timestamp', 'the signingCertificate attribute does not name the certificate the token carries');
    }
    return;
  }
  throw new ForensicsError('invalid_timestamp', 'the token lacks the ESS signingCertificate attribute (RFC 3161 §2.4.1)');
}

/**
 * The one accepted encoding of an RFC 3161 TimeStampResp that is stored after signing (where no
 * signature of ours can pin its bytes): status `granted` with no text, a SignedData holding the
 * TSTInfo, exactly the TSA's signing certificate (pinned by the signed ESS signingCertificate
 * attribute), no CRLs, one SignerInfo identified by issuer and serial with no unsigned
 * attributes, algorithm identifiers in their one form, and — for an ECDSA TSA — the low-S form
 * of its signature. Everything else a token can carry is unsigned (a certificate set, unsigned
 * attributes, status text, BER lengths, the mirror-image ECDSA signature) and could change
 * without the TSA's signature noticing, so it is dropped when the builder stores a token, and a
 * stored token must already be in this form. The TSA's signature still verifies over the result.
 * Throws `invalid_timestamp` for a response that is not a granted single-signer timestamp.
 */
export function canonicalTimestampResponse(der: Uint8Array): Buffer {
  try {
    const resp = children(need(parseStrictDer(Buffer.from(der.buffer, der.byteOffset, der.byteLength)), 0x30, 'TimeStampResp'));
    const status = children(need(resp[0], 0x30, 'PKIStatusInfo'));
    if (readUnsignedInteger(need(status[0], 0x02, 'status')) !== 0n) throw new ForensicsError('invalid_timestamp', 'the TSA did not grant the timestamp (status is not 0)');
    if (resp.length !== 2) throw new DerError('TimeStampResp without exactly one token');
    const contentInfo = children(need(resp[1], 0x30, 'ContentInfo'));
    if (!need(contentInfo[0], 0x06, 'contentType').raw.equals(DER_OID.signedData)) throw new DerError('the token is not SignedData');
    const signedData = children(need(children(need(contentInfo[1], 0xa0, 'content'))[0], 0x30, 'SignedData'));
    const encap = children(need(signedData[2], 0x30, 'encapContentInfo'));
    if (!need(encap[0], 0x06, 'eContentType').raw.equals(DER_OID.tstInfo)) throw new DerError('the token does not carry a TSTInfo');
    const tstInfo = need(children(need(encap[1], 0xa0, 'eContent'))[0], 0x04, 'eContent octets').content;
    let at = 3;
    const certificates = signedData[at]?.tag === 0xa0 ? children(signedData[at++]!) : [];
    if (signedData[at]?.tag === 0xa1) at++; // CRLs: unsigned, dropped.
    const signerInfos = children(need(signedData[at], 0x31, 'signerInfos'));
    if (at !== signedData.length - 1 || signerInfos.length !== 1) throw new DerError('a timestamp token has exactly one SignerInfo');
    const si = children(need(signerInfos[0], 0x30, 'SignerInfo'));
    const sid = children(need(si[1], 0x30, 'issuerAndSerialNumber (tokens identified by key identifier are not supported)'));
    const sidIssuer = need(sid[0], 0x30, 'sid issuer').raw;
    const sidSerial = need(sid[1], 0x02, 'sid serial').raw;
    const cert = certificates.find((c) => {
      try {
        const id = certificateId(c);
        return id.issuer.equals(sidIssuer) && id.serial.equals(sidSerial);
      } catch {
        return false;
      }
    });
    if (!cert) throw new ForensicsError('invalid_timestamp', 'the token does not carry the TSA signing certificate (request it with certReq)');
    const digest = canonicalAlgorithm(si[2]!, 'digest');
    const signedAttrs = need(si[3], 0xa0, 'signedAttrs');
    const signatureAlgorithm = canonicalAlgorithm(si[4]!, 'signature');
    let signature = need(si[5], 0x04, 'signature').content;
    if (si.length > 7 || (si.length === 7 && si[6]!.tag !== 0xa1)) throw new DerError('unexpected SignerInfo fields');
    checkEssCertId(signedAttrs, cert.raw);
    if (ECDSA_SIGNATURES.has(signatureAlgorithm.oidHex)) {
      const curve = new X509Certificate(cert.raw).publicKey.asymmetricKeyDetails?.namedCurve ?? '';
      const order = CURVE_ORDERS[curve];
      if (!order) throw new DerError(`unsupported TSA curve ${curve}`);
      const { r, s: sv } = parseEcdsaSignature(signature, order);
      signature = encodeEcdsaSignature(r, sv > order / 2n ? order - sv : sv);
    }
    const signerInfo = tlv(
      0x30,
      tlv(0x02, Buffer.from([1])),
      tlv(0x30, certificateId(cert).issuer, certificateId(cert).serial),
      digest.der,
      signedAttrs.raw,
      signatureAlgorithm.der,
      tlv(0x04, signature),
    );
    const sd = tlv(
      0x30,
      tlv(0x02, Buffer.from([3])),
      tlv(0x31, digest.der),
      tlv(0x30, DER_OID.tstInfo, tlv(0xa0, tlv(0x04, tstInfo))),
      tlv(0xa0, cert.raw),
      tlv(0x31, signerInfo),
    );
    return tlv(0x30, GRANTED, tlv(0x30, DER_OID.signedData, tlv(0xa0, sd)));
  } catch (cause) {
    if (cause instanceof ForensicsError) throw cause;
    throw new ForensicsError('invalid_timestamp', `not a usable RFC 3161 timestamp response: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Verifies a stored timestamp that must be in canonical form (see canonicalTimestampResponse):
 * `timestamp_noncanonical` when it is not, else the checks of verifyTimestamp.
 */
export async function verifyCanonicalTimestamp(der: Uint8Array, options: TimestampVerifyOptions): Promise<TimestampVerification> {
  let canonical: Buffer;
  try {
    canonical = canonicalTimestampResponse(der);
  } catch (err) {
    return { ok: false, trusted: false, failures: [failure('timestamp_invalid', (err as Error).message)] };
  }
  if (!canonical.equals(Buffer.from(der.buffer, der.byteOffset, der.byteLength))) {
    return {
      ok: false,
      trusted: false,
      failures: [failure('timestamp_noncanonical', 'the timestamp carries bytes the TSA did not sign (extra certificates, unsigned attributes, status text, BER encoding or a high-S TSA signature); only the canonical token is accepted')],
    };
  }
  return verifyTimestamp(canonical, options);
}
