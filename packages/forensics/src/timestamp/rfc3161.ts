import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ForensicsError } from '../errors.js';
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
