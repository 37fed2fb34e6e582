/**
 * One workload service process: `STELLA_WORKLOAD_CONFIG` says which. Telemetry is set up once
 * with `initTelemetry` (traces, metrics and logs to the Observability & Forensics service's
 * OTLP receiver, or to OTLP/JSON files), then the service listens on its assigned port and
 * tells its parent over IPC. Messages: `flush` (export what is buffered), `shutdown`.
 */
import { followDeepDebug, HttpDeepDebugSource, initTelemetry } from '@stellaops/telemetry-core';
import { TenantIncidentModeSource } from '../telemetry/tenant-incident-source.js';
import { tenantRoutingLogExporter, tenantRoutingSpanExporter } from '../telemetry/tenant-routing-exporter.js';
import { tenantRoutingMetricExporter } from '../telemetry/tenant-routing-metric-exporter.js';
import { SERVICE_ROUTES } from './registry.js';
import { createRuntime, createWorkloadApp, WORKLOAD_VERSION } from './service-host.js';
import { readWorkloadConfig, type WorkloadConfig } from './workload-config.js';

// The driver forks every service while the Observability service is still starting, and sends
// the configuration once that service's APIs are known; module loading overlaps the wait.
const config = process.env['STELLA_WORKLOAD_CONFIG'] || !process.send ? readWorkloadConfig() : await configFromParent();

function configFromParent(): Promise<WorkloadConfig> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string; config?: WorkloadConfig }): void => {
      if (m?.type !== 'configure' || !m.config) return;
      process.off('message', onMessage);
      try {
        resolve(readWorkloadConfig({ STELLA_WORKLOAD_CONFIG: JSON.stringify(m.config) }));
      } catch (err) {
        reject(err);
      }
    };
    process.on('message', onMessage);
    process.once('disconnect', () => reject(new Error('the parent went away before sending the configuration')));
    process.send!({ type: 'waiting' });
  });
}
const t = config.telemetry;
const fileUrl = (signal: string): string => new URL(`file://${t.fileDir}/${config.service}.${signal}.jsonl`).href;
const telemetry = await initTelemetry({
  service: config.service,
  version: WORKLOAD_VERSION,
  env: config.env ?? 'demo',
  ...(t.otlpEndpoint
    ? {
        // Traces, logs and metrics go to the service split per tenant (the receiver files each
        // request under one tenant); metrics are also served on /metrics for scrapers.
        exporters: {
          spans: tenantRoutingSpanExporter({ endpoint: t.otlpEndpoint, token: config.serviceToken, platformTenant: t.platformTenant ?? 'platform' }),
          logs: tenantRoutingLogExporter({ endpoint: t.otlpEndpoint, token: config.serviceToken, platformTenant: t.platformTenant ?? 'platform' }),
          metrics: tenantRoutingMetricExporter({ endpoint: t.otlpEndpoint, token: config.serviceToken, platformTenant: t.platformTenant ?? 'platform' }),
        },
      }
    : t.fileDir ? { endpoints: { traces: fileUrl('traces'), metrics: fileUrl('metrics'), logs: fileUrl('logs') } } : {}),
  sampling: {
    ratio: t.ratio,
    ...(t.incidentModeUrl
      ? { incidentSource: new TenantIncidentModeSource({ url: t.incidentModeUrl, token: config.serviceToken, tenants: config.tenants, intervalMs: 500 }) }
      : {}),
  },
  metrics: { exportIntervalMillis: t.metricsIntervalMs ?? 2000 },
  batch: { traces: { scheduledDelayMillis: 200 }, logs: { scheduledDelayMillis: 200 } },
  // The demo's services send their info lines too, so log search shows whole request stories.
  logs: { exportLevel: 'info' },
});
const runtime = createRuntime(config);
// Deep debug: the service's grants, polled per tenant; each one applied or dropped is logged.
const deepDebug = t.deepDebugUrl
  ? new HttpDeepDebugSource({
      url: t.deepDebugUrl,
      tenants: config.tenants,
      headers: { authorization: `Bearer ${config.serviceToken}` },
      intervalMs: 500,
      onError: (error) => runtime.logger.debug({ err: error }, 'deep-debug poll failed'),
    })
  : undefined;
if (deepDebug) followDeepDebug(deepDebug, { onError: (error, state) => runtime.logger.warn({ err: error, tenant_id: state.tenant }, 'deep-debug grant not applied') });
const app = await createWorkloadApp(runtime);
SERVICE_ROUTES[config.service](app, runtime);
const url = new URL(config.peers[config.service]);
await app.listen({ host: url.hostname, port: Number(url.port) });
runtime.logger.info({ action: 'listen', details: { url: url.origin } }, `${config.service} listening`);

let closing = false;
async function close(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  await app.close().catch(() => undefined);
  await deepDebug?.close();
  await telemetry.shutdown({ timeoutMs: 5000 });
  runtime.logger.flush();
  process.exit(code);
}

process.on('message', (message: { type?: string; id?: number }) => {
  if (message?.type === 'flush') {
    void telemetry
      .forceFlush()
      .catch((error: unknown) => runtime.logger.error({ err: error }, 'telemetry flush failed'))
      .then(() => process.send?.({ type: 'flushed', id: message.id, timelineFailures: runtime.stella.timelineFailures }))
      // The parent went away: nobody is left to answer.
      .catch(() => undefined);
  } else if (message?.type === 'shutdown') void close(0);
});
process.once('SIGTERM', () => void close(0));
process.once('SIGINT', () => void close(0));
// Without a parent there is nobody to stop us cleanly; with one, its death ends us too.
process.once('disconnect', () => void close(0));
process.send?.({ type: 'ready', service: config.service, url: url.origin });
