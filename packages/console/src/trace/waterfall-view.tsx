/**
 * The waterfall: one row per span in call order, indented by depth, its bar on the trace's time
 * axis. Error spans are marked in text as well as colour; the first error carries "first error".
 * Spans on the critical path (when shown) carry a mark and a bar of their own colour, told in
 * words to screen readers. Rows are buttons: Tab reaches the list, the arrow keys (and Home, End)
 * move between rows, Enter or Space shows a span's details.
 */
import { useRef, type KeyboardEvent } from 'react';
import type { TraceSpan } from '../api/api-types.js';
import { formatMs } from '../shell/format.js';
import type { Waterfall } from './waterfall.js';

export function WaterfallView({
  waterfall,
  selected,
  onSelect,
  critical,
}: {
  waterfall: Waterfall<TraceSpan>;
  selected: string | undefined;
  onSelect(spanId: string): void;
  /** Span ids on the critical path, when it is shown. */
  critical?: ReadonlySet<string> | undefined;
}) {
  const list = useRef<HTMLOListElement>(null);
  const onKeyDown = (event: KeyboardEvent<HTMLOListElement>): void => {
    const buttons = [...(list.current?.querySelectorAll<HTMLButtonElement>('button.span-row') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const to = event.key === 'ArrowDown' ? at + 1 : event.key === 'ArrowUp' ? at - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? buttons.length - 1 : undefined;
    if (to === undefined) return;
    event.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, to))]?.focus();
  };
  return (
    <div className="waterfall">
      <div className="axis" aria-hidden="true">
        {waterfall.ticks.map((t) => (
          <span key={t.pct} className="tick" style={{ left: `${t.pct}%` }}>
            {formatMs(t.ms)}
          </span>
        ))}
      </div>
      <ol ref={list} aria-label="Spans in call order" onKeyDown={onKeyDown}>
        {waterfall.rows.map((row) => {
          const s = row.span;
          const isSelected = s.span_id === selected;
          const onPath = critical?.has(s.span_id) ?? false;
          return (
            <li key={s.span_id} className={`${row.error ? 'error' : ''}${row.firstError ? ' first-error' : ''}${isSelected ? ' selected' : ''}${onPath ? ' critical' : ''}`}>
              <button type="button" className="span-row" aria-pressed={isSelected} onClick={() => onSelect(s.span_id)} data-span-id={s.span_id}>
                <span className="span-label" style={{ paddingLeft: `${row.depth * 1.1}rem` }}>
                  <span className="span-name">{s.name}</span> <span className="span-service">{s.service}</span>
                  {row.firstError ? <span className="badge badge-error">first error</span> : row.error ? <span className="badge badge-error-soft">error</span> : null}
                  {onPath ? (
                    <span className="critical-mark" title="on the critical path">
                      <span aria-hidden="true">◆</span>
                      <span className="visually-hidden">on the critical path</span>
                    </span>
                  ) : null}
                </span>
                <span className="span-track">
                  <span className="span-bar" style={{ left: `${row.leftPct}%`, width: `${row.widthPct}%` }} />
                </span>
                <span className="span-duration">{formatMs(row.durationMs)}</span>
              </button>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
