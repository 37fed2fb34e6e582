/**
 * Health at a glance: one tile per service that reported telemetry — up, degraded or down, with
 * its request rate, error ratio and p95; a degraded or down tile leads to the span behind it
 * ("Why is this red?").
 */
import type { HealthAnswer, HealthStatus } from '../api/api-types.js';
import type { Route } from '../routing/routes.js';
import { formatMs, formatPercent, formatRate, formatTime } from '../shell/format.js';
import { Link } from '../shell/link.js';
import { tileWhy } from './why-links.js';
import './hub.css';

const ORDER: Record<HealthStatus, number> = { down: 0, degraded: 1, up: 2 };

export function HealthTiles({ health, navigate }: { health: HealthAnswer; navigate(route: Route): void }) {
  const seconds = Math.max((Date.parse(health.window.to) - Date.parse(health.window.from)) / 1000, 1);
  const minutes = Math.round(seconds / 60);
  const services = [...health.services].sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.service.localeCompare(b.service));
  if (services.length === 0) return <p className="empty">No service of this tenant has sent telemetry recently.</p>;
  return (
    <>
      <ul className="tiles">
        {services.map((s) => {
          const why = tileWhy(s);
          return (
            <li key={s.service} className={`tile status-${s.status}`}>
              <h3>{s.service}</h3>
              <p className="status-line">
                <span className={`badge badge-${s.status}`}>{s.status}</span>
              </p>
              <dl>
                <div>
                  <dt>Rate</dt>
                  <dd>{formatRate(s.requests / seconds)}</dd>
                </div>
                <div>
                  <dt>Errors</dt>
                  <dd>{formatPercent(s.error_ratio)}</dd>
                </div>
                <div>
                  <dt>p95</dt>
                  <dd>{s.requests > 0 ? formatMs(s.p95_ms) : '–'}</dd>
                </div>
                <div>
                  <dt>Last seen</dt>
                  <dd>{formatTime(s.last_seen)}</dd>
                </div>
              </dl>
              <p className="tile-links">
                {why ? (
                  <Link to={why} navigate={navigate} className="why-link">
                    Why is this red?<span className="visually-hidden"> {s.service} is {s.status}</span>
                  </Link>
                ) : null}
                {s.error_ratio > 0 ? (
                  <Link to={{ page: 'logs', search: { service: s.service, severity: 'ERROR', window: 60 } }} navigate={navigate}>
                    Error logs<span className="visually-hidden"> of {s.service}</span>
                  </Link>
                ) : null}
              </p>
            </li>
          );
        })}
      </ul>
      <p className="muted">
        Over the last {minutes} min of ingress spans; degraded above {formatPercent(health.thresholds.error_ratio_degraded, 0)} errors or a p95 above{' '}
        {formatMs(health.thresholds.p95_ms_degraded)}; down when seen earlier but not in this window.
      </p>
    </>
  );
}
