/**
 * The waterfall of a trace: its spans in call order (each parent followed by its children,
 * siblings by start time), each placed on the trace's time axis, and the first error marked —
 * the error span that ended first, which is where a failure started (a parent that fails because
 * its child did ends after it). Spans whose parent is not in the trace (not sampled, not yet
 * received) are shown as roots. Times are nanosecond strings in the API, kept as BigInt until
 * they are offsets.
 */

/** What the layout reads of a span of `GET /obs/trace/:id`. */
export interface WaterfallSpan {
  span_id: string;
  parent_span_id: string | null;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  status: { code: string };
}

export interface WaterfallRow<S extends WaterfallSpan = WaterfallSpan> {
  span: S;
  depth: number;
  /** Milliseconds from the start of the trace. */
  offsetMs: number;
  durationMs: number;
  /** Where the bar starts and how wide it is, in percent of the trace's duration. */
  leftPct: number;
  widthPct: number;
  error: boolean;
  firstError: boolean;
  /** The row index of the parent shown above, if any. */
  parentRow: number | undefined;
}

export interface Waterfall<S extends WaterfallSpan = WaterfallSpan> {
  rows: WaterfallRow<S>[];
  /** From the earliest start to the latest end, in ms. */
  totalMs: number;
  firstErrorSpanId: string | undefined;
  errorCount: number;
  /** Time-axis marks: position in percent and offset in ms. */
  ticks: { pct: number; ms: number }[];
}

/** A bar is never thinner than this, so a 1 µs span stays visible and clickable. */
export const MIN_BAR_PCT = 0.5;

function nanos(value: string): bigint {
  try {
    return BigInt(value);
  } catch {
    return 0n;
  }
}

const msBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

export function layoutWaterfall<S extends WaterfallSpan>(spans: readonly S[]): Waterfall<S> {
  if (spans.length === 0) return { rows: [], totalMs: 0, firstErrorSpanId: undefined, errorCount: 0, ticks: [] };
  const starts = new Map(spans.map((s) => [s.span_id, nanos(s.start_time_unix_nano)]));
  const ends = new Map(spans.map((s) => [s.span_id, nanos(s.end_time_unix_nano)]));
  let traceStart = starts.get(spans[0]!.span_id)!;
  let traceEnd = ends.get(spans[0]!.span_id)!;
  for (const s of spans) {
    const start = starts.get(s.span_id)!;
    const end = ends.get(s.span_id)!;
    if (start < traceStart) traceStart = start;
    if (end > traceEnd) traceEnd = end;
    if (start > traceEnd) traceEnd = start;
  }
  const totalMs = Math.max(msBetween(traceStart, traceEnd), 0);
  const byStart = (a: S, b: S): number => {
    const d = starts.get(a.span_id)! - starts.get(b.span_id)!;
    return d < 0n ? -1 : d > 0n ? 1 : a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0;
  };

  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string, S[]>();
  const roots: S[] = [];
  for (const s of spans) {
    if (s.parent_span_id !== null && s.parent_span_id !== s.span_id && ids.has(s.parent_span_id)) {
      const list = children.get(s.parent_span_id) ?? [];
      list.push(s);
      children.set(s.parent_span_id, list);
    } else roots.push(s);
  }

  const rows: WaterfallRow<S>[] = [];
  const placed = new Set<string>();
  const place = (span: S, depth: number, parentRow: number | undefined): void => {
    // A span id listed twice, or parents that form a loop, are shown once.
    if (placed.has(span.span_id)) return;
    placed.add(span.span_id);
    const start = starts.get(span.span_id)!;
    const end = ends.get(span.span_id)!;
    const offsetMs = msBetween(traceStart, start);
    const durationMs = Math.max(msBetween(start, end), 0);
    const leftPct = totalMs > 0 ? Math.min((offsetMs / totalMs) * 100, 100 - MIN_BAR_PCT) : 0;
    const widthPct = totalMs > 0 ? Math.min(Math.max((durationMs / totalMs) * 100, MIN_BAR_PCT), 100 - leftPct) : 100;
    const index = rows.length;
    rows.push({ span, depth, offsetMs, durationMs, leftPct, widthPct, error: span.status.code === 'ERROR', firstError: false, parentRow });
    for (const child of (children.get(span.span_id) ?? []).sort(byStart)) place(child, depth + 1, index);
  };
  for (const root of roots.sort(byStart)) place(root, 0, undefined);
  // Spans caught in a parent loop have no root above them: show them as roots too.
  for (const s of [...spans].sort(byStart)) if (!placed.has(s.span_id)) place(s, 0, undefined);

  let first: WaterfallRow<S> | undefined;
  for (const row of rows) {
    if (!row.error) continue;
    if (!first) first = row;
    else {
      const endDiff = ends.get(row.span.span_id)! - ends.get(first.span.span_id)!;
      if (endDiff < 0n || (endDiff === 0n && (row.depth > first.depth || (row.depth === first.depth && row.offsetMs < first.offsetMs)))) first = row;
    }
  }
  if (first) first.firstError = true;

  const ticks = totalMs > 0 ? [0, 25, 50, 75, 100].map((pct) => ({ pct, ms: (totalMs * pct) / 100 })) : [{ pct: 0, ms: 0 }];
  return { rows, totalMs, firstErrorSpanId: first?.span.span_id, errorCount: rows.filter((r) => r.error).length, ticks };
}
