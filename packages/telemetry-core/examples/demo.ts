/**
 * A small instrumented example: two StellaOps-style services talk over real HTTP with W3C
 * trace context, schedule a job that carries its context in the payload, and log through
 * telemetry-core. Every line printed is scrubbed NDJSON carrying the trace ids.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import {
  createLogger,
  currentContext,
  enterRequestContext,
  fastifyTelemetry,
  logDecision,
  restoreJobContext,
  serializeJobContext,
  tracedFetch,
} from '../src/index.js';

const repoRoot = new URL('../../..', import.meta.url).pathname;
const gatewayLog = createLogger({ service: 'web-api', version: '0.1.0', env: 'demo', repoRoot });
const sbomLog = createLogger({ service: 'sbom-service', version: '0.1.0', env: 'demo', repoRoot });

const queue: Record<string, unknown>[] = [];

const sbom = Fastify();
await sbom.register(fastifyTelemetry, { service: 'sbom-service' });
sbom.addHook('preHandler', (req, _reply, done) =>
  enterRequestContext(req, { tenant_id: String(req.headers['x-stella-tenant'] ?? 'unknown'), actor: 'svc:web-api' }, done),
);
sbom.post('/sboms', async (req) => {
  const body = req.body as { name: string; source: string };
  // The source URL carries credentials; the library redacts them, the call site does nothing special.
  sbomLog.info({ source_id: 'registry', resource: 'sbom', action: 'ingest', details: { source: body.source } }, `ingesting ${body.name}`);
  const job = { kind: 'sbom.compute', sbom: body.name, telemetry: serializeJobContext() };
  queue.push(JSON.parse(JSON.stringify(job)) as Record<string, unknown>);
  return { accepted: true, trace_id: currentContext().trace_id };
});
await sbom.listen({ port: 0, host: '127.0.0.1' });
const sbomUrl = `http://127.0.0.1:${(sbom.server.address() as AddressInfo).port}`;

const gateway = Fastify();
await gateway.register(fastifyTelemetry, { service: 'web-api' });
gateway.addHook('preHandler', (req, _reply, done) => enterRequestContext(req, { tenant_id: 'acme', actor: 'user:7f3a', project_id: 'payments' }, done));
gateway.post('/api/sboms', async (req) => {
  logDecision({ kind: 'authz', effect: 'allow', reason: 'scope granted', scope: 'stella:sbom:write#tenant/acme', action: 'create' }, gatewayLog);
  gatewayLog.info({ details: { authorization: req.headers['authorization'], contact: 'ops-lead@acme.example' } }, 'forwarding SBOM upload');
  const res = await tracedFetch(`${sbomUrl}/sboms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-stella-tenant': 'acme' },
    body: JSON.stringify(req.body),
  });
  return res.json();
});
await gateway.listen({ port: 0, host: '127.0.0.1' });
const gatewayUrl = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;

// A caller with a bearer token and a URL with embedded credentials (fake values built at run time).
const fakeToken = ['eyJhbGciOiJIUzI1NiJ9', Buffer.from('{"sub":"demo"}').toString('base64url'), 'ZGVtby1zaWduYXR1cmU'].join('.');
const res = await fetch(`${gatewayUrl}/api/sboms`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${fakeToken}` },
  body: JSON.stringify({ name: 'payments-api@2.4.1', source: `https://builder:${'pa55'}word@registry.acme.example/sboms/payments.json` }),
});
const accepted = (await res.json()) as { trace_id: string };

// The worker restores the job's context and continues the same trace.
for (const job of queue.splice(0)) {
  await restoreJobContext(
    job['telemetry'],
    async () => {
      sbomLog.info({ job_id: 'job-0001', sbom_id: String(job['sbom']), action: 'compute' }, 'computing components');
      try {
        throw Object.assign(new Error(`read failed for /home/builder/.cache/sbom.json\n  retry 1 of 3`), { code: 'SBOM_READ_FAILED' });
      } catch (err) {
        sbomLog.error({ err, job_id: 'job-0001' }, 'SBOM compute failed');
      }
    },
    { mode: 'continue' },
  );
}

await gateway.close();
await sbom.close();
process.stderr.write(`\ndemo: one trace ${accepted.trace_id} across web-api → sbom-service → job; every line above is scrubbed NDJSON.\n`);
