/**
 * The telemetry policy file (CORE-2, CORE-7): one versioned YAML (or JSON) document with the
 * attribute allowlist the scrubber applies to log fields, span attributes and metric labels,
 * and the endpoints a sealed installation may still export to.
 *
 * ```yaml
 * version: 1
 * allowKeys: [token_count]       # keys whose values pass untouched (added to the built-in list)
 * redactKeys: [ssn]              # extra key substrings whose values are always redacted
 * repoRoot: /srv/stellaops       # absolute paths inside it are kept repo-relative
 * maxStringLength: 32768         # longest string kept (≥ 64)
 * egress:
 *   allowlist: [otel.enclave.corp, "https://10.0.0.5:4318"]
 * ```
 *
 * A scrub-policy file of the earlier format (the same fields without `egress`) is a valid
 * telemetry policy. This module is pure — parsing and validation, node built-ins and `yaml`
 * only — so it is published alone as `@stellaops/telemetry-core/policy` for readers that must
 * not load the SDK (the collector-config renderer).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The only format version so far; a file must say `version: 1`. */
export const TELEMETRY_POLICY_VERSION = 1;

/** Environment variable naming the policy file `initTelemetry` and `createTelemetry` load. */
export const TELEMETRY_POLICY_ENV = 'STELLA_TELEMETRY_POLICY';

/** The policy shipped with the library: the built-in allowlist, no extra rules, no egress. */
export const DEFAULT_TELEMETRY_POLICY_FILE = fileURLToPath(new URL('../../policy/telemetry-policy.default.yaml', import.meta.url));

/**
 * Keys whose values pass untouched whatever the policy file says: identifiers that are never
 * secrets and are hot. A file's `allowKeys` are added to them. Kept here, with the format, so
 * every reader of a policy (the scrubber, the Collector profile renderer) applies the same list.
 */
export const BUILT_IN_ALLOW_KEYS: readonly string[] = Object.freeze([
  'trace_id',
  'span_id',
  'parent_span_id',
  'trace_flags',
  'traceparent',
  'digest',
  'sha256',
  'sha512',
  'image_digest',
  'content_digest',
  'purl',
  'request_id',
  'job_id',
  'run_id',
  'tenant_id',
  'project_id',
  'sbom_id',
  'source_id',
  'policy_version',
  'commit_sha',
  'git_sha',
  'cve_id',
  'ghsa_id',
  'advisory_id',
  'level',
  'time',
  'service',
  'version',
]);

/**
 * Key substrings whose values are redacted whatever they look like (case-insensitive, any
 * depth); a file's `redactKeys` are added to them. `session` covers session ids and tokens;
 * `cookie` covers set-cookie.
 */
export const BUILT_IN_REDACT_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'authorization',
  'cookie',
  'api_key',
  'apikey',
  'api-key',
  'private_key',
  'privatekey',
  'client_secret',
  'credential',
  'session',
]);

/** Default cap on one string when the policy sets no `maxStringLength`. */
export const BUILT_IN_MAX_STRING_LENGTH = 32 * 1024;

/** A policy file as validated. Lists are always present (empty when the file leaves them out). */
export interface TelemetryPolicy {
  version: 1;
  /** Attribute keys (exact, case-insensitive) whose values pass untouched; added to the built-in allowlist. */
  allowKeys: string[];
  /** Extra key substrings (case-insensitive) whose values are always redacted; added to the built-in ones. */
  redactKeys: string[];
  /** Absolute repository root: paths inside it are logged repo-relative, others redacted. */
  repoRoot?: string;
  /** Longest string kept, in UTF-16 code units (integer ≥ 64). */
  maxStringLength?: number;
  egress: {
    /**
     * Endpoints exporters may use in sealed mode besides loopback and local files: a host name
     * (`otel.enclave.corp`), an address (`10.0.0.5`, `fd00::1`, `[fd00::1]`), `host:port`, or
     * an origin (`https://otel.enclave.corp:4318`). Matched exactly, case-insensitive.
     */
    allowlist: string[];
  };
}

export type TelemetryPolicyErrorCode =
  | 'TELEMETRY_POLICY_NOT_FOUND'
  | 'TELEMETRY_POLICY_UNREADABLE'
  | 'TELEMETRY_POLICY_PARSE_FAILED'
  | 'TELEMETRY_POLICY_INVALID';

