/** Errors of the timeline emitter and the bus, with stable codes callers can branch on. */
export type TimelineErrorCode =
  | 'timeline.tenant_invalid'
  | 'timeline.kind_invalid'
  | 'timeline.event_invalid'
  | 'timeline.details_too_large'
  | 'timeline.digest_mismatch'
  | 'bus.subject_invalid'
  | 'bus.closed'
  | 'bus.publish_failed'
  | 'bus.unavailable';

export class TimelineError extends Error {
  override readonly name = 'TimelineError';
  constructor(
    readonly code: TimelineErrorCode,
    message: string,
    /** The offending field of an event, when there is one. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
