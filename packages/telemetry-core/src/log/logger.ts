/**
 * The one logger facade for StellaOps services (CORE-1, CORE-2): pino underneath, NDJSON out,
 * the fixed fields filled from the active context, and every field and message scrubbed
 * inside the library rather than at call sites.
 *
 * Per line, the facade writes the JSON members itself — timestamp, identity, context, child
 * bindings, the call-site fields and the message — scrubbing each value while serialising it
 * (`JsonMemberWriter`), and hands them to pino through its timestamp hook. pino adds the level,
 * closes the line and writes it; it never walks the record again.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { context as otelContext, INVALID_TRACEID, trace, type Context } from '@opentelemetry/api';
import { CONTEXT_FIELDS, currentFields, currentParentSpanId, renderSlotOf, type TelemetryContext } from '../context/context.js';
import {
  compileScrubPolicy,
  isDeepDebugActive,
  onDeepDebugChange,
  scrubText,
  scrubValue,
  type CompiledScrubPolicy,
  type ScrubPolicy,
} from '../scrub/index.js';
import { JsonMemberWriter } from '../scrub/scrub-json.js';
import { breadcrumbsEnabled } from './breadcrumbs.js';
import { foldError, isError } from './fold-error.js';
import { LEVELS, isLevelName, type LevelName } from './fields.js';
import { LineBuffer } from './line-buffer.js';
import { dispatchToSinks, type LogSink } from './sinks.js';

export interface LoggerOptions {
  /** Service name written on every line (`service`). Required. */
  service: string;
  /** Service version (`version`). Default: `STELLA_VERSION` env or omitted. */
  version?: string;
  /** Deployment environment (`env`). Default: `STELLA_ENV` env or omitted. */
  env?: string;
  /** Region (`region`). Default: `STELLA_REGION` env or omitted. */
  region?: string;
  /** Instance id (`instance_id`). Default: `STELLA_INSTANCE_ID` env, else hostname-pid. */
  instanceId?: string;
  /** Minimum level. Default: `STELLA_LOG_LEVEL` env, else `info`. */
  level?: LevelName;
  /**
   * Where lines go: a writable stream or a file descriptor. Default: stdout (fd 1). Lines for a
   * file descriptor are written in batches within 20 ms, warnings and errors at once, whatever
   * waits when the process exits on its way out (`flush()` writes the rest now).
   */
  destination?: DestinationStream | NodeJS.WritableStream | number;
  /** Repository root: absolute paths inside it are kept repo-relative, others redacted. Default: none. */
  repoRoot?: string;
  /** Scrub policy (allowlist, extra key rules, keyed-hash mode). Default: the built-in policy. */
  scrub?: ScrubPolicy;
  /**
   * Sinks of this logger only (a telemetry instance's `logSink`, see `createTelemetry`), besides
   * the process-wide ones of `addLogSink`. Default none.
   */
  sinks?: readonly LogSink[];
}

type LogFn = {
  (msg: string, ...args: unknown[]): void;
  (obj: object | Error | null | undefined, msg?: string, ...args: unknown[]): void;
};

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose lines also carry `bindings` (scrubbed once, here). */
  child(bindings: Record<string, unknown>): Logger;
  /** The current minimum level; assignable. */
  level: LevelName;
  isLevelEnabled(level: LevelName): boolean;
  /** Flushes buffered output (no-op for synchronous destinations). */
  flush(): void;
  readonly service: string;
}

interface Shared {
  threshold: number;
  level: LevelName;
  /** The policy in force (the telemetry policy file's, for a logger that follows it). */
  policy: CompiledScrubPolicy;
  /** The logger's own policy: from its options, or the built-in one. */
  readonly ownPolicy: CompiledScrubPolicy;
  readonly service: string;
  /** Writes scrubbed members; its bits are the context keys (`KEY_BITS`). */
  writer: JsonMemberWriter;
  context: ContextFragments;
  /** The identity fields before scrubbing. */
  readonly identityFields: Record<string, string>;
  /** `,"service":…` and the rest of the identity, scrubbed once per policy. */
  identity: string;
  /** `,"ts":"…"` and the identity for the millisecond `prefixMs` (see `tsAndIdentity`). */
  prefixMs: number;
  prefix: string;
}