/** A policy file that cannot be used; `message` names the file and, when one is at fault, the field. */
export class TelemetryPolicyError extends Error {
  override readonly name = 'TelemetryPolicyError';
  readonly code: TelemetryPolicyErrorCode;
  /** The file as given. */
  readonly file: string;
  /** The field at fault, as a path (`egress.allowlist[2]`); undefined for file-level problems. */
  readonly field: string | undefined;
  /** The problem without the file name, e.g. `"maxStringLength" must be an integer ≥ 64`. */
  readonly reason: string;

  constructor(code: TelemetryPolicyErrorCode, file: string, reason: string, options?: { field?: string; cause?: unknown }) {
    super(`telemetry policy ${file}: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = file;
    this.field = options?.field;
    this.reason = reason;
  }
}

const TOP_FIELDS = ['version', 'allowKeys', 'redactKeys', 'repoRoot', 'maxStringLength', 'egress'] as const;
const EGRESS_FIELDS = ['allowlist'] as const;
const MIN_STRING_LENGTH = 64;

function invalid(file: string, field: string | undefined, reason: string): TelemetryPolicyError {
  return new TelemetryPolicyError('TELEMETRY_POLICY_INVALID', file, reason, { field });
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkFields(file: string, record: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw invalid(file, `${prefix}${key}`, `unknown field "${prefix}${key}" (allowed: ${allowed.map((f) => prefix + f).join(', ')})`);
    }
  }
}

function stringList(file: string, value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(file, field, `"${field}" must be a list of non-empty strings`);
  return value.map((item: unknown, i) => {
    if (typeof item !== 'string' || item.trim() === '') {
      throw invalid(file, `${field}[${i}]`, `"${field}" must be a list of non-empty strings (item ${i} is ${JSON.stringify(item) ?? String(item)})`);
    }
    return item.trim();
  });
}

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/i;

function isHostName(host: string): boolean {
  if (host.length > 253 || host === 'null') return false;
  return host.replace(/\.$/, '').split('.').every((label) => HOST_LABEL.test(label));
}

function isHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return isIP(host.slice(1, -1)) === 6;
  return isIP(host) !== 0 || isHostName(host);
}

function isPort(port: string): boolean {
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

const ENTRY_FORMS = 'a host name, an address, host:port or an origin such as https://otel.corp:4318';

/**
 * Why an egress allowlist entry is unusable, or undefined. The forms accepted are exactly those
 * the sealed-mode guard can match (`checkEgress`): it compares host, address, `host:port` and
 * origin — it knows nothing of ranges, wildcards or paths, so those are refused here rather
 * than silently never matching.
 */
export function egressEntryProblem(entry: string): string | undefined {
  const e = entry.trim();
  if (/\s/.test(e)) return `must not contain spaces; use ${ENTRY_FORMS}`;
  if (e.includes('*')) return `wildcards are not supported; list each host (${ENTRY_FORMS})`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(e);
  if (scheme) {
    if (!['http', 'https', 'grpc'].includes(scheme[1]!.toLowerCase())) return `scheme "${scheme[1]}:" is not an exporter scheme (http, https or grpc)`;
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      return `is not a valid URL; use ${ENTRY_FORMS}`;
    }
    if (url.username || url.password) return 'must not carry credentials';
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      return `an origin has no path, query or fragment; use ${url.protocol}//${url.host}`;
    }
    return undefined;
  }
  if (e.includes('/')) {
    return isIP(e.split('/')[0]!) !== 0
      ? 'CIDR ranges are not supported by the egress guard; list each address'
      : `paths are not supported; use ${ENTRY_FORMS}`;
  }
  if (isHost(e)) return undefined;
  const hostPort = /^(\[[^\]]+\]|[^:]+):([^:]*)$/.exec(e);
  if (hostPort) {
    if (!isHost(hostPort[1]!)) return `"${hostPort[1]}" is not ${ENTRY_FORMS}`;
    return isPort(hostPort[2]!) ? undefined : `"${hostPort[2]}" is not a port (1-65535)`;
  }
  return `is not ${ENTRY_FORMS}`;
}

function isAbsolutePath(path: string): boolean {
  return posix.isAbsolute(path) || win32.isAbsolute(path);
}

