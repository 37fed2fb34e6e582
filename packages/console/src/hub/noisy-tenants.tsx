/**
 * Top noisy tenants (CON-1, operators only): the tenants that sent the most telemetry over the
 * last hour — indexed spans (and how many ended in error), log records and metric points — from
 * `GET /obs/tenants`, which counts every tenant and so needs a platform-wide scope. The hub
 * shows it only to a token with one; a service without the API (404) gets a plain note, never a
 * broken hub.
 */
import { withQuery } from '../api/api-client.js';
import { ErrorPanel } from '../shell/error-panel.js';
import type { Loaded } from '../shell/use-api.js';
import type { TenantsAnswer } from '../trace/trace-types.js';
import './hub.css';

/** Window of the ranking, in minutes. */
export const NOISY_WINDOW_MINUTES = 60;
export const NOISY_TENANTS_PATH = withQuery('/obs/tenants', { window: NOISY_WINDOW_MINUTES });

const number = (n: number): string => n.toLocaleString('en-US');

export function NoisyTenants({ loaded, current }: { loaded: Loaded<TenantsAnswer>; current: string | undefined }) {
  if (loaded.error?.status === 404) {
    return (
      <p className="notice" role="status">
        Not available: this service does not answer <code>GET /obs/tenants</code> (it predates the per-tenant volumes). Upgrade the service to see which tenants send the most telemetry.
      </p>
    );
  }
  if (loaded.error) return <ErrorPanel error={loaded.error} what="top noisy tenants" />;
  const data = loaded.data;
  if (!data) return <p className="muted">Loading…</p>;
  if (data.tenants.length === 0) return <p className="empty">No tenant sent telemetry in the last {NOISY_WINDOW_MINUTES} min.</p>;
  const top = Math.max(...data.tenants.map((t) => t.total), 1);
  return (
    <>
      <table className="noisy-tenants">
        <caption className="visually-hidden">Tenants by telemetry sent in the last {NOISY_WINDOW_MINUTES} minutes, most first</caption>
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Total</th>
            <th scope="col">Spans</th>
            <th scope="col">Error spans</th>
            <th scope="col">Log records</th>
            <th scope="col">Metric points</th>
            <th scope="col">Share of the top tenant</th>
          </tr>
        </thead>
        <tbody>
          {data.tenants.map((t) => (
            <tr key={t.tenant}>
              <th scope="row">
                {t.tenant}
                {t.tenant === current ? <span className="muted"> (selected)</span> : null}
              </th>
              <td className="num">{number(t.total)}</td>
              <td className="num">{number(t.spans)}</td>
              <td className="num">{number(t.error_spans)}</td>
              <td className="num">{number(t.logs)}</td>
              <td className="num">{number(t.metric_points)}</td>
              <td className="share">
                <span className="bar-track" aria-hidden="true">
                  <span className="bar-fill" style={{ width: `${(t.total / top) * 100}%` }} />
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Counts over the last {NOISY_WINDOW_MINUTES} min of every tenant (indexed spans — root, request and job spans and each service's first span of a trace — log records and metric
        points); the top {data.tenants.length} shown. Visible to platform-wide tokens only.
      </p>
    </>
  );
}
