/** Stable codes for scrubbing failures; callers branch on `code`, never on the message. */
export type ScrubErrorCode =
  | 'SCRUB_POLICY_NOT_FOUND'
  | 'SCRUB_POLICY_UNREADABLE'
  | 'SCRUB_POLICY_PARSE_FAILED'
  | 'SCRUB_POLICY_INVALID'
  | 'DEEP_DEBUG_INVALID';

export class ScrubError extends Error {
  override readonly name = 'ScrubError';
  readonly code: ScrubErrorCode;

  constructor(code: ScrubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
