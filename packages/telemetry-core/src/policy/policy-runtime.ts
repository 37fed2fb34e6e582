/**
 * The telemetry policy a running instance applies, and its reload. The file is read once at
 * start (a bad file fails the start: running with a weaker policy than the operator wrote would
 * leak what it redacts) and then followed: `fs.watch` on its directory (editors replace files
 * by rename) with a debounce, plus a periodic stat check for file systems where watching does
 * not work. A change that does not validate keeps the last good policy and logs one warning
 * naming the problem. Nothing here throws out of a timer or watcher callback.
 */
import { stat, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { scrubPolicyOf } from '../scrub/policy-file.js';
import { compileScrubPolicy, isCompiled, type CompiledScrubPolicy, type ScrubPolicy } from '../scrub/policy.js';
import {
  emptyTelemetryPolicy,
  parseTelemetryPolicy,
  readTelemetryPolicyText,
  TELEMETRY_POLICY_ENV,
  TelemetryPolicyError,
  type TelemetryPolicy,
} from './telemetry-policy.js';

export interface PolicyReloadOptions {
  /** Quiet time after a change event before the file is read again. Default 200 ms. */
  debounceMs?: number;
  /** Interval of the stat check that catches changes the watcher missed. Default 5000 ms. */
  pollIntervalMs?: number;
  /** Watch the file's directory with `fs.watch`. Default true; false leaves the stat check only. */
  watch?: boolean;
}

/** The policy in force: what `handle.policy` returns. Replaced as a whole on each reload. */
export interface ActiveTelemetryPolicy {
  /** The policy file, or undefined when none is configured (options and built-in defaults). */
  readonly file: string | undefined;
  /** When this policy was read (or, without a file, built). */
  readonly loadedAt: Date;
  /** The file as validated; an empty policy without a file. */
  readonly policy: TelemetryPolicy;
  /** The effective scrub policy — the file's fields over `options.scrub` — compiled once per load. */
  readonly scrub: CompiledScrubPolicy;
  /** The effective sealed-mode egress allowlist: `options.egress.allowlist` plus the file's. */
  readonly egressAllowlist: readonly string[];
}

/** What one reload did. Listeners hear of applied changes and of rejected ones. */
export type TelemetryPolicyReload =
  | {
      readonly ok: true;
      /** False when the file's content was what is already in force. */
      readonly changed: boolean;
      /** The egress allowlist changed: it applies to exporters from the next start. */
      readonly egressChanged: boolean;
      readonly policy: ActiveTelemetryPolicy;
    }
  | {
      readonly ok: false;
      readonly error: TelemetryPolicyError;
      /** The last good policy, still in force. */
      readonly policy: ActiveTelemetryPolicy;
    };

export type TelemetryPolicyListener = (event: TelemetryPolicyReload) => void;

export interface TelemetryPolicyRuntimeOptions {
  /** The policy file; undefined for none. */
  file: string | undefined;
  /** The caller's scrub policy (`TelemetryOptions.scrub`). */
  scrub?: ScrubPolicy;
  /** The caller's egress allowlist (`TelemetryOptions.egress.allowlist`). */
  egressAllowlist?: readonly string[];
  /** Where reload notices go. */
  logger: Logger;
  /** Reload settings, or false to read the file once. */
  reload?: PolicyReloadOptions | false;
  now?: () => number;
}

/**
 * The file to load: the option when given (`''` means none, whatever the environment says),
 * else `STELLA_TELEMETRY_POLICY`, else none.
 */
export function resolvePolicyFile(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = option ?? env[TELEMETRY_POLICY_ENV];
  return file === undefined || file.trim() === '' ? undefined : file;
}

/** A compiled policy as the plain policy it came from, so file fields can be laid over it. */
function plainScrub(policy: ScrubPolicy | undefined): ScrubPolicy {
  if (policy === undefined) return {};
  if (!isCompiled(policy)) return policy;
  const compiled = policy as unknown as CompiledScrubPolicy;
  return {
    allowKeys: [...compiled.allowKeys],
    redactKeys: [...compiled.extraRedactKeys],
    repoRoot: compiled.repoRoot,
    hashKey: compiled.hashKey,
    tenantId: compiled.tenantId,
    maxStringLength: compiled.maxStringLength,
  };
}

/** Lists are joined (the file adds to the options); a scalar the file sets replaces the option's. */
function mergeScrub(code: ScrubPolicy | undefined, file: TelemetryPolicy): ScrubPolicy {
  const base = plainScrub(code);
  const fromFile = scrubPolicyOf(file);
  return {
    ...base,
    allowKeys: [...new Set([...(base.allowKeys ?? []), ...(fromFile.allowKeys ?? [])])],
    redactKeys: [...new Set([...(base.redactKeys ?? []), ...(fromFile.redactKeys ?? [])])],
    repoRoot: fromFile.repoRoot ?? base.repoRoot,
    maxStringLength: fromFile.maxStringLength ?? base.maxStringLength,
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((v, i) => v === sb[i]);
}

/** A timer setting: the default when unset or not a number, never below `min`. */
function interval(value: number | undefined, fallback: number, min: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(min, value) : fallback;
}

function statKey(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export class TelemetryPolicyRuntime {
  private active: ActiveTelemetryPolicy;
  private readonly listeners = new Set<TelemetryPolicyListener>();
  private readonly now: () => number;
  private readonly logger: Logger;
  /** Text of the last read attempt, good or bad: the same text is not judged twice. */
  private lastText: string | undefined;
  /** Why `lastText` was rejected; undefined when it is the policy in force. */
  private lastError: TelemetryPolicyError | undefined;
  /** Reason of the last rejection: a file that stays missing is reported once. */
  private lastProblem: string | undefined;
  /** Stat signature seen by the last read (or check), `missing` when the file was absent. */
  private lastStat: string | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;
  private debounceMs = 200;

  /** Reads the file (throws TelemetryPolicyError when it is unusable) and starts following it. */
  constructor(private readonly options: TelemetryPolicyRuntimeOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    const file = options.file;
    if (file === undefined) {
      this.active = this.build(undefined, emptyTelemetryPolicy());
      return;
    }
    const text = readTelemetryPolicyText(file);
    this.active = this.build(file, parseTelemetryPolicy(text, file));
    this.lastText = text;
    if (options.reload !== false) this.follow(file, options.reload ?? {});
  }

  /** The policy in force. */
  get current(): ActiveTelemetryPolicy {
    return this.active;
  }

  /** Calls `listener` after each applied or rejected change; returns the unsubscribe function. */
  onReload(listener: TelemetryPolicyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reads the file now and applies it if it changed and validates. Never throws: a problem is
   * returned (and logged once) and the last good policy stays in force.
   */
  reload(): TelemetryPolicyReload {
    const file = this.options.file;
    if (file === undefined || this.closed) return { ok: true, changed: false, egressChanged: false, policy: this.active };
    let text: string | undefined;
    try {
      this.noteStat(file);
      text = readTelemetryPolicyText(file);
      if (text === this.lastText) {
        // Judged already (a second event for one edit): the same verdict, nothing logged again.
        return this.lastError
          ? { ok: false, error: this.lastError, policy: this.active }
          : { ok: true, changed: false, egressChanged: false, policy: this.active };
      }
      this.lastText = text;
      const next = this.build(file, parseTelemetryPolicy(text, file));
      const egressChanged = !sameList(next.egressAllowlist, this.active.egressAllowlist);
      this.active = next;
      this.lastProblem = undefined;
      this.lastError = undefined;
      this.logApplied(file, egressChanged);
      return this.emit({ ok: true, changed: true, egressChanged, policy: next });
    } catch (err) {
      const error =
        err instanceof TelemetryPolicyError
          ? err
          : new TelemetryPolicyError('TELEMETRY_POLICY_INVALID', file, (err as Error)?.message ?? String(err), { cause: err });
      if (text === undefined) {
        // Missing or unreadable: reported once until it can be read again, then judged afresh
        // even if it comes back with its old content.
        this.lastText = undefined;
        this.lastError = undefined;
        if (error.reason === this.lastProblem) return { ok: false, error, policy: this.active };
      } else {
        this.lastError = error;
      }
      this.lastProblem = error.reason;
      this.logRejected(file, error);
      return this.emit({ ok: false, error, policy: this.active });
    }
  }

  /** Stops following the file. Idempotent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    try {
      this.watcher?.close();
    } catch {
      // Already closed by an error; nothing left to release.
    }
    this.watcher = undefined;
    this.listeners.clear();
  }

  private build(file: string | undefined, policy: TelemetryPolicy): ActiveTelemetryPolicy {
    const { scrub, egressAllowlist = [] } = this.options;
    return Object.freeze({
      file,
      loadedAt: new Date(this.now()),
      policy,
      scrub: file === undefined ? compileScrubPolicy(scrub) : compileScrubPolicy(mergeScrub(scrub, policy)),
      egressAllowlist: Object.freeze([...new Set([...egressAllowlist, ...policy.egress.allowlist])]),
    });
  }

  private emit(event: TelemetryPolicyReload): TelemetryPolicyReload {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the policy is applied either way.
      }
    }
    return event;
  }

  private follow(file: string, options: PolicyReloadOptions): void {
    this.debounceMs = interval(options.debounceMs, 200, 0);
    const name = basename(file);
    if (options.watch !== false) {
      try {
        this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
          if (changed === null || changed === name) this.schedule();
        });
        this.watcher.on('error', (err) => {
          // The directory went away or the watch limit was hit: the stat check carries on alone.
          this.warnWatch(file, err);
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (err) {
        this.warnWatch(file, err);
      }
    }
    this.noteStat(file);
    this.poll = setInterval(() => this.check(file), interval(options.pollIntervalMs, 5000, 10));
    this.poll.unref();
  }

  /** The periodic check: a stat, and a reload when the file's signature changed. */
  private check(file: string): void {
    try {
      stat(file, (err, st) => {
        try {
          if (this.closed) return;
          const key = err ? 'missing' : statKey(st);
          if (key !== this.lastStat) this.schedule();
        } catch {
          // Reported by reload itself; a timer callback must not throw.
        }
      });
    } catch {
      // stat throws only on invalid arguments; nothing to report per tick.
    }
  }

  private noteStat(file: string): void {
    // Taken before the read: a change after it shows up as a new signature at the next check.
    try {
      this.lastStat = statKey(statSync(file));
    } catch {
      this.lastStat = 'missing';
    }
  }

  /** Reads the file once things are quiet: an edit is often several writes and events. */
  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reloadQuietly(), this.debounceMs);
    this.debounce.unref();
  }

  private reloadQuietly(): void {
    try {
      this.reload();
    } catch {
      // reload does not throw; this guards the timer against a logger that does.
    }
  }

  private logApplied(file: string, egressChanged: boolean): void {
    try {
      this.logger.info({ action: 'telemetry.policy_reloaded', resource: file }, `telemetry policy ${basename(file)} reloaded`);
      if (egressChanged) {
        this.logger.warn(
          { action: 'telemetry.policy_egress_pending', resource: file, details: { allowlist: [...this.active.egressAllowlist] } },
          `telemetry policy ${basename(file)}: the egress allowlist changed; exporters apply it at the next start`,
        );
      }
    } catch {
      // Logging never fails a reload.
    }
  }

  private logRejected(file: string, error: TelemetryPolicyError): void {
    try {
      this.logger.warn(
        {
          action: 'telemetry.policy_rejected',
          resource: file,
          error_code: error.code,
          details: { field: error.field, reason: error.reason, in_force_since: this.active.loadedAt.toISOString() },
        },
        `telemetry policy ${basename(file)} not applied (${error.reason}); keeping the policy loaded at ${this.active.loadedAt.toISOString()}`,
      );
    } catch {
      // Logging never fails a reload.
    }
  }

  private warnWatch(file: string, err: unknown): void {
    try {
      this.logger.warn(
        { action: 'telemetry.policy_watch_failed', resource: file, error_code: (err as NodeJS.ErrnoException)?.code },
        `telemetry policy ${basename(file)}: cannot watch its directory; changes are picked up by the periodic check`,
      );
    } catch {
      // Logging never fails the watch.
    }
  }
}
