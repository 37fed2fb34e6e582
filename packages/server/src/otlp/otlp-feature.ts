/**
 * The embedded OTLP receiver (STO-2): OTLP/HTTP on `STELLA_OTLP_HTTP_PORT` (4318) and OTLP/gRPC
 * on `STELLA_OTLP_GRPC_PORT` (4317), bound when the service starts listening (so a service
 * built only for in-process requests, as in tests, never claims the well-known ports). Both
 * share one memory budget (`STELLA_OTLP_MAX_INFLIGHT_BYTES`), the per-request item limits and
 * the pool of prepare workers (`STELLA_OTLP_PREPARE_WORKERS`) that keeps large requests off the
 * event loop.
 */
import type { Logger, ScrubPolicy } from '@stellaops/telemetry-core';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { OtlpAuthenticator } from './otlp-auth.js';
import { OtlpGrpcReceiver } from './otlp-grpc-receiver.js';
import { OtlpHttpReceiver } from './otlp-http-receiver.js';
import type { OtlpIngestor } from './otlp-ingest.js';
import { InflightBudget } from './inflight-budget.js';
import { defaultPrepareWorkers, PreparePool } from './prepare-pool.js';
import { decodedBytesEstimate, RequestPipeline } from './request-pipeline.js';
import { telemetryStatusRoute } from './telemetry-status-route.js';

export interface OtlpPorts {
  http: number;
  grpc: number;
}

export interface OtlpRuntime extends FeatureRuntime {
  ingestor: OtlpIngestor;
  /** Worker threads for large requests (absent with `STELLA_OTLP_PREPARE_WORKERS=0`). */
  pool: PreparePool | undefined;
  /** Memory held by requests in progress, shared by both listeners. */
  budget: InflightBudget;
  /** Binds both listeners (idempotent); resolves to the bound ports. */
  listen(): Promise<OtlpPorts>;
  /** Resolves once the listeners are bound (after the service's `listen()`); rejects if binding failed. */
  listening(): Promise<OtlpPorts>;
}

export const otlpFeature: ServiceFeature = {
  name: 'otlp',
  async create({ config, otlpIngestor: ingestor, selfMetrics, verifier, logger, clock }) {
    // The workers' policy is the ingest path's (the default; each thread compiles its own).
    const scrubPolicy: ScrubPolicy = {};
    const auth = new OtlpAuthenticator(verifier, clock);
    const limits = { maxItems: config.otlpMaxItemsPerRequest, maxValues: config.otlpMaxAttributesPerRequest };
    const workers = config.otlpPrepareWorkers ?? defaultPrepareWorkers();
    // A worker's heap holds at most one request: room for the largest the limits admit, twice over.
    const largest = decodedBytesEstimate({ items: limits.maxItems, values: limits.maxValues }, config.otlpMaxMessageBytes, 'json');
    const pool = workers > 0 ? new PreparePool({ logger, size: workers, scrubPolicy, heapLimitMb: Math.max(256, Math.ceil(largest / 2 ** 20) + 128) }) : undefined;
    const stopObserving = pool ? selfMetrics.observeQueueDepth('otlp.prepare', () => pool.pending) : () => undefined;
    const pipeline = new RequestPipeline({ ingestor, pool, clock, limits });
    const budget = new InflightBudget(config.otlpMaxInflightBytes);
    const http = new OtlpHttpReceiver({ pipeline, auth, logger, maxMessageBytes: config.otlpMaxMessageBytes, budget });
    const grpc = new OtlpGrpcReceiver({ pipeline, auth, logger, maxMessageBytes: config.otlpMaxMessageBytes, budget });

    let bound: Promise<OtlpPorts> | undefined;
    let resolveReady!: (ports: OtlpPorts) => void;
    let rejectReady!: (error: unknown) => void;
    const ready = new Promise<OtlpPorts>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    ready.catch(() => undefined);
    const listen = (): Promise<OtlpPorts> => {
      bound ??= (async () => {
        const ports = { http: await http.listen(config.otlpHttpPort, config.host), grpc: await grpc.listen(config.otlpGrpcPort, config.host) };
        logReady(logger, ports);
        return ports;
      })();
      bound.then(resolveReady, rejectReady);
      return bound;
    };

    const runtime: OtlpRuntime = {
      ingestor,
      pool,
      budget,
      listen,
      listening: () => ready,
      routes: (app) => {
        telemetryStatusRoute(app, { config, rates: selfMetrics.ingestRates, clock });
        app.addHook('onListen', async () => {
          await listen().catch((error: unknown) => {
            logger.error(
              { err: error, error_code: 'otlp.listen_failed', details: { http_port: config.otlpHttpPort, grpc_port: config.otlpGrpcPort } },
              'the OTLP receiver could not bind its ports; set STELLA_OTLP_HTTP_PORT / STELLA_OTLP_GRPC_PORT to free ports',
            );
          });
        });
      },
      stop: async () => {
        stopObserving();
        await Promise.all([http.close(), grpc.close()]);
        await pool?.close();
      },
    };
    return runtime;
  },
};

function logReady(logger: Logger, ports: OtlpPorts): void {
  logger.info({ details: { otlp_http_port: ports.http, otlp_grpc_port: ports.grpc } }, 'OTLP receiver listening');
}
