/**
 * SLO widgets: one row per SLO — its state, SLI against the objective, the error budget left
 * over its period, and the burn rate over each alerting window pair (long / short; a firing pair
 * is marked) — burning SLOs first, each leading to the span behind its burn ("Why is this
 * red?"). SLOs without data yet are listed apart, folded.
 */
import type { BurnRatePair, SloAnswer, SloStatus } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';
import { formatBurnRate, formatDateTime, formatPercent } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { sloWhy } from './why-links.js';
import './hub.css';
import { pairKey, sloOrder, windowPairs } from './slo-order.js';

const STATE_TEXT: Record<SloStatus['state'], string> = { ok: 'ok', ticket: 'burning (ticket)', page: 'burning (page)', no_data: 'no data' };

function Budget({ remaining }: { remaining: number | null }) {
  if (remaining === null) return <span className="muted">no data</span>;
  const shown = Math.max(0, Math.min(1, remaining));
  return (
    <span className="budget">
      <span>{remaining >= 0 ? formatPercent(remaining) : `none: ${(1 - remaining).toFixed(1)}× the budget spent`}</span>
      <span className={`bar-track${remaining < 0.25 ? ' low' : ''}`} aria-hidden="true">
        <span className="bar-fill" style={{ width: `${shown * 100}%` }} />
      </span>
    </span>
  );
}

function Burn({ pair }: { pair: BurnRatePair | undefined }) {
  if (!pair) return <span className="muted">–</span>;
  return (
    <span title={`alerts (${pair.severity}) when both exceed ${formatBurnRate(pair.burn_rate_threshold)}`}>
      {formatBurnRate(pair.long_burn_rate)} / {formatBurnRate(pair.short_burn_rate)}
      {pair.firing ? <strong className="firing-mark"> firing</strong> : null}
    </span>
  );
}

export function SloWidgets({ slo, navigate }: { slo: SloAnswer; navigate(route: Route): void }) {
  if (slo.slos.length === 0) return <p className="empty">No SLO is defined for this service (STELLA_SLO_DIR).</p>;
  const withData = slo.slos.filter((s) => s.state !== 'no_data').sort(sloOrder);
  const without = slo.slos.filter((s) => s.state === 'no_data').sort(sloOrder);
  const pairs = windowPairs(slo.slos);
  return (
    <>
      {withData.length > 0 ? (
        <table className="slo-table">
          <caption>Burn rate per window is long / short; an alert fires when both exceed its threshold.</caption>
          <thead>
            <tr>
              <th scope="col">SLO</th>
              <th scope="col">State</th>
              <th scope="col">SLI / objective</th>
              <th scope="col">Error budget left</th>
              {pairs.map((p) => (
                <th scope="col" key={pairKey(p)}>
                  Burn {p.long_window} / {p.short_window} <span className="muted">({p.severity})</span>
                </th>
              ))}
              <th scope="col">
                <span className="visually-hidden">Why</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {withData.map((s) => (
              <tr key={s.name} className={`state-${s.state}`}>
                <th scope="row">
                  {s.display_name ?? s.name}
                  <span className="muted"> · {s.service}</span>
                </th>
                <td>
                  <span className={`badge badge-${s.state}`}>{STATE_TEXT[s.state]}</span>
                </td>
                <td className="num">
                  {formatPercent(s.sli.value, 2)} / {formatPercent(s.objective.target, 2)} <span className="muted">over {s.period}</span>
                </td>
                <td>
                  <Budget remaining={s.error_budget.remaining} />
                </td>
                {pairs.map((p) => (
                  <td key={pairKey(p)} className="num">
                    <Burn pair={s.burn_rates.find((b) => pairKey(b) === pairKey(p))} />
                  </td>
                ))}
                <td>
                  {sloWhy(s) ? (
                    <Link to={sloWhy(s)!} navigate={navigate} className="why-link">
                      Why is this red?<span className="visually-hidden"> {s.display_name ?? s.name} is burning</span>
                    </Link>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="empty">No SLO has data for this tenant yet: its services have sent no metrics the SLOs read over their periods.</p>
      )}
      {without.length > 0 ? (
        <details className="slo-no-data">
          <summary>
            {without.length} {without.length === 1 ? 'SLO' : 'SLOs'} without data
          </summary>
          <ul>
            {without.map((s) => (
              <li key={s.name}>
                {s.display_name ?? s.name} <span className="muted">· {s.service} · objective {formatPercent(s.objective.target, 2)} over {s.period}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {slo.breaches.length > 0 ? (
        <>
          <h3>Latest breaches</h3>
          <ul className="breaches">
            {slo.breaches.slice(0, 5).map((b) => (
              <li key={b.breach_id}>
                {b.slo} ({b.service}): {b.severity} at burn rate {formatBurnRate(b.burn_rate)} over {b.long_window}/{b.short_window}, since {formatDateTime(b.started_at)}
                {b.resolved_at ? `, resolved ${formatDateTime(b.resolved_at)}` : ', ongoing'}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <p className="muted">
        Evaluated {formatDateTime(slo.evaluated_at)} from {slo.source === 'prometheus' ? 'Prometheus' : 'the embedded metrics'}, every {slo.interval_seconds} s.
      </p>
    </>
  );
}