/**
 * The context part of a line, as a JSON fragment, so per-line work stays close to plain
 * pino's. Keys the call site or a child binding sets itself are left out (theirs wins and a
 * line never carries a key twice); which keys those are is a bit mask. The scrubbed fields part
 * is cached in the fields object's render slot (the object is frozen and shared by every
 * context that only changed its span), and the whole fragment, trace ids included, for the
 * last context seen.
 */
class ContextFragments {
  // The last context rendered: a service writes several lines per request, in one context.
  private lastCtx: Context | undefined;
  private lastMask = 0;
  private lastText = '';
  /** Whether the last fields part may be reused (not rendered under a deep-debug opt-in). */
  private cacheable = false;

  constructor(private readonly writer: JsonMemberWriter) {}

  get(ctx: Context, mask: number): string {
    if (ctx === this.lastCtx && mask === this.lastMask) return this.lastText;
    const text = this.fieldsPart(currentFields(ctx), mask) + traceIdsPart(ctx, mask);
    this.lastCtx = this.cacheable ? ctx : undefined;
    this.lastMask = mask;
    this.lastText = text;
    return text;
  }

  private fieldsPart(fields: Readonly<TelemetryContext>, mask: number): string {
    this.cacheable = true;
    const slot = renderSlotOf(fields);
    if (!slot) return ''; // no fields set in this context
    if (slot.owner === this && slot.mask === mask) return slot.text;
    let out = '';
    for (let i = 0; i < CONTEXT_FIELDS.length; i++) {
      const value = fields[CONTEXT_FIELDS[i]!];
      if (value !== undefined && (mask & CONTEXT_BITS[i]!) === 0) out += this.writer.member(CONTEXT_FIELDS[i]!, value);
    }
    // A fragment rendered under a deep-debug opt-in must not outlive the opt-in.
    if (!fields.tenant_id || !isDeepDebugActive(fields.tenant_id)) {
      slot.owner = this;
      slot.mask = mask;
      slot.text = out;
    } else {
      this.cacheable = false;
    }
    return out;
  }
}

/** Trace ids come from the SDK, our id minting or the W3C propagator: already validated hex. */
function traceIdsPart(ctx: Context, mask: number): string {
  const sc = trace.getSpanContext(ctx);
  if (!sc || sc.traceId === INVALID_TRACEID) return '';
  let out = '';
  if ((mask & TRACE_BIT) === 0) out += `,"trace_id":"${sc.traceId}"`;
  if ((mask & SPAN_BIT) === 0) out += `,"span_id":"${sc.spanId}"`;
  const parent = currentParentSpanId(ctx);
  if (parent && (mask & PARENT_BIT) === 0) out += `,"parent_span_id":"${parent}"`;
  return out;
}

const KEY_BITS = new Map<string, number>([...CONTEXT_FIELDS, 'trace_id', 'span_id', 'parent_span_id'].map((k, i) => [k, 1 << i]));
const CONTEXT_BITS = CONTEXT_FIELDS.map((k) => KEY_BITS.get(k)!);
const TRACE_BIT = KEY_BITS.get('trace_id')!;
const SPAN_BIT = KEY_BITS.get('span_id')!;
const PARENT_BIT = KEY_BITS.get('parent_span_id')!;
const bitOfKey = (key: string): number => KEY_BITS.get(key) ?? 0;

/** Keys pino treats as options in child bindings; never written as fields. */
const BINDING_OPTION_KEYS = new Set(['level', 'serializers', 'formatters', 'customLevels']);

