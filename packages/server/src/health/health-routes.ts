/**
 * Liveness (`/healthz`: the process serves) and readiness (`/readyz`: store and bus answer),
 * which also says whether this replica leads the periodic jobs (a follower is ready all the same).
 */
import { Type } from 'typebox';
import type { Bus } from '@stellaops/telemetry-core';
import type { Leadership } from '../jobs/leadership.js';
import type { ServiceApp } from '../service-feature.js';
import type { SqlStore } from '../store/sql-store.js';

const Status = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  store: Status,
  bus: Status,
  store_engine: Type.String(),
  bus_kind: Type.String(),
  leader: Type.Boolean({ description: 'Whether this replica runs the periodic jobs of the cluster now' }),
  leadership: Type.Union([Type.Literal('embedded'), Type.Literal('postgres-advisory-lock')], { description: 'How the leader is chosen: always this process (embedded store), or a PostgreSQL advisory lock' }),
});

export function healthRoutes(app: ServiceApp, deps: { store: SqlStore; bus: Bus; leadership: Leadership }): void {
  app.get(
    '/healthz',
    { schema: { operationId: 'getLiveness', summary: 'Liveness', tags: ['health'], security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process serves' }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the store and the bus answer',
        tags: ['health'],
        security: [],
        response: { 200: { ...Readiness, description: 'Ready: the store and the bus answer' }, 503: { ...Readiness, description: 'Not ready: the store or the bus does not answer (which one is in the body)' } },
      },
    },
    async (_request, reply) => {
      const [store, bus] = await Promise.all([
        deps.store.ping().then(() => 'ok' as const, () => 'unavailable' as const),
        deps.bus.ping().then(() => 'ok' as const, () => 'unavailable' as const),
      ]);
      const ready = store === 'ok' && bus === 'ok';
      reply.code(ready ? 200 : 503);
      return { status: ready ? ('ready' as const) : ('not_ready' as const), store, bus, store_engine: deps.store.engine, bus_kind: deps.bus.kind, leader: deps.leadership.isLeader, leadership: deps.leadership.mode };
    },
  );
}