/**
 * Validates a parsed policy document (what `yaml.parse` or `JSON.parse` returned); `file` names
 * it in errors. Throws TelemetryPolicyError `TELEMETRY_POLICY_INVALID`.
 */
export function validateTelemetryPolicy(doc: unknown, file: string): TelemetryPolicy {
  if (!isMapping(doc)) throw invalid(file, undefined, `expected a mapping with "version: ${TELEMETRY_POLICY_VERSION}"`);
  checkFields(file, doc, TOP_FIELDS, '');
  if (doc['version'] !== TELEMETRY_POLICY_VERSION) {
    throw invalid(file, 'version', `"version" must be ${TELEMETRY_POLICY_VERSION} (got ${JSON.stringify(doc['version']) ?? 'nothing'})`);
  }
  const policy: TelemetryPolicy = {
    version: TELEMETRY_POLICY_VERSION,
    allowKeys: stringList(file, doc['allowKeys'], 'allowKeys'),
    redactKeys: stringList(file, doc['redactKeys'], 'redactKeys'),
    egress: { allowlist: [] },
  };
  const repoRoot = doc['repoRoot'];
  if (repoRoot !== undefined && repoRoot !== null) {
    if (typeof repoRoot !== 'string' || repoRoot.trim() === '') throw invalid(file, 'repoRoot', '"repoRoot" must be a non-empty string');
    if (!isAbsolutePath(repoRoot.trim())) throw invalid(file, 'repoRoot', `"repoRoot" must be an absolute path (got ${JSON.stringify(repoRoot)})`);
    policy.repoRoot = repoRoot.trim();
  }
  const max = doc['maxStringLength'];
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < MIN_STRING_LENGTH) {
      throw invalid(file, 'maxStringLength', `"maxStringLength" must be an integer ≥ ${MIN_STRING_LENGTH} (got ${JSON.stringify(max)})`);
    }
    policy.maxStringLength = max;
  }
  const egress = doc['egress'];
  if (egress !== undefined && egress !== null) {
    if (!isMapping(egress)) throw invalid(file, 'egress', '"egress" must be a mapping with "allowlist"');
    checkFields(file, egress, EGRESS_FIELDS, 'egress.');
    const allowlist = stringList(file, egress['allowlist'], 'egress.allowlist');
    allowlist.forEach((entry, i) => {
      const problem = egressEntryProblem(entry);
      if (problem) throw invalid(file, `egress.allowlist[${i}]`, `"egress.allowlist" item ${i} ${JSON.stringify(entry)}: ${problem}`);
    });
    policy.egress.allowlist = allowlist;
  }
  return policy;
}

/**
 * Parses and validates policy text. JSON when `file` ends in `.json`, YAML otherwise (a superset
 * of JSON). Throws TelemetryPolicyError `TELEMETRY_POLICY_PARSE_FAILED` or `_INVALID`.
 */
export function parseTelemetryPolicy(text: string, file: string): TelemetryPolicy {
  const json = file.toLowerCase().endsWith('.json');
  let doc: unknown;
  try {
    doc = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new TelemetryPolicyError('TELEMETRY_POLICY_PARSE_FAILED', file, `not valid ${json ? 'JSON' : 'YAML'}: ${first}`, { cause: err });
  }
  return validateTelemetryPolicy(doc, file);
}

/** Reads the file's text; throws TelemetryPolicyError `TELEMETRY_POLICY_NOT_FOUND` or `_UNREADABLE`. */
export function readTelemetryPolicyText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TelemetryPolicyError('TELEMETRY_POLICY_NOT_FOUND', file, 'file not found', { cause: err });
    throw new TelemetryPolicyError('TELEMETRY_POLICY_UNREADABLE', file, `cannot read (${code ?? 'error'})`, { cause: err });
  }
}

/** Reads, parses and validates a policy file. Throws TelemetryPolicyError with a `TELEMETRY_POLICY_*` code. */
export function loadTelemetryPolicy(file: string): TelemetryPolicy {
  return parseTelemetryPolicy(readTelemetryPolicyText(file), file);
}

/** The policy that applies without a file: the built-in allowlist, no extra rules, no egress. */
export function emptyTelemetryPolicy(): TelemetryPolicy {
  return { version: TELEMETRY_POLICY_VERSION, allowKeys: [], redactKeys: [], egress: { allowlist: [] } };
}
