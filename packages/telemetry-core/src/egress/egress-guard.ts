/**
 * Sealed-mode egress guard (CORE-7). In a sealed (air-gapped) installation no telemetry may
 * leave the host: every exporter endpoint must be loopback, a local file, or explicitly
 * allowlisted by policy. The check resolves host names, because `collector.internal` may
 * well point off the box; a name that does not resolve is treated as egress (fail closed).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Why an endpoint was allowed or blocked; stable strings for logs and tests. */
export type EgressVerdictReason =
  | 'not_sealed'
  | 'loopback'
  | 'local_file'
  | 'allowlisted'
  | 'non_loopback_address'
  | 'resolves_non_loopback'
  | 'unresolvable_host'
  | 'remote_file'
  | 'unsupported_scheme'
  | 'invalid_endpoint';

export interface EgressVerdict {
  endpoint: string;
  allowed: boolean;
  reason: EgressVerdictReason;
  /** Addresses the host name resolved to (when it was resolved). */
  addresses?: string[];
  /** What an operator can do about a blocked endpoint. */
  remediation?: string;
}

export interface EgressPolicy {
  /** Sealed installation: only loopback, local files and allowlisted endpoints. Default: `STELLA_SEALED=1`. */
  sealed?: boolean;
  /**
   * Endpoints that may be used even when sealed: a host name or address (`collector.local`,
   * `10.0.0.5`, `[fd00::1]`) or an origin (`https://otel.corp:4318`). Matching is exact and
   * case-insensitive. Default: none.
   */
  allowlist?: string[];
  /** Host name resolution; injectable for tests. Default: `dns.lookup` with `all: true`. */
  resolve?: (host: string) => Promise<string[]>;
}

/**
 * Whether `STELLA_SEALED` seals the host. The words are the service's (`1`, `true`, `yes`, `on`
 * seal; `0`, `false`, `no`, `off` or unset do not, any case), so the service and every process
 * on the host agree; any other value seals (fail closed), where the service refuses to start.
 */
export function sealedFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env['STELLA_SEALED'] ?? '').trim();
  return !/^(0|false|no|off)?$/i.test(v);
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const v = isIP(a);
  if (v === 4) return a.startsWith('127.');
  if (v === 6) {
    if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
    const dotted = /^(?:0{0,4}:){0,5}(?:::)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (dotted) return isLoopbackAddress(dotted[1] as string);
    // The URL parser normalises ::ffff:127.0.0.1 to ::ffff:7f00:1.
    const hex = /^(?:0{0,4}:){0,5}(?:::)?ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(a);
    return hex ? parseInt(hex[1] as string, 16) >> 8 === 127 : false;
  }
  return false;
}

async function defaultResolve(host: string): Promise<string[]> {
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
}

const REMEDIATION =
  'point the exporter at a loopback collector (e.g. http://127.0.0.1:4318) or a local file: URL, ' +
  'or add the endpoint to the sealed-mode egress allowlist (telemetry policy `egress.allowlist`) if it is inside the enclave';

function allowlisted(url: URL, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return false;
  const host = url.hostname.toLowerCase();
  const bareHost = host.replace(/^\[|\]$/g, '');
  // Not `url.origin`: it is "null" for grpc: and file: URLs, which an entry "null" would match.
  const origin = `${url.protocol}//${url.host}`.toLowerCase();
  return allowlist.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/\/+$/, '');
    return e === host || e === bareHost || e === `${host}:${url.port}` || (e.includes('://') && originOf(e) === origin);
  });
}

/** `scheme://host[:port]` of an origin entry, the default port dropped as the URL parser does. */
function originOf(entry: string): string | undefined {
  try {
    const u = new URL(entry);
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

/**
 * Decides whether an exporter may send to `endpoint`. Never throws: an endpoint that cannot
 * be parsed is blocked with reason `invalid_endpoint` when sealed.
 */
export async function checkEgress(endpoint: string, policy: EgressPolicy = {}): Promise<EgressVerdict> {
  const sealed = policy.sealed ?? sealedFromEnv();
  if (!sealed) return { endpoint, allowed: true, reason: 'not_sealed' };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { endpoint, allowed: false, reason: 'invalid_endpoint', remediation: REMEDIATION };
  }
  const shown = redactUserinfo(url);
  if (url.protocol === 'file:') {
    // file:///var/spool/otel is local; file://fileserver/share is an SMB/NFS path, i.e. egress.
    const host = url.hostname.toLowerCase();
    if (host === '' || host === 'localhost') return { endpoint: shown, allowed: true, reason: 'local_file' };
    if (allowlisted(url, policy.allowlist ?? [])) return { endpoint: shown, allowed: true, reason: 'allowlisted' };
    return { endpoint: shown, allowed: false, reason: 'remote_file', remediation: REMEDIATION };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'grpc:') {
    return { endpoint: shown, allowed: false, reason: 'unsupported_scheme', remediation: REMEDIATION };
  }
  if (allowlisted(url, policy.allowlist ?? [])) return { endpoint: shown, allowed: true, reason: 'allowlisted' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    return isLoopbackAddress(host)
      ? { endpoint: shown, allowed: true, reason: 'loopback', addresses: [host] }
      : { endpoint: shown, allowed: false, reason: 'non_loopback_address', addresses: [host], remediation: REMEDIATION };
  }
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? defaultResolve)(host);
  } catch {
    return { endpoint: shown, allowed: false, reason: 'unresolvable_host', remediation: REMEDIATION };
  }
  if (addresses.length > 0 && addresses.every(isLoopbackAddress)) {
    return { endpoint: shown, allowed: true, reason: 'loopback', addresses };
  }
  return {
    endpoint: shown,
    allowed: false,
    reason: addresses.length === 0 ? 'unresolvable_host' : 'resolves_non_loopback',
    addresses,
    remediation: REMEDIATION,
  };
}

/** Endpoint as shown in warnings: credentials in the URL never reach a log line. */
function redactUserinfo(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}
