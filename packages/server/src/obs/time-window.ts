/**
 * Time windows of the read APIs and captures. Query windows are `from`/`to` instants (or a
 * `since` duration back from `to`) with a default length and a maximum span; capture windows are a duration back from now (`24h`,
 * `90m`, `7d`) or an ISO-8601 interval (`<start>/<end>` or `<start>/<duration>`).
 */
import { ServiceError } from '../errors.js';

export interface Window {
  fromMs: number;
  toMs: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m` → 5400000; undefined when `text` is not `<n><s|m|h|d>`. */
export function parseShortDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

/** ISO-8601 duration with days, hours, minutes, seconds (`P1D`, `PT90M`, `P1DT2H`). */
export function parseIsoDuration(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text.trim());
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const ms = Number(m[1] ?? 0) * 86_400_000 + Number(m[2] ?? 0) * 3_600_000 + Number(m[3] ?? 0) * 60_000 + Number(m[4] ?? 0) * 1000;
  return ms > 0 ? ms : undefined;
}

function instant(text: string): number | undefined {
  // Full date-time with a zone only: "2025-03-01" or a bare local time would be ambiguous.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A capture window, never ending after `nowMs`: relative windows end now (so they include
 * everything received so far), and an interval that ends later is clamped to now — a capture
 * cannot hold what has not been received, and its signing time and tar entries must not claim a
 * time still to come. `requestedToMs` is set when the end was clamped. An interval that starts
 * after now is refused.
 */
export function parseCaptureWindow(spec: string, nowMs: number, maxHours: number): Window & { requestedToMs?: number } {
  const bad = (code: 'capture.window_invalid' | 'capture.window_too_wide', message: string): never => {
    throw new ServiceError(code, message, { field: 'params.window', extra: { allowed: { max_hours: maxHours, forms: ['24h', '90m', '7d', '<start>/<end>', '<start>/<ISO duration>'] } } });
  };
  let window: Window | undefined;
  const relative = parseShortDuration(spec);
  if (relative !== undefined) {
    window = { fromMs: nowMs - relative, toMs: nowMs };
  } else if (spec.includes('/')) {
    const [a, b, extra] = spec.split('/');
    if (extra === undefined && a && b) {
      const from = instant(a);
      const to = instant(b) ?? (from !== undefined && parseIsoDuration(b) !== undefined ? from + parseIsoDuration(b)! : undefined);
      if (from !== undefined && to !== undefined) window = { fromMs: from, toMs: to };
    }
  }
  if (!window) return bad('capture.window_invalid', `window "${spec.slice(0, 80)}" is neither a duration like 24h or 90m nor an ISO interval like 2025-03-01T00:00:00Z/2025-03-01T06:00:00Z`);
  if (window.fromMs >= window.toMs) return bad('capture.window_invalid', 'the window must end after it starts');
  if (window.toMs - window.fromMs > maxHours * 3_600_000) return bad('capture.window_too_wide', `a capture may cover at most ${maxHours} hours; split the window`);
  if (window.toMs > nowMs) {
    if (window.fromMs >= nowMs) {
      return bad('capture.window_invalid', `the window starts at ${new Date(window.fromMs).toISOString()}, after now (${new Date(nowMs).toISOString()}): nothing has been received in it yet`);
    }
    return { fromMs: window.fromMs, toMs: nowMs, requestedToMs: window.toMs };
  }
  return window;
}

/** The window parameters every `/obs/*` read API takes. */
export interface WindowParams {
  /** Start, RFC 3339 with a zone. */
  from?: string | undefined;
  /** End, RFC 3339 with a zone; default now. */
  to?: string | undefined;
  /** Instead of `from`: a duration back from `to` (`15m`, `2h`, `1d`, `PT15M`). */
  since?: string | undefined;
}

/**
 * `from`/`to` (or `since`) query parameters with a default length and a maximum span (the OBS-1
 * guardrails). `since` is a duration back from `to` — `15m`, `2h`, `1d`, `30s` or an ISO-8601
 * duration — measured on the service's clock, so a client with a skewed clock still gets the
 * last 15 minutes; it replaces `from`, and giving both is refused.
 */
export function queryWindow(params: WindowParams, nowMs: number, defaultMs: number, maxHours: number): Window {
  const { from, to, since } = params;
  const toMs = to === undefined ? nowMs : instant(to);
  if (toMs === undefined) throw new ServiceError('obs.window_invalid', 'to must be an RFC 3339 date-time with a zone, e.g. 2025-03-01T10:00:00Z', { field: 'query.to' });
  let fromMs: number | undefined;
  if (since !== undefined) {
    if (from !== undefined) throw new ServiceError('obs.window_invalid', 'give from or since, not both', { field: 'query.since' });
    const back = parseShortDuration(since) ?? parseIsoDuration(since);
    if (back === undefined) throw new ServiceError('obs.window_invalid', 'since must be a duration such as 15m, 2h, 1d, 30s or PT15M', { field: 'query.since' });
    fromMs = toMs - back;
  } else {
    fromMs = from === undefined ? toMs - Math.min(defaultMs, maxHours * 3_600_000) : instant(from);
    if (fromMs === undefined) throw new ServiceError('obs.window_invalid', 'from must be an RFC 3339 date-time with a zone, e.g. 2025-03-01T09:00:00Z', { field: 'query.from' });
  }
  if (fromMs >= toMs) throw new ServiceError('obs.window_invalid', 'from must be earlier than to', { field: 'query.from' });
  if (toMs - fromMs > maxHours * 3_600_000) {
    const earliest = new Date(toMs - maxHours * 3_600_000).toISOString();
    const field = since !== undefined ? 'query.since' : 'query.from';
    throw new ServiceError('obs.window_too_wide', `the window may span at most ${maxHours} hours: with to=${new Date(toMs).toISOString()}, ${since !== undefined ? `since may be at most ${maxHours}h` : `from must be ${earliest} or later`}`, {
      field,
      extra: { allowed: { max_window_hours: maxHours, earliest_from: earliest } },
    });
  }
  return { fromMs, toMs };
}
