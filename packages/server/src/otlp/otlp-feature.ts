/**
 * The embedded OTLP receiver (STO-2): OTLP/HTTP on `STELLA_OTLP_HTTP_PORT` (4318) and OTLP/gRPC
 * on `STELLA_OTLP_GRPC_PORT` (4317), bound when the service starts listening (so a service
 * built only for in-process requests, as in tests, never claims the well-known ports).
 */
import type { Logger } from '@stellaops/telemetry-core';
import type { FeatureRuntime, ServiceFeature } from '../service-feature.js';
import { telemetryStoreFor } from '../segments/telemetry-store.js';
import { OtlpAuthenticator, verifierFromConfig } from './otlp-auth.js';
import { OtlpGrpcReceiver } from './otlp-grpc-receiver.js';
import { OtlpHttpReceiver } from './otlp-http-receiver.js';
import { OtlpIngestor } from './otlp-ingest.js';
import { OtlpScrubber } from './otlp-scrub.js';
import { TenantQuota } from './tenant-quota.js';

export interface OtlpPorts {
  http: number;
  grpc: number;
}

export interface OtlpRuntime extends FeatureRuntime {
  ingestor: OtlpIngestor;
  /** Binds both listeners (idempotent); resolves to the bound ports. */
  listen(): Promise<OtlpPorts>;
  /** Resolves once the listeners are bound (after the service's `listen()`); rejects if binding failed. */
  listening(): Promise<OtlpPorts>;
}

export const otlpFeature: ServiceFeature = {
  name: 'otlp',
  async create(ctx) {
    const { config, logger, clock } = ctx;
    const telemetry = telemetryStoreFor(ctx);
    const ingestor = new OtlpIngestor({
      segments: telemetry.segments,
      index: telemetry.index,
      scrubber: new OtlpScrubber(),
      quota: new TenantQuota(config.otlpTenantRecordsPerSec, config.otlpTenantBytesPerSec, clock),
      logger,
      clock,
    });
    const auth = new OtlpAuthenticator(await verifierFromConfig(config, clock), clock);
    const http = new OtlpHttpReceiver({ ingestor, auth, logger, maxMessageBytes: config.otlpMaxMessageBytes, maxInflightBytes: config.otlpMaxInflightBytes });
    const grpc = new OtlpGrpcReceiver({ ingestor, auth, logger, maxMessageBytes: config.otlpMaxMessageBytes });

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
      listen,
      listening: () => ready,
      routes: (app) => {
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
        await Promise.all([http.close(), grpc.close()]);
      },
    };
    return runtime;
  },
};

function logReady(logger: Logger, ports: OtlpPorts): void {
  logger.info({ details: { otlp_http_port: ports.http, otlp_grpc_port: ports.grpc } }, 'OTLP receiver listening');
}
