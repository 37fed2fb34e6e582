/**
 * Incident mode switched by an operator, observed from outside: the same unsampled requests for
 * one tenant before and during a tenant-wide incident mode (`stella telemetry incident on`), and
 * how many of their traces the service stored (GET /obs/trace/:id).
 * Whether every process follows the switch is read from each one's
 * `telemetry_incident_mode` gauge, not assumed after a sleep.
 */
import { newSpanId, newTraceId } from '@stellaops/telemetry-core';
import type { WorkloadServiceName } from '../services/workload-config.js';
import type { TenantRun } from './journey.js';
import { eventually } from './processes.js';
import { stellaCli, type CliRun } from './stella-cli.js';
import type { Stack } from './stack.js';

export interface IncidentOutcome {
  tenant: string;
  on: CliRun;
  off: CliRun | undefined;
  requests: number;
  storedBefore: number;
  storedDuring: number;
  /** Tenant-wide incident modes the service lists for the tenant after "off" (modes of one service, such as an SLO's, are not this switch's). */
  modesAfterOff: number | undefined;
}

const PROBED: readonly WorkloadServiceName[] = ['conseiller', 'sbom-service'];

async function incidentGauge(stack: Stack, service: WorkloadServiceName, tenant: string): Promise<boolean> {
  const text = await (await fetch(`${stack.peers[service]}/metrics`)).text();
  return text.split('\n').some((l) => l.startsWith('telemetry_incident_mode') && l.includes(`tenant="${tenant}"`) && !l.startsWith('#'));
}

/** Requests that start unsampled (flag 00): head sampling would drop them; incident mode must not. */
async function probe(stack: Stack, run: TenantRun, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const traceId = newTraceId();
    ids.push(traceId);
    const res = await fetch(`${stack.peers.conseiller}/advisories/match`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-stella-tenant': run.plan.tenant, 'x-stella-actor': `user:${run.plan.tenant}-analyst`, traceparent: `00-${traceId}-${newSpanId()}-00` },
      body: JSON.stringify({ sbom_id: run.evaluation.result!.sbom_id }),
    });
    if (!res.ok) throw new Error(`probe request answered ${res.status}`);
  }
  return ids;
}

async function stored(stack: Stack, tenant: string, token: string, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (const id of ids) {
    const res = await fetch(`${stack.stellaUrl}/obs/trace/${id}`, { headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': tenant } });
    if (res.ok) n++;
  }
  return n;
}

export async function incidentModeRaisesTraceVolume(stack: Stack, run: TenantRun, token: string, requests = 10): Promise<IncidentOutcome> {
  const tenant = run.plan.tenant;
  const env = { server: stack.stellaUrl, token, tenant };
  const before = await probe(stack, run, requests);
  const on = await stellaCli(['telemetry', 'incident', 'on', '--ttl', '15m', '--reason', 'demo: raise trace volume for one tenant'], env);
  const outcome: IncidentOutcome = { tenant, on, off: undefined, requests, storedBefore: 0, storedDuring: 0, modesAfterOff: undefined };
  if (on.exitCode !== 0) return outcome;
  await eventually(`every probed service to be in incident mode for ${tenant}`, async () => ((await Promise.all(PROBED.map((s) => incidentGauge(stack, s, tenant)))).every(Boolean) ? true : undefined), 20_000, 200);
  const during = await probe(stack, run, requests);
  outcome.off = await stellaCli(['telemetry', 'incident', 'off', '--reason', 'demo: done'], env);
  // The end is read from the service (the processes' gauge keeps its last series, see the overview doc).
  outcome.modesAfterOff = await eventually(`incident mode to be off for ${tenant}`, async () => {
    const res = await fetch(`${stack.stellaUrl}/telemetry/incidents/mode`, { headers: { authorization: `Bearer ${token}`, 'x-stella-tenant': tenant } });
    const body = (await res.json()) as { modes?: { service: string | null }[] };
    return res.ok && Array.isArray(body.modes) && body.modes.every((m) => m.service !== null) ? 0 : undefined;
  }, 10_000, 200);
  await stack.flush();
  // Stored traces arrive a moment after the flush; wait (bounded) for the incident batch.
  outcome.storedDuring = await eventually('the incident traces to be stored', async () => {
    const n = await stored(stack, tenant, token, during);
    return n >= requests ? n : undefined;
  }, 15_000, 250).catch(() => stored(stack, tenant, token, during));
  outcome.storedBefore = await stored(stack, tenant, token, before);
  return outcome;
}

export async function captureForensicBundle(stack: Stack, tenant: string, token: string, out: string): Promise<CliRun> {
  return stellaCli(['telemetry', 'capture', '--window', '1h', '--out', out], { server: stack.stellaUrl, token, tenant });
}
