/**
 * Cardinality guard (CORE-6): a metric may hold at most `maxSeriesPerMetric` label sets, and
 * one tenant at most `maxSeriesPerTenant` of them, so a tenant sending ten thousand route
 * variants cannot blow up the metrics bill for everyone. Label sets beyond a cap are folded
 * into a single `otel.metric.overflow="true"` series and counted per metric and reason.
 *
 * Label values are scrubbed here first (CORE-2), so a secret or an e-mail address never becomes
 * a label and the caps count series as they will be exported: two different tokens in one
 * label are one `[REDACTED:…]` series, not two.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { resolvePolicy, type CompiledScrubPolicy, type ScrubPolicy } from '../scrub/policy.js';
import { scrubKeyValue } from '../scrub/scrub-value.js';
import { scrubTextCompiled } from '../scrub/scrub-text.js';

export const OVERFLOW_ATTRIBUTES: Readonly<Attributes> = Object.freeze({ 'otel.metric.overflow': 'true' });
export const OVERFLOW_KEY = 'otel.metric.overflow=true';

export interface CardinalityLimits {
  /** Label sets per metric. Default 2000 (the SDK's own default limit). */
  maxSeriesPerMetric?: number;
  /** Label sets per tenant within one metric. Default 200. */
  maxSeriesPerTenant?: number;
  /** Attribute that names the tenant. Default `stella.tenant_id`. */
  tenantAttribute?: string;
}

/**
 * `unscrubbable`: a label value had to be scrubbed but the attributes object passed in is
 * frozen, so the recording goes to the overflow series rather than out with the value.
 */
export type OverflowReason = 'metric_limit' | 'tenant_limit' | 'unscrubbable';

/** Scrubbed label values remembered per guard; label values are few by design. */
const LABEL_MEMO_LIMIT = 4096;
/** Longer values are scrubbed each time rather than kept alive in the memo. */
const LABEL_MEMO_MAX_LENGTH = 1024;
/** Shorter strings cannot hold anything the scrubber redacts (its own lower bound). */
const LABEL_MIN_SCRUB_LENGTH = 5;
/**
 * Tenant the label policy scrubs for. No grant names it, so a deep-debug opt-in never relaxes a
 * label: a label outlives the grant in every series it created, and the memo must not depend on
 * the tenant of the call that filled it.
 */
const NO_DEEP_DEBUG_TENANT = '\u0000metric-labels';

const KEY_PASS = 0; // allowlisted: the value is the label
const KEY_SCAN = 1; // the value is scrubbed as text
const KEY_REDACT = 2; // a key rule matches: the value becomes a marker
const KEY_URL_PATH = 3; // the value is a URL path: scrubbed as text, but not as a file path
type KeyClass = typeof KEY_PASS | typeof KEY_SCAN | typeof KEY_REDACT | typeof KEY_URL_PATH;

/**
 * Labels holding URL paths (OpenTelemetry HTTP conventions). `/data/:id` or `/work/:id` is a
 * route, not a file under a well-known root, so the file-path rule must not take it; ids,
 * tokens and e-mail addresses in its segments are still redacted.
 */
const URL_PATH_KEYS: ReadonlySet<string> = new Set(['http.route', 'url.path', 'url.template', 'http.target']);
const MARKER_CLASSES = /\[REDACTED:([a-z0-9-]+)/g;

function markerClasses(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(MARKER_CLASSES)) out.add(m[1]!);
  return out;
}

function labelPolicyOf(policy: ScrubPolicy | CompiledScrubPolicy | undefined): CompiledScrubPolicy {
  return { ...resolvePolicy(policy), tenantId: NO_DEEP_DEBUG_TENANT };
}

/** Stable key of an attribute set (sorted, so call-site key order does not split series). */
export function attributesKey(attrs: Attributes): string {
  const keys = Object.keys(attrs);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let out = '';
  for (const k of keys) {
    const v = attrs[k];
    if (v === undefined) continue;
    out += `${k}=${Array.isArray(v) ? v.join(',') : String(v)}\u0001`;
  }
  return out;
}

