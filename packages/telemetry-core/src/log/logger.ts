/**
 * The one logger facade for StellaOps services (CORE-1, CORE-2): pino underneath, NDJSON out,
 * the fixed fields filled from the active context, and every field and message scrubbed
 * inside the library rather than at call sites.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { context as otelContext, trace, type Context } from '@opentelemetry/api';
import { currentFields, currentParentSpanId } from '../context/context.js';
import {
  compileScrubPolicy,
  isDeepDebugActive,
  onDeepDebugChange,
  scrubText,
  scrubValue,
  type CompiledScrubPolicy,
  type ScrubPolicy,
} from '../scrub/index.js';
import { breadcrumbsEnabled } from './breadcrumbs.js';
import { foldError, isError } from './fold-error.js';
import { LEVELS, LOG_FIELDS, isLevelName, type LevelName } from './fields.js';
import { dispatchToSinks } from './sinks.js';

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
  /** Where lines go: a writable stream or a file descriptor. Default: stdout (fd 1), synchronous. */
  destination?: DestinationStream | NodeJS.WritableStream | number;
  /** Repository root: absolute paths inside it are kept repo-relative, others redacted. Default: none. */
  repoRoot?: string;
  /** Scrub policy (allowlist, extra key rules, keyed-hash mode). Default: the built-in policy. */
  scrub?: ScrubPolicy;
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
  readonly policy: CompiledScrubPolicy;
  readonly service: string;
}

/**
 * The context part of a line, as a JSON fragment. It is built and scrubbed once per active
 * OpenTelemetry context (a request or job usually writes many lines in one context) and
 * spliced in after `ts`, so per-line work stays close to plain pino's.
 */
function contextFragment(ctx: Context, policy: CompiledScrubPolicy): string {
  const fields: Record<string, unknown> = { ...currentFields(ctx) };
  const sc = trace.getSpanContext(ctx);
  if (sc && trace.isSpanContextValid(sc)) {
    fields['trace_id'] = sc.traceId;
    fields['span_id'] = sc.spanId;
    const parent = currentParentSpanId(ctx);
    if (parent) fields['parent_span_id'] = parent;
  }
  const scrubbed = scrubValue(fields, policy) as Record<string, unknown>;
  let out = '';
  for (const key of LOG_FIELDS) {
    const value = scrubbed[key];
    if (value !== undefined) out += `,"${key}":${JSON.stringify(value)}`;
  }
  return out;
}

/** ISO timestamps, formatted at most once per millisecond. */
let lastMs = -1;
let lastIso = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function toDestination(dest: LoggerOptions['destination']): DestinationStream {
  if (dest === undefined) return pino.destination({ dest: 1, sync: true });
  if (typeof dest === 'number') return pino.destination({ dest, sync: true });
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
    return new StellaLogger(this.base.child(scrubValue(bindings, this.shared.policy) as Record<string, unknown>), this.shared);
  }

  flush(): void {
    this.base.flush();
  }

  private method(num: number, name: LevelName): LogFn {
    const shared = this.shared;
    const base = this.base;
    return ((first?: unknown, ...rest: unknown[]) => {
      if (num < shared.threshold && !breadcrumbsEnabled(currentFields().tenant_id, shared.service)) return;
      try {
        const args = prepareArgs(first, rest, shared.policy);
        pendingLevel = num;
        (base[name] as (...a: unknown[]) => void)(...args);
      } catch {
        // Logging never fails the caller (a hostile toJSON, a closed stream, ...).
      }
    }) as LogFn;
  }
}

/** Level of the line being written, read by the destination wrapper for sinks. */
let pendingLevel = LEVELS.info as number;

function prepareArgs(first: unknown, rest: unknown[], policy: CompiledScrubPolicy): unknown[] {
  if (typeof first === 'string') {
    return [scrubText(first, policy), ...rest.map((a) => (typeof a === 'string' ? scrubText(a, policy) : a))];
  }
  let obj: unknown = first;
  let msg = rest[0];
  const interp = rest.slice(1).map((a) => (typeof a === 'string' ? scrubText(a, policy) : a));
  if (isError(obj)) {
    const folded = foldError(obj, policy);
    obj = folded;
    if (msg === undefined) msg = folded.error_message;
  } else if (obj && typeof obj === 'object') {
    const record = obj as Record<string, unknown>;
    const errKey = isError(record['err']) ? 'err' : isError(record['error']) ? 'error' : undefined;
    if (errKey) {
      const folded = foldError(record[errKey] as Error, policy);
      const { [errKey]: _omit, ...restFields } = record;
      const details = { ...(restFields['details'] as object | undefined), ...folded.details };
      obj = { ...restFields, error_code: folded.error_code, error_message: folded.error_message, details };
      if (msg === undefined) msg = folded.error_message;
    }
  }
  if (typeof msg === 'string') msg = scrubText(msg, policy);
  return msg === undefined ? [obj] : [obj, msg, ...interp];
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
  const sinkingDest: DestinationStream = {
    write(line: string) {
      dest.write(line);
      dispatchToSinks(line, pendingLevel);
    },
  };
  const identity = compact({
    service: options.service,
    version: options.version ?? process.env['STELLA_VERSION'],
    env: options.env ?? process.env['STELLA_ENV'],
    region: options.region ?? process.env['STELLA_REGION'],
    instance_id: options.instanceId ?? process.env['STELLA_INSTANCE_ID'] ?? `${process.env['HOSTNAME'] ?? 'local'}-${process.pid}`,
  });
  const fragments = new WeakMap<Context, string>();
  const base = pino(
    {
      // pino filters nothing; the facade filters, so incident breadcrumbs can lower the bar per tenant.
      level: 'trace',
      base: scrubValue(identity, policy) as Record<string, string>,
      messageKey: 'msg',
      timestamp: () => {
        const ctx = otelContext.active();
        let fragment = fragments.get(ctx);
        if (fragment === undefined) {
          fragment = contextFragment(ctx, policy);
          // A fragment built under a deep-debug opt-in must not outlive the opt-in.
          const tenant = currentFields(ctx).tenant_id;
          if (!tenant || !isDeepDebugActive(tenant)) fragments.set(ctx, fragment);
        }
        return `,"ts":"${isoNow()}"${fragment}`;
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrubValue(obj, policy) as Record<string, unknown>,
      },
    },
    Object.assign(sinkingDest, { flush: () => (dest as { flush?: () => void }).flush?.() }),
  );
  const logger = new StellaLogger(base, { threshold: LEVELS[level], level, policy, service: options.service });
  if (!defaultLogger) setDefaultLogger(logger);
  return logger;
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
