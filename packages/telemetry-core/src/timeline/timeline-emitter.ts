/**
 * CORE-8: services record state transitions as canonical timeline events, filled from the
 * active request or job context, scrubbed, hashed and published on
 * `<prefix>.<tenant>.timeline.<kind>`. Emitting never throws into the caller's work: it
 * resolves to a result the caller may inspect (and `onError` hears about failures).
 */
import { currentContext } from '../context/context.js';
import { scrubValue } from '../scrub/index.js';
import type { Bus } from './bus.js';
import { TimelineError } from './errors.js';
import { assertSubjectPrefix, DEFAULT_SUBJECT_PREFIX, timelineSubject } from './subjects.js';
import { buildTimelineEvent, encodeTimelineEvent, type TimelineEvent, type TimelineEventInput } from './timeline-event.js';

export interface TimelineEmitterOptions {
  bus: Bus;
  /** Subject prefix. Default `stella`. */
  subjectPrefix?: string;
  /** Redacts secrets and PII in `details`. Default telemetry-core's `scrubValue`. */
  scrub?: (details: Record<string, unknown>) => Record<string, unknown>;
  /** Clock for `ts` and event ids. Default `Date.now`. */
  clock?: () => number;
  /** Largest canonical size of `details` in bytes. Default 16384. */
  maxDetailsBytes?: number;
  /** Hears every failed emit (the result carries it too). Default: none. */
  onError?: (error: TimelineError, input: TimelineEventInput) => void;
}

export type EmitResult =
  | { ok: true; event: TimelineEvent; duplicate: boolean }
  | { ok: false; error: TimelineError };

const defaultScrub = (details: Record<string, unknown>): Record<string, unknown> => scrubValue(details) as Record<string, unknown>;

export class TimelineEmitter {
  private readonly bus: Bus;
  private readonly prefix: string;
  private readonly scrub: (details: Record<string, unknown>) => Record<string, unknown>;
  private readonly clock: () => number;
  private readonly maxDetailsBytes: number;
  private readonly onError: ((error: TimelineError, input: TimelineEventInput) => void) | undefined;

  constructor(options: TimelineEmitterOptions) {
    this.bus = options.bus;
    this.prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    assertSubjectPrefix(this.prefix);
    this.scrub = options.scrub ?? defaultScrub;
    this.clock = options.clock ?? Date.now;
    this.maxDetailsBytes = options.maxDetailsBytes ?? 16_384;
    this.onError = options.onError;
  }

  /**
   * Builds the event from `input` and the active context (tenant, project, actor, trace),
   * without publishing. Throws a `TimelineError` for invalid input.
   */
  build(input: TimelineEventInput): TimelineEvent {
    const ctx = currentContext();
    return buildTimelineEvent(
      {
        ...input,
        tenant_id: input.tenant_id ?? ctx.tenant_id,
        project_id: input.project_id !== undefined ? input.project_id : ctx.project_id,
        actor: input.actor !== undefined ? input.actor : ctx.actor,
        trace_id: input.trace_id !== undefined ? input.trace_id : ctx.trace_id,
      },
      { scrub: this.scrub, clock: this.clock, maxDetailsBytes: this.maxDetailsBytes },
    );
  }

  /** Publishes an already built event (its id is the bus de-duplication id). */
  async publish(event: TimelineEvent): Promise<EmitResult> {
    try {
      const subject = timelineSubject(event.tenant_id, event.kind, this.prefix);
      const { duplicate } = await this.bus.publish(subject, encodeTimelineEvent(event), { msgId: event.event_id });
      return { ok: true, event, duplicate };
    } catch (cause) {
      const error =
        cause instanceof TimelineError ? cause : new TimelineError('bus.publish_failed', `publishing the timeline event failed: ${(cause as Error)?.message ?? String(cause)}`, undefined, { cause });
      this.onError?.(error, event);
      return { ok: false, error };
    }
  }

  /** Builds and publishes; never throws. */
  async emit(input: TimelineEventInput): Promise<EmitResult> {
    let event: TimelineEvent;
    try {
      event = this.build(input);
    } catch (cause) {
      const error = cause instanceof TimelineError ? cause : new TimelineError('timeline.event_invalid', String(cause), undefined, { cause });
      this.onError?.(error, input);
      return { ok: false, error };
    }
    return this.publish(event);
  }
}