export class CardinalityGuard {
  private readonly series = new Map<string, Set<string>>();
  private readonly tenantSeries = new Map<string, Map<string, number>>();
  private readonly overflows = new Map<string, number>();
  private readonly maxPerMetric: number;
  private readonly maxPerTenant: number;
  private readonly tenantAttribute: string;
  private labelPolicy: CompiledScrubPolicy;
  private readonly keyClasses = new Map<string, KeyClass>();
  /** Raw label value → scrubbed value (the same string when clean), under text rules. */
  private readonly scanned = new Map<string, string>();
  /** Raw URL path → scrubbed path. */
  private readonly urlPaths = new Map<string, string>();
  /** Raw label value → marker, under a key rule (keyed-hash markers depend on the value). */
  private readonly redacted = new Map<string, AttributeValue>();

  /** `scrub` is the policy label values are scrubbed with. Default: the built-in policy. */
  constructor(limits: CardinalityLimits = {}, scrub?: ScrubPolicy | CompiledScrubPolicy) {
    this.maxPerMetric = limits.maxSeriesPerMetric ?? 2000;
    this.maxPerTenant = limits.maxSeriesPerTenant ?? 200;
    this.tenantAttribute = limits.tenantAttribute ?? 'stella.tenant_id';
    this.labelPolicy = labelPolicyOf(scrub);
  }

  /**
   * Replaces the policy label values are scrubbed with (a telemetry policy reload). Later
   * recordings use it; series already recorded keep their labels.
   */
  setScrubPolicy(scrub: ScrubPolicy | CompiledScrubPolicy): void {
    this.labelPolicy = labelPolicyOf(scrub);
    this.keyClasses.clear();
    this.scanned.clear();
    this.urlPaths.clear();
    this.redacted.clear();
  }

  /**
   * `attrs` with every label value scrubbed: allowlisted keys pass, a key rule gives a marker,
   * other string values go through the text rules. Returns `attrs` itself when nothing changed
   * (no allocation); results are memoised per value, so a repeated label costs a map lookup.
   */
  scrubLabels(attrs: Attributes): Attributes {
    let out: Attributes | undefined;
    for (const key in attrs) {
      const value = attrs[key];
      if (value === undefined || typeof value === 'number' || typeof value === 'boolean') continue;
      const next = this.scrubLabel(key, value);
      if (next !== value) {
        out ??= { ...attrs };
        out[key] = next;
      }
    }
    return out ?? attrs;
  }

  /**
   * True if the label set may be recorded; false means: record it as the overflow series.
   * Label values are scrubbed first (see `scrubLabels`) and the caps count the scrubbed set.
   * Callers record `attrs` itself, so a value that must change is replaced in `attrs`; `key`
   * is recomputed then.
   */
  admit(metric: string, key: string, attrs: Attributes): boolean {
    const scrubbed = this.scrubLabels(attrs);
    if (scrubbed !== attrs) {
      if (Object.isFrozen(attrs)) return this.overflow(metric, 'unscrubbable');
      for (const k in scrubbed) attrs[k] = scrubbed[k];
      key = attributesKey(attrs);
    }
    let known = this.series.get(metric);
    if (known === undefined) {
      known = new Set();
      this.series.set(metric, known);
    }
    if (known.has(key)) return true;
    // The overflow series itself takes one slot of the metric's budget.
    if (known.size >= this.maxPerMetric - 1) return this.overflow(metric, 'metric_limit');
    const tenant = attrs[this.tenantAttribute];
    if (typeof tenant === 'string') {
      let perTenant = this.tenantSeries.get(metric);
      if (perTenant === undefined) {
        perTenant = new Map();
        this.tenantSeries.set(metric, perTenant);
      }
      const n = perTenant.get(tenant) ?? 0;
      if (n >= this.maxPerTenant) return this.overflow(metric, 'tenant_limit');
      perTenant.set(tenant, n + 1);
    }
    known.add(key);
    return true;
  }

