/**
 * The Observability Hub (CON-1): service health, SLOs and the top failing routes of the selected
 * tenant — each red one leading to "why is this red?" — and, for operators (a platform-wide
 * token), the top noisy tenants; refreshed every 30 s.
 */
import { useState, type ReactNode } from 'react';
import type { HealthAnswer, RoutesAnswer, SloAnswer } from '../api/api-types.js';
import type { TenantsAnswer } from '../trace/trace-types.js';
import { useConsole } from '../shell/console-context.js';
import { ErrorPanel } from '../shell/error-panel.js';
import { formatTime } from '../shell/format.js';
import { useApi, type Loaded } from '../shell/use-api.js';
import { FailingRoutes } from './failing-routes.js';
import { HealthTiles } from './health-tiles.js';
import { NOISY_TENANTS_PATH, NoisyTenants } from './noisy-tenants.js';
import { isOperator } from './why-links.js';
import { SloWidgets } from './slo-widgets.js';

const REFRESH_MS = 30_000;

function Section<T>({ id, title, loaded, children }: { id: string; title: string; loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  return (
    <section className="panel" aria-labelledby={id} aria-busy={loaded.loading}>
      <h2 id={id}>{title}</h2>
      {loaded.error ? <ErrorPanel error={loaded.error} what={title.toLowerCase()} /> : loaded.data !== undefined ? children(loaded.data) : <p className="muted">Loading…</p>}
    </section>
  );
}

export function HubPage() {
  const { tenant, navigate, who } = useConsole();
  const operator = isOperator(who);
  const [refreshKey, setRefreshKey] = useState(0);
  const options = { refreshKey, everyMs: REFRESH_MS };
  const health = useApi<HealthAnswer>('/obs/health', options);
  const slo = useApi<SloAnswer>('/obs/slo', options);
  const routes = useApi<RoutesAnswer>('/obs/routes', options);
  const tenants = useApi<TenantsAnswer>(operator ? NOISY_TENANTS_PATH : undefined, options);
  const updated = [health, slo, routes, tenants].map((l) => l.loadedAt ?? 0).reduce((a, b) => Math.max(a, b), 0);
  return (
    <>
      <div className="page-head">
        <h1>Observability Hub</h1>
        <p>
          Tenant <strong>{tenant}</strong>
          {updated ? ` · updated ${formatTime(new Date(updated).toISOString())}` : ''} ·{' '}
          <button type="button" className="small" onClick={() => setRefreshKey((n) => n + 1)}>
            Refresh
          </button>
        </p>
      </div>
      <Section id="hub-health" title="Service health" loaded={health}>
        {(data) => <HealthTiles health={data} navigate={navigate} />}
      </Section>
      <Section id="hub-slos" title="SLOs" loaded={slo}>
        {(data) => <SloWidgets slo={data} navigate={navigate} />}
      </Section>
      <Section id="hub-routes" title="Top failing routes" loaded={routes}>
        {(data) => <FailingRoutes routes={data} navigate={navigate} />}
      </Section>
      {operator ? (
        <section className="panel" aria-labelledby="hub-tenants" aria-busy={tenants.loading}>
          <h2 id="hub-tenants">Top noisy tenants</h2>
          <NoisyTenants loaded={tenants} current={tenant} />
        </section>
      ) : null}
    </>
  );
}
