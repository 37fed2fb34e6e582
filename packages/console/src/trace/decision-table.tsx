/** Policy and authz decisions as a table: effect (in words), kind, reason, rules, policy version, what was decided on, where. */
import { useState } from 'react';
import type { Decision } from './decisions.js';
import { formatTimeMs } from '../shell/format.js';
import './trace.css';

export function EffectBadge({ effect }: { effect: string }) {
  return <span className={`effect effect-${effect.toLowerCase()}`}>{effect}</span>;
}

export function DecisionTable({
  decisions,
  caption,
  onSelectSpan,
  spanNames,
  initialRows = 25,
}: {
  decisions: readonly Decision[];
  caption: string;
  /** Shows the span as a button that selects it (the trace view); else its id. */
  onSelectSpan?: ((spanId: string) => void) | undefined;
  spanNames?: ReadonlyMap<string, string>;
  initialRows?: number;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? decisions : decisions.slice(0, initialRows);
  return (
    <>
      <table className="decisions">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Effect</th>
            <th scope="col">Kind</th>
            <th scope="col">Reason</th>
            <th scope="col">Rules / scope</th>
            <th scope="col">Policy</th>
            <th scope="col">On</th>
            <th scope="col">Service and span</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((d, i) => (
            <tr key={`${d.source}-${d.spanId}-${d.time}-${i}`} className={d.effect.toLowerCase() === 'deny' ? 'decision-deny' : undefined}>
              <td>
                <EffectBadge effect={d.effect} />
              </td>
              <td>{d.kind}</td>
              <td>{d.reason ?? <span className="muted">–</span>}</td>
              <td>{d.ruleIds.length > 0 ? <code>{d.ruleIds.join(', ')}</code> : d.scope ? <code>{d.scope}</code> : <span className="muted">–</span>}</td>
              <td>{d.policyVersion ? <code>{d.policyVersion}</code> : <span className="muted">–</span>}</td>
              <td>
                {d.resource ? <code>{d.resource}</code> : <span className="muted">–</span>}
                {d.action ? <span className="muted"> ({d.action})</span> : null}
              </td>
              <td>
                {d.service}
                {d.spanId ? (
                  onSelectSpan ? (
                    <>
                      {' '}
                      <button type="button" className="small" onClick={() => onSelectSpan(d.spanId!)}>
                        {spanNames?.get(d.spanId) ?? d.spanId}
                        <span className="visually-hidden"> show span {d.spanId}</span>
                      </button>
                    </>
                  ) : (
                    <>
                      {' '}
                      <code className="muted">{spanNames?.get(d.spanId) ?? d.spanId}</code>
                    </>
                  )
                ) : null}
                {d.source === 'span' ? <span className="muted"> (span attributes)</span> : null}
              </td>
              <td className="nowrap">
                <time dateTime={d.time}>{formatTimeMs(d.time)}</time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {decisions.length > shown.length ? (
        <p>
          {decisions.length - shown.length} more not shown.{' '}
          <button type="button" className="small" onClick={() => setAll(true)}>
            Show all {decisions.length} decisions
          </button>
        </p>
      ) : null}
    </>
  );
}
