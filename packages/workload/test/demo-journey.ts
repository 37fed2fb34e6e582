/**
 * The assertions both e2e suites make (embedded defaults, and PostgreSQL + NATS) on a demo
 * run, through public faces only: the HTTP APIs of the service and the workload, the
 * services' `/metrics`, their log output and their exported telemetry.
 */
import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BURN_SERVICE, BURN_SLO, DEMO_TENANTS, EVALUATION_CHAIN, FAILING_EVALUATIONS, checkLogs, SERVICE_NAMES, type DemoResult } from '../src/index.js';

export async function assertDemoRun(result: DemoResult): Promise<void> {
  const failed = result.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`);
  expect(failed).toEqual([]);
  expect(result.ok).toBe(true);
  // This build of the service has every API the demo uses: nothing was left out.
  expect(result.notAvailable).toEqual([]);

  // The evaluation snapshot and the job capsule verify offline; the job and export attestations verify.
  expect(result.evidence!.snapshots.map((x) => [x.kind, x.verify?.exitCode, x.verify?.json?.['ok']])).toEqual([
    ['evaluation', 0, true],
    ['job-capsule', 0, true],
  ]);
  expect(result.attestations.map((a) => [a.id !== null, a.show?.exitCode, (a.show?.json?.['verification'] as { ok?: boolean } | undefined)?.ok ?? a.show?.json?.['ok']])).toEqual([
    [true, 0, true],
    [true, 0, true],
  ]);
  // The chain of custody of tenant A's SBOM is complete and verifies as a whole.
  expect(result.custody!.json?.['complete']).toBe(true);
  expect(result.custody!.json?.['verified']).toBe(true);
  // Incident mode switched on by an operator raised the trace volume of its tenant.
  expect(result.incident!.storedDuring).toBeGreaterThan(result.incident!.storedBefore);
  expect(result.incident!.storedDuring).toBeGreaterThanOrEqual(Math.ceil(result.incident!.requests * 0.9));
  // The forensic capture verified.
  expect(result.capture!.json?.['verified']).toBe(true);
  // A week of tenant A's releases: frequency and lead time elite, 20 % change failures and 1.6 h to recover high, so high overall.
  expect(result.dora!.refused).toEqual([]);
  expect(result.dora!.metrics.json).toMatchObject({
    deployments_total: 10,
    deployment_failures_total: 2,
    lead_time_hours: 4.5,
    change_failure_rate_percent: 20,
    time_to_recovery_hours: 1.625,
    time_to_acknowledge_hours: 0.25,
    classification: { deployment_frequency: 'elite', lead_time: 'elite', change_failure_rate: 'high', time_to_recovery: 'high', overall: 'high' },
    trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
  const stack = result.stack!;
  const [a, b] = DEMO_TENANTS;

  // Every log line carries the CORE-1 fields present in its context.
  const logs = checkLogs(stack.logDir, SERVICE_NAMES);
  expect(logs.violations).toEqual([]);
  expect(logs.files).toBe(SERVICE_NAMES.length + 1);
  expect(logs.lines).toBeGreaterThan(50);
  // Decision logs of the policy engine carry version, rule ids, effect and reason.
  const decisions = checkDecisionLines(stack.logDir);
  expect(decisions.length).toBeGreaterThan(0);
  for (const d of decisions) {
    expect(d['policy_version']).toBe('baseline@7');
    expect(Array.isArray(d['rule_ids'])).toBe(true);
    expect(['allow', 'warn', 'deny']).toContain(d['decision_effect']);
    expect(typeof d['decision_reason']).toBe('string');
    expect(d['trace_id']).toMatch(/^[0-9a-f]{32}$/);
  }

  // ≥ 90% of routes and job paths produced spans, with exemplars.
  expect(result.coverage!.ratio).toBeGreaterThanOrEqual(0.9);
  expect(new Set(result.spans.map((s) => s.service))).toEqual(new Set(SERVICE_NAMES));

  // Tenant A's timeline shows the full chain for its evaluation, and none of tenant B's events.
  const tokenA = await stack.token(a!.tenant, ['timeline:read']);
  const runA = result.runs.find((r) => r.plan.tenant === a!.tenant)!;
  const runB = result.runs.find((r) => r.plan.tenant === b!.tenant)!;
  const page = await fetch(`${stack.stellaUrl}/timeline?limit=1000`, { headers: { authorization: `Bearer ${tokenA}` } });
  expect(page.status).toBe(200);
  const events = ((await page.json()) as { events: { kind: string; tenant_id: string; actor: string; trace_id: string | null; resource_id: string | null; details: Record<string, unknown> }[] }).events;
  expect(events.every((e) => e.tenant_id === a!.tenant)).toBe(true);
  expect(events.some((e) => e.trace_id === runB.evaluation.job.trace_id)).toBe(false);
  const chain = events.filter((e) => e.trace_id === runA.evaluation.job.trace_id).reverse();
  // In causal order; the service adds its own events (attestation.recorded) in between.
  expect(chain.map((e) => e.kind).filter((k) => (EVALUATION_CHAIN as readonly string[]).includes(k))).toEqual([...EVALUATION_CHAIN]);
  // The chain's ids and digests link up: the SBOM ingested is the source fetched, the export names the evaluation.
  const evalResult = runA.evaluation.result!;
  const byKind = Object.fromEntries(chain.map((e) => [e.kind, e]));
  expect(byKind['source.fetched']!.details['source_digest']).toBe(evalResult.source_digest);
  expect(byKind['sbom.ingested']!.resource_id).toBe(evalResult.sbom_id);
  expect(byKind['sbom.ingested']!.details['source_digest']).toBe(evalResult.source_digest);
  expect(byKind['policy.evaluated']!.details['evaluation_id']).toBe(evalResult.evaluation_id);
  expect(byKind['export.completed']!.resource_id).toBe(evalResult.export_id);
  expect(byKind['export.completed']!.details['export_digest']).toBe(evalResult.export_digest);

  // The injected failure burnt tenant A's SBOM ingest SLO fast enough to page, and the service
  // switched incident mode on for the tenant and sbom-service by itself.
  const burnt = result.sloBurn!;
  expect([burnt.tenant, burnt.slo, burnt.service, burnt.period]).toEqual([a!.tenant, BURN_SLO, BURN_SERVICE, '30d']);
  expect(burnt.failures.map((f) => [f.record.state, f.record.error?.code, f.record.error?.message.includes('components[17].purl')])).toEqual(
    Array.from({ length: FAILING_EVALUATIONS }, () => ['failed', 'sbom.invalid', true]),
  );
  // The journey metrics reached the service over OTLP: one good ingest before, the failed ones after.
  expect(burnt.ingestsBefore).toBe(1);
  expect(burnt.ingestsAfter).toBe(1 + FAILING_EVALUATIONS);
  // GET /obs/slo before: nothing burnt. After: 4 failures of 5 ingests, an 80% error ratio on a 5% budget.
  expect(burnt.before).toMatchObject({ state: 'ok', firing: false, sli: 1, long_burn_rate: 0, short_burn_rate: 0, budget_remaining: 1, burn_rate_threshold: 14.4 });
  const after = burnt.after!;
  expect([after.state, after.firing]).toEqual(['page', true]);
  expect(Date.parse(after.evaluated_at)).toBeGreaterThan(Date.parse(burnt.before.evaluated_at));
  expect(after.long_burn_rate).toBeCloseTo(16, 6);
  expect(after.short_burn_rate).toBeCloseTo(16, 6);
  expect(after.sli).toBeCloseTo(0.2, 9);
  expect(after.budget_remaining).toBeCloseTo(-15, 6);
  // The breach of the fast page switched incident mode on: trigger slo_burn, by the service, for sbom-service only.
  const incident = burnt.incident!;
  expect(incident).toMatchObject({ trigger: 'slo_burn', started_by: 'system:slo', service: BURN_SERVICE, ended_at: null });
  expect(Date.parse(incident.started_at)).toBeGreaterThanOrEqual(Date.parse(burnt.failedAt));
  expect(burnt.breach).toMatchObject({ slo: BURN_SLO, service: BURN_SERVICE, long_window: '1h', short_window: '5m', incident_id: incident.incident_id });
  expect(['on', 'extended']).toContain(burnt.breach!.incident);
  expect(burnt.breach!.burn_rate).toBeGreaterThanOrEqual(14.4);
  expect(burnt.onTimeline).toBe(true);
  expect(burnt.followed).toBe(true);

  // The injected failure is red, explained, and has a trace id.
  const failure = runA.failure!;
  expect(failure.record.state).toBe('failed');
  expect(failure.record.error!.code).toBe('advisory.malformed');
  const failedEvents = events.filter((e) => e.trace_id === failure.job.trace_id).map((e) => e.kind);
  expect(failedEvents).toEqual(expect.arrayContaining(['job.scheduled', 'job.started', 'advisory.rejected', 'job.failed']));
  for (const f of burnt.failures) {
    expect(events.filter((e) => e.trace_id === f.job.trace_id).map((e) => e.kind)).toEqual(expect.arrayContaining(['job.scheduled', 'job.started', 'source.fetched', 'job.failed']));
  }

  // The tenant's own records say the service did it, and that nobody called the incident API for it.
  const tokenA2 = await stack.token(a!.tenant, ['obs:read', 'timeline:read']);
  const breachEvents = events.filter((e) => e.kind === 'slo.breach.firing' && e.resource_id === BURN_SLO);
  expect(breachEvents.map((e) => e.details['breach_id'])).toContain(burnt.breach!.breach_id);
  const modeOn = events.filter((e) => e.kind === 'audit.incident.mode_on');
  expect(modeOn.length).toBeGreaterThan(0);
  expect(modeOn.every((e) => e.actor === 'system:slo')).toBe(true);
  const modes = await fetch(`${stack.stellaUrl}/telemetry/incidents/mode`, { headers: { authorization: `Bearer ${tokenA2}` } });
  expect(modes.status).toBe(200);
  const modesBody = (await modes.json()) as { modes: { service: string | null }[]; incidents: { trigger: string; service: string | null; ended_at: string | null }[] };
  expect(modesBody.modes.map((m) => m.service)).toContain(BURN_SERVICE);
  expect(modesBody.incidents.every((i) => i.trigger === 'slo_burn')).toBe(true);
  const slo = await fetch(`${stack.stellaUrl}/obs/slo?slo=${BURN_SLO}`, { headers: { authorization: `Bearer ${tokenA2}` } });
  expect(slo.status).toBe(200);
  const sloBody = (await slo.json()) as { slos: { state: string }[]; breaches: { breach_id: string; resolved_at: string | null }[] };
  expect(sloBody.slos[0]!.state).toBe('page');
  expect(sloBody.breaches.find((x) => x.breach_id === burnt.breach!.breach_id)?.resolved_at).toBeNull();

  // A wrong-tenant token gets a 403 that explains the denial without PII.
  const tokenB = await stack.token(b!.tenant, ['timeline:read'], 'user:jane.doe@globex.example');
  const denied = await fetch(`${stack.stellaUrl}/timeline`, { headers: { authorization: `Bearer ${tokenB}`, 'x-stella-tenant': a!.tenant } });
  expect(denied.status).toBe(403);
  const body = (await denied.json()) as Record<string, unknown>;
  expect(body['error_code']).toBe('auth.tenant_denied');
  expect(String(body['message'])).toContain(`stella:timeline:read#tenant/${a!.tenant}`);
  expect(JSON.stringify(body)).not.toMatch(/jane|globex\.example|@/);
}

function checkDecisionLines(logDir: string): Record<string, unknown>[] {
  return readFileSync(join(logDir, 'policy-engine.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"decision.policy"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
