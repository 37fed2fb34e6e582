/**
 * `GET /metrics`: the service's own metrics for Prometheus (CORE-6). A scraper that sends
 * `Accept: application/openmetrics-text` gets OpenMetrics 1.0 with exemplars (trace ids of
 * requests and captures); others the Prometheus 0.0.4 text format. Public, like the probes:
 * it carries no tenant data beyond bounded tenant labels. `STELLA_METRICS_PORT` also serves it
 * on a listener of its own (no other route), for scrapers kept off the API port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceApp } from '../service-feature.js';

export interface MetricsSource {
  renderMetrics(accept: string | undefined): Promise<{ status: number; contentType: string; body: string }>;
}

const TEXT = { schema: { type: 'string' } };

export function metricsRoute(app: ServiceApp, source: MetricsSource): void {
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getPrometheusMetrics',
        summary: "The service's own metrics: Prometheus text, or OpenMetrics with exemplars when asked for with Accept",
        tags: ['health'],
        security: [],
        response: {
          200: {
            description: 'The exposition, in the format the Accept header asked for',
            content: { 'text/plain; version=0.0.4; charset=utf-8': TEXT, 'application/openmetrics-text; version=1.0.0; charset=utf-8': TEXT },
          },
        },
      },
    },
    async (request, reply) => {
      const r = await source.renderMetrics(request.headers.accept);
      if (r.status !== 200) throw new Error(`metrics collection failed: ${r.body.trim()}`);
      return reply.header('content-type', r.contentType).send(r.body);
    },
  );
}

/** A listener serving only `GET /metrics` (`STELLA_METRICS_PORT`). */
export class MetricsListener {
  private server: Server | undefined;

  constructor(private readonly source: MetricsSource) {}

  /** Listens; resolves to the bound port. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only GET /metrics is served here\n');
        return;
      }
      this.source
        .renderMetrics(req.headers.accept)
        .then(
          (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(req.method === 'HEAD' ? undefined : r.body),
          () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n'),
        )
        // A failure to write the answer (the scraper went away) closes the socket.
        .catch(() => res.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
