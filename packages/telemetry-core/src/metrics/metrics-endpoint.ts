/**
 * The `/metrics` endpoint: a pull MetricReader registered with the MeterProvider, rendered
 * on each scrape as OpenMetrics (with exemplars) or Prometheus text, by content negotiation.
 * Usable from node:http (`metricsHandler`) and Fastify (`fastifyMetrics`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics';
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { ExemplarStore } from './exemplar-store.js';
import { CONTENT_TYPES, negotiateFormat, serializeMetrics, type ExpositionFormat } from './openmetrics.js';

export class ExpositionReader extends MetricReader {
  /** `producers`: metric sources besides the SDK's instruments (telemetry-core's guarded instruments). */
  constructor(
    private readonly exemplars: ExemplarStore,
    producers: MetricProducer[] = [],
  ) {
    super({ metricProducers: producers });
  }

  /** Collects now and renders the exposition in `format`. */
  async render(format: ExpositionFormat): Promise<{ contentType: string; body: string }> {
    const { resourceMetrics } = await this.collect({ timeoutMillis: 5000 });
    return { contentType: CONTENT_TYPES[format], body: serializeMetrics(resourceMetrics, { format, exemplars: this.exemplars }) };
  }

  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

let activeReader: ExpositionReader | undefined;

/** Set by initTelemetry; the handlers render whichever telemetry instance is active. */
export function setActiveExpositionReader(reader: ExpositionReader | undefined): void {
  activeReader = reader;
}

/** Renders the active instance's metrics; `accept` is the scraper's Accept header. */
export async function renderMetrics(accept?: string): Promise<{ status: number; contentType: string; body: string }> {
  if (!activeReader) return { status: 503, contentType: 'text/plain; charset=utf-8', body: 'telemetry not initialised (call initTelemetry)\n' };
  try {
    return { status: 200, ...(await activeReader.render(negotiateFormat(accept))) };
  } catch {
    return { status: 503, contentType: 'text/plain; charset=utf-8', body: 'metrics collection failed\n' };
  }
}

/** node:http handler: `if (req.url === '/metrics') return metricsHandler()(req, res)`. */
export function metricsHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    renderMetrics(req.headers.accept)
      .then((r) => {
        res.writeHead(r.status, { 'content-type': r.contentType });
        res.end(r.body);
      })
      .catch(() => {
        // renderMetrics answers its own failures; a failure to write the answer closes the socket.
        res.destroy();
      });
  };
}

export interface FastifyMetricsOptions {
  /** Route path. Default `/metrics`. */
  path?: string;
}

const plugin: FastifyPluginCallback<FastifyMetricsOptions> = (fastify, options, done) => {
  fastify.get(options.path ?? '/metrics', async (request, reply) => {
    const r = await renderMetrics(request.headers.accept);
    return reply.code(r.status).header('content-type', r.contentType).send(r.body);
  });
  done();
};

/** Fastify plugin registering `GET /metrics` (add the path to fastifyTelemetry's `ignoreRoutes`). */
export const fastifyMetrics = fp(plugin, { name: '@stellaops/telemetry-core/metrics', fastify: '>=4' });