  /** Overflowed recordings, keyed `metric|reason`. */
  overflowCounts(): ReadonlyMap<string, number> {
    return this.overflows;
  }

  private scrubLabel(key: string, value: AttributeValue): AttributeValue {
    let cls = this.keyClasses.get(key);
    if (cls === undefined) cls = this.classify(key);
    if (cls === KEY_PASS) return value;
    if (cls === KEY_REDACT) return this.redact(key, value);
    if (typeof value === 'string') return cls === KEY_URL_PATH ? this.scanUrlPath(value) : this.scan(value);
    if (!Array.isArray(value)) return value;
    let out: (string | null | undefined)[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const next = typeof item === 'string' ? this.scan(item) : item;
      if (next !== item) {
        out ??= (value as (string | null | undefined)[]).slice();
        out[i] = next as string;
      }
    }
    return out ?? value;
  }

  private scan(value: string): string {
    if (value.length < LABEL_MIN_SCRUB_LENGTH) return value;
    const memo = this.scanned.get(value);
    if (memo !== undefined) return memo;
    const scrubbed = scrubTextCompiled(value, this.labelPolicy);
    if (this.scanned.size < LABEL_MEMO_LIMIT && value.length <= LABEL_MEMO_MAX_LENGTH) this.scanned.set(value, scrubbed);
    return scrubbed;
  }

  private scanUrlPath(value: string): string {
    if (value.length < LABEL_MIN_SCRUB_LENGTH) return value;
    const memo = this.urlPaths.get(value);
    if (memo !== undefined) return memo;
    const scrubbed = this.urlPathScrubbed(value);
    if (this.urlPaths.size < LABEL_MEMO_LIMIT && value.length <= LABEL_MEMO_MAX_LENGTH) this.urlPaths.set(value, scrubbed);
    return scrubbed;
  }

  /**
   * The whole path through the text rules; where the file-path rule fired, segment by segment
   * instead — unless the whole path held something the segments alone do not show (a secret
   * with a `/` in it), in which case the whole-path result stands.
   */
  private urlPathScrubbed(value: string): string {
    const whole = scrubTextCompiled(value, this.labelPolicy);
    if (whole === value || !whole.includes('[REDACTED:path')) return whole;
    const bySegment = value
      .split('/')
      .map((segment) => scrubTextCompiled(segment, this.labelPolicy))
      .join('/');
    const found = markerClasses(bySegment);
    for (const cls of markerClasses(whole)) if (cls !== 'path' && !found.has(cls)) return whole;
    return bySegment;
  }

  private redact(key: string, value: AttributeValue): AttributeValue {
    if (typeof value !== 'string') return scrubKeyValue(key, value, this.labelPolicy) as AttributeValue;
    const memo = this.redacted.get(value);
    if (memo !== undefined) return memo;
    const marker = scrubKeyValue(key, value, this.labelPolicy) as AttributeValue;
    if (this.redacted.size < LABEL_MEMO_LIMIT && value.length <= LABEL_MEMO_MAX_LENGTH) this.redacted.set(value, marker);
    return marker;
  }

  /** The scrubber's key rules, decided once per label key. */
  private classify(key: string): KeyClass {
    const lower = key.toLowerCase();
    const policy = this.labelPolicy;
    // The tenant label is an identifier, allowlisted like `tenant_id` in logs.
    const cls: KeyClass = policy.allowKeys.has(lower) || key === this.tenantAttribute
      ? KEY_PASS
      : policy.redactKeys.some((needle) => lower.includes(needle))
        ? KEY_REDACT
        : URL_PATH_KEYS.has(lower)
          ? KEY_URL_PATH
          : KEY_SCAN;
    if (this.keyClasses.size < LABEL_MEMO_LIMIT) this.keyClasses.set(key, cls);
    return cls;
  }

  private overflow(metric: string, reason: OverflowReason): false {
    const k = `${metric}|${reason}`;
    this.overflows.set(k, (this.overflows.get(k) ?? 0) + 1);
    return false;
  }
}
