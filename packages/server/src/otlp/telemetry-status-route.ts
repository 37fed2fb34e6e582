/**
 * `GET /telemetry/status` (CLI-3's `stella telemetry status`): how fast the tenant's telemetry
 * arrives at this replica now — items stored and requests refused per second over the last
 * minute and five minutes, per signal — and whether the installation is sealed (CORE-7, COL-5:
 * loopback and file egress only). The counters since start are on `/metrics`.
 */
import { Type, type TObject } from 'typebox';
import type { ServiceConfig } from '../config.js';
import { described } from '../http/openapi.js';
import { RATE_SIGNALS, type IngestRates } from '../self/ingest-rates.js';
import type { ServiceApp } from '../service-feature.js';

const SignalRate = Type.Object({
  accepted_per_second: Type.Number({ description: 'spans, log records or data points stored per second' }),
  refused_per_second: Type.Number({ description: 'OTLP requests refused per second' }),
});

const Signals: TObject = Type.Object(Object.fromEntries(RATE_SIGNALS.map((s) => [s, SignalRate])));

export const TelemetryStatusResponse = Type.Object({
  tenant: Type.String(),
  sealed: Type.Boolean({ description: 'the installation is sealed (STELLA_SEALED): loopback and file egress only' }),
  at: Type.String({ description: 'when the rates were read (RFC 3339)' }),
  ingest_rates: Type.Array(Type.Object({ window_seconds: Type.Integer(), signals: Signals }), {
    description: "this replica's rates over the last 60 and 300 seconds (with several replicas, each answers its share)",
  }),
});

export interface TelemetryStatusDeps {
  config: Pick<ServiceConfig, 'sealed'>;
  rates: IngestRates;
  clock: () => number;
}

export function telemetryStatusRoute(app: ServiceApp, deps: TelemetryStatusDeps): void {
  app.get(
    '/telemetry/status',
    {
      schema: {
        operationId: 'getTelemetryStatus',
        summary: "The tenant's ingest rates at this replica over the last minute and five minutes, and whether the installation is sealed",
        tags: ['telemetry'],
        response: { 200: described('Ingest rates per signal and the sealed state', TelemetryStatusResponse) },
        'x-error-codes': [],
      },
    },
    async (request) => {
      const tenant = request.auth!.tenant;
      return { tenant, sealed: deps.config.sealed, at: new Date(deps.clock()).toISOString(), ingest_rates: deps.rates.rates(tenant) };
    },
  );
}
