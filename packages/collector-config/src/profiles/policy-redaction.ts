/**
 * One policy, two enforcement points: the telemetry policy file that telemetry-core's scrubber
 * applies inside every service, mapped to the Collector's `redaction` processor (and a
 * `transform` processor for the string cap), so telemetry from any source is held to it again
 * at the Collector.
 *
 * The mapping, field by field:
 * - `allowKeys` (+ the built-in allowlist) → `ignored_keys`: values pass untouched, before key
 *   rules and value patterns — as in the library, the allowlist wins.
 * - `redactKeys` (+ the built-in key substrings) → `blocked_key_patterns`, one case-insensitive
 *   pattern per substring: the whole value is masked.
 * - The library's value rules for the classes in `VALUE_RULES` → `blocked_values` (RE2: no
 *   look-around, so each rule is the class's recognisable core; the tests hold every rule to the
 *   library's verdict on generated samples).
 * - `maxStringLength` (default 32768) → `truncate_all` on every attribute map.
 * - `egress.allowlist` → the exporter allowlist (see validate.ts), not a redaction setting.
 * What cannot be expressed is listed in `UNMAPPED_POLICY_BEHAVIOUR`.
 */
import { createHash } from 'node:crypto';
import { BUILT_IN_ALLOW_KEYS, BUILT_IN_MAX_STRING_LENGTH, BUILT_IN_REDACT_KEYS, type TelemetryPolicy } from '@stellaops/telemetry-core/policy';

/** A value rule in Go's RE2 syntax, and the library's redaction class it stands for. */
export interface ValueRule {
  /** telemetry-core's class: the `<class>` of `[REDACTED:<class>]`. */
  cls: string;
  /** RE2; a leading `(?i)` makes it case-insensitive. */
  pattern: string;
}

/**
 * Value rules carried to the Collector: classes whose format is recognisable on its own (a
 * vendor prefix, a fixed shape). The library's context rules — `key=value` pairs in free text,
 * CLI flags, cookie headers, tokens recognised by what precedes them, file paths — need
 * look-around or state and stay in the library.
 */
export const VALUE_RULES: readonly ValueRule[] = Object.freeze([
  { cls: 'private-key', pattern: String.raw`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)` },
  { cls: 'jwt', pattern: String.raw`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*` },
  { cls: 'url-credentials', pattern: String.raw`[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s/?#"'<>\[\]@]+@` },
  { cls: 'bearer', pattern: String.raw`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}=*` },
  { cls: 'email', pattern: String.raw`[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}` },
  { cls: 'aws-access-key', pattern: String.raw`\b(?:A3T[A-Z0-9]|A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA))[A-Z0-9]{16}\b` },
  { cls: 'gcp-api-key', pattern: String.raw`\bAIza[0-9A-Za-z_-]{35}` },
  { cls: 'github-token', pattern: String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b` },
  { cls: 'gitlab-token', pattern: String.raw`\bgl(?:pat|dt|rt|ptt|cbt|ft|imt|oas|soat|ffct|agent)-[A-Za-z0-9_.-]{20,}` },
  { cls: 'slack-token', pattern: String.raw`\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})` },
  { cls: 'stripe-key', pattern: String.raw`\b(?:(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})` },
  { cls: 'npm-token', pattern: String.raw`\bnpm_[A-Za-z0-9]{36}\b` },
  { cls: 'vault-token', pattern: String.raw`\bhv[sbr]\.[A-Za-z0-9_-]{24,}` },
]);

/** What the Collector cannot do of the policy, in the words the docs use. */
export const UNMAPPED_POLICY_BEHAVIOUR: readonly string[] = Object.freeze([
  'allowKeys match case-insensitively in the library; ignored_keys match exact case, so a key written in other case is checked like any other key (stricter, never weaker)',
  'key rules apply at any depth in the library; the Collector applies them to attribute keys, not to keys inside map-valued attributes',
  'repoRoot: paths inside the repository are kept repo-relative and others redacted by the library only',
  'value rules needing context (key=value in free text, CLI flags, cookie headers, tokens recognised by what precedes them, file paths) stay in the library',
  'masked values read **** (the library writes [REDACTED:<class>]); the keyed-hash mode takes a secret key that is not part of the policy file',
  'maxStringLength cuts every attribute string, allowlisted ones included, without the library\'s truncation note; log bodies, span names and status messages are scrubbed in the services only',
  'deep debug (a per-tenant, time-boxed relaxation) never applies at the Collector',
]);

/** The Collector-side form of a telemetry policy. */
export interface RedactionMapping {
  /** Built-in allowlist plus the policy's `allowKeys`: lower case, sorted, without repeats. */
  ignoredKeys: string[];
  /** Built-in key substrings plus the policy's `redactKeys`, each as a case-insensitive RE2 pattern; sorted. */
  blockedKeyPatterns: string[];
  /** `VALUE_RULES`, in their order. */
  blockedValues: ValueRule[];
  /** The policy's `maxStringLength`, else the library's default. */
  maxStringLength: number;
  /** `sha256:<hex>` of the policy as validated (canonical JSON): names the policy a profile enforces. */
  policyDigest: string;
}

/** RE2 and JavaScript agree on these escapes. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `sha256:<hex>` of a policy's canonical JSON. */
export function policyDigest(policy: TelemetryPolicy): string {
  return `sha256:${createHash('sha256').update(canonicalJson(policy)).digest('hex')}`;
}

/** Maps a validated telemetry policy to the Collector's redaction settings. */
export function redactionFromPolicy(policy: TelemetryPolicy): RedactionMapping {
  return {
    ignoredKeys: sortedUnique([...BUILT_IN_ALLOW_KEYS, ...policy.allowKeys].map((k) => k.toLowerCase())),
    blockedKeyPatterns: sortedUnique([...BUILT_IN_REDACT_KEYS, ...policy.redactKeys].map((k) => `(?i)${escapeRegex(k.toLowerCase())}`)),
    blockedValues: VALUE_RULES.map((r) => ({ ...r })),
    maxStringLength: policy.maxStringLength ?? BUILT_IN_MAX_STRING_LENGTH,
    policyDigest: policyDigest(policy),
  };
}