/** `,"ts":"…"` and the identity members, built at most once per millisecond per logger. */
function tsAndIdentity(shared: Shared): string {
  const now = Date.now();
  if (now !== shared.prefixMs) {
    shared.prefixMs = now;
    shared.prefix = `,"ts":"${isoAt(now)}"${shared.identity}`;
  }
  return shared.prefix;
}

/** ISO timestamps, formatted at most once per millisecond. */
let lastMs = -1;
let lastIso = '';
function isoAt(now: number): string {
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function toDestination(dest: LoggerOptions['destination']): DestinationStream {
  if (dest === undefined) return new LineBuffer(1);
  if (typeof dest === 'number') return new LineBuffer(dest);
  return dest as DestinationStream;
}

function compact(record: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

class StellaLogger implements Logger {
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;

  constructor(
    private readonly base: PinoLogger,
    private readonly shared: Shared,
    /** Child bindings as scrubbed JSON members, and the context keys they set. */
    private readonly bindings = '',
    private readonly bindingMask = 0,
  ) {
    this.trace = this.method(LEVELS.trace, 'trace');
    this.debug = this.method(LEVELS.debug, 'debug');
    this.info = this.method(LEVELS.info, 'info');
    this.warn = this.method(LEVELS.warn, 'warn');
    this.error = this.method(LEVELS.error, 'error');
    this.fatal = this.method(LEVELS.fatal, 'fatal');
  }

  get service(): string {
    return this.shared.service;
  }

  get level(): LevelName {
    return this.shared.level;
  }

  set level(level: LevelName) {
    if (!isLevelName(level)) throw new TypeError(`unknown log level "${String(level)}"`);
    this.shared.level = level;
    this.shared.threshold = LEVELS[level];
  }

  isLevelEnabled(level: LevelName): boolean {
    return LEVELS[level] >= this.shared.threshold;
  }

  child(bindings: Record<string, unknown>): Logger {
    const own: Record<string, unknown> = {};
    for (const key of Object.keys(bindings ?? {})) if (!BINDING_OPTION_KEYS.has(key)) own[key] = bindings[key];
    const writer = this.shared.writer;
    const members = writer.members(own);
    return new StellaLogger(this.base, this.shared, this.bindings + members, this.bindingMask | writer.mask);
  }

  flush(): void {
    this.base.flush();
  }

  private method(num: number, name: LevelName): LogFn {
    const shared = this.shared;
    const base = this.base;
    const write = base[name] as (...a: unknown[]) => void;
    const bindings = this.bindings;
    const bindingMask = this.bindingMask;
    // A plain function (not an arrow) so `arguments` avoids a rest array on the hot path.
    return function log(): void {
      if (num < shared.threshold && !breadcrumbsEnabled(currentFields().tenant_id, shared.service)) return;
      try {
        // eslint-disable-next-line prefer-rest-params
        const args = arguments as ArrayLike<unknown>;
        const first = args[0];
        let fields = '';
        let mask = bindingMask;
        let msg: unknown;
        let formatFrom: number; // where printf-style arguments start
        if (typeof first === 'string') {
          msg = first;
          formatFrom = 1;
        } else if (first === null || first === undefined || typeof first === 'object') {
          const obj = foldObject(first, args[1], shared.policy);
          msg = foldedMsg; // before scrubbing the fields, which may log (a deep-debug expiry)
          if (typeof obj === 'object' && obj !== null) {
            fields = shared.writer.members(obj);
            mask |= shared.writer.mask;
          }
          formatFrom = 2;
        } else {
          msg = first; // a number or the like as the message: pino writes it as it is
          formatFrom = 1;
        }
        const head = tsAndIdentity(shared) + shared.context.get(otelContext.active(), mask) + bindings + fields;
        if (args.length <= formatFrom && (msg === undefined || typeof msg === 'string')) {
          const line = msg === undefined ? head : head + shared.writer.textMember('msg', msg as string);
          emit(num, line, write, base);
          return;
        }
        // printf-style arguments: pino formats the scrubbed message with the scrubbed arguments.
        const rest: unknown[] = [NO_FIELDS, scrubArg(msg, shared.policy)];
        for (let i = formatFrom; i < args.length; i++) rest.push(scrubArg(args[i], shared.policy));
        pendingLevel = num;
        pendingLine = head;
        write.apply(base, rest);
      } catch {
        // Logging never fails the caller (a hostile toJSON, a closed stream, ...).
      }
    } as LogFn;
  }
}

/** The record handed to pino: its members are already in the line (see `pendingLine`). */
const NO_FIELDS = Object.freeze({});

/** Level of the line being written, read by the destination wrapper for sinks. */
let pendingLevel = LEVELS.info as number;
/**
 * The members of the line being written, from `"ts"` on, handed to pino through its timestamp
 * hook. Set just before pino's write, after everything that could log (scrubbing may report a
 * deep-debug expiry), and taken once.
 */
let pendingLine = '';

function takePendingLine(): string {
  const line = pendingLine;
  pendingLine = '';
  return line;
}

function emit(num: number, line: string, write: (...a: unknown[]) => void, base: PinoLogger): void {
  pendingLevel = num;
  pendingLine = line;
  write.call(base, NO_FIELDS);
}

/** The message `foldObject` settled on (kept apart so a line allocates no result pair). */
let foldedMsg: unknown;

/** Folds an error passed as the object or under `err`/`error`; returns the object to log (message: `foldedMsg`). */
function foldObject(first: unknown, msg: unknown, policy: CompiledScrubPolicy): unknown {
  foldedMsg = msg;
  if (isError(first)) {
    const folded = foldError(first, policy);
    if (msg === undefined) foldedMsg = folded.error_message;
    return folded;
  }
  if (first && typeof first === 'object') {
    const record = first as Record<string, unknown>;
    const errKey = isError(record['err']) ? 'err' : isError(record['error']) ? 'error' : undefined;
    if (errKey) {
      const folded = foldError(record[errKey] as Error, policy);
      const { [errKey]: _omit, ...restFields } = record;
      const details = { ...(restFields['details'] as object | undefined), ...folded.details };
      if (msg === undefined) foldedMsg = folded.error_message;
      return { ...restFields, error_code: folded.error_code, error_message: folded.error_message, details };
    }
  }
  return first;
}

function scrubArg(a: unknown, policy: CompiledScrubPolicy): unknown {
  return typeof a === 'string' ? scrubText(a, policy) : a;
}

let defaultLogger: Logger | undefined;
let unsubscribeDeepDebug: (() => void) | undefined;

/** Creates a logger. The first logger created becomes the process default (see `getDefaultLogger`). */
export function createLogger(options: LoggerOptions): Logger {
  if (!options || typeof options.service !== 'string' || options.service.length === 0) {
    throw new TypeError('createLogger: options.service (the service name) is required');
  }
  const envLevel = process.env['STELLA_LOG_LEVEL'];
  const level: LevelName = options.level ?? (isLevelName(envLevel) ? envLevel : 'info');
  if (!isLevelName(level)) throw new TypeError(`createLogger: unknown level "${String(level)}"`);
  const policy = compileScrubPolicy({ ...options.scrub, repoRoot: options.repoRoot ?? options.scrub?.repoRoot });
  const dest = toDestination(options.destination);
  const own = options.sinks ?? [];
  const sinkingDest: DestinationStream = {
    write(line: string) {
      const level = pendingLevel; // a sink may log in turn
      dest.write(line);
      // Warnings and errors leave the buffer at once (see line-buffer.ts).
      if (level >= 40 && dest instanceof LineBuffer) dest.flush();
      dispatchToSinks(line, level);
      for (const sink of own) {
        if (level < sink.minLevel) continue;
        try {
          sink.write(line, level);
        } catch {
          // A sink's failure is its own to count; it never reaches the caller.
        }
      }
    },
  };
  const identity = compact({
    service: options.service,
    version: options.version ?? process.env['STELLA_VERSION'],
    env: options.env ?? process.env['STELLA_ENV'],
    region: options.region ?? process.env['STELLA_REGION'],
    instance_id: options.instanceId ?? process.env['STELLA_INSTANCE_ID'] ?? `${process.env['HOSTNAME'] ?? 'local'}-${process.pid}`,
  });
  const base = pino(
    {
      // pino filters nothing; the facade filters, so incident breadcrumbs can lower the bar per tenant.
      level: 'trace',
      base: undefined,
      messageKey: 'msg',
      // The facade's members of the line, `"ts"` first, so lines read in the CORE-1 field order.
      timestamp: takePendingLine,
      formatters: {
        level: (label) => ({ level: label }),
      },
    },
    Object.assign(sinkingDest, { flush: () => (dest as { flush?: () => void }).flush?.() }),
  );
  // A logger without a policy of its own follows the telemetry policy file while one is in force.
  const follows = options.scrub === undefined && options.repoRoot === undefined;
  const shared = {
    threshold: LEVELS[level],
    level,
    ownPolicy: policy,
    service: options.service,
    identityFields: identity,
    prefixMs: -1,
    prefix: '',
  } as Shared;
  usePolicy(shared, follows && telemetryPolicy ? telemetryPolicy : policy);
  if (follows) followers.add(new WeakRef(shared));
  const logger = new StellaLogger(base, shared);
  if (!defaultLogger) setDefaultLogger(logger);
  return logger;
}

/** Loggers that follow the telemetry policy (weakly held: a dropped logger is not kept alive). */
const followers = new Set<WeakRef<Shared>>();
let telemetryPolicy: CompiledScrubPolicy | undefined;

function usePolicy(shared: Shared, policy: CompiledScrubPolicy): void {
  shared.policy = policy;
  shared.writer = new JsonMemberWriter(policy, bitOfKey);
  // New fragments: context parts rendered under the previous policy are not reused.
  shared.context = new ContextFragments(shared.writer);
  const scrubbed = scrubValue(shared.identityFields, policy) as Record<string, string>;
  shared.identity = Object.entries(scrubbed)
    .map(([k, v]) => `,"${k}":${JSON.stringify(v)}`)
    .join('');
  shared.prefixMs = -1;
}

/**
 * Applies the telemetry policy file's scrub policy to every logger created without a `scrub`
 * or `repoRoot` option, now and as loggers are created (`initTelemetry` calls it at start and
 * on each reload); `undefined` returns them to their own policy. Child bindings keep the form
 * they were scrubbed to when the child was made.
 */
export function setTelemetryScrubPolicy(policy: CompiledScrubPolicy | undefined): void {
  telemetryPolicy = policy;
  for (const ref of followers) {
    const shared = ref.deref();
    if (shared === undefined) followers.delete(ref);
    else usePolicy(shared, policy ?? shared.ownPolicy);
  }
}

/** Makes `logger` the process default used by `logDecision` and library-internal notices. */
export function setDefaultLogger(logger: Logger): void {
  defaultLogger = logger;
  unsubscribeDeepDebug?.();
  // Deep-debug opt-ins relax redaction, so each opt-in and its expiry is itself logged once.
  unsubscribeDeepDebug = onDeepDebugChange((event) => {
    logger.warn(
      {
        action: `deep_debug.${event.type}`,
        tenant_id: event.tenantId,
        actor: event.actor,
        details: { reason: event.reason, expires_at: new Date(event.expiresAt).toISOString() },
      },
      `deep-debug ${event.type} for tenant`,
    );
  });
}

export function getDefaultLogger(): Logger {
  return (defaultLogger ??= createLogger({ service: process.env['STELLA_SERVICE'] ?? 'stellaops' }));
}
