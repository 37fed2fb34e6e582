/**
 * The demo as a library: starts the system, runs the journey for two tenants, injects a
 * failure that burns a journey SLO until the service pages and switches incident mode on by
 * itself, verifies what the platform recorded, and returns everything a summary (or a test)
 * needs. Each step reports as it goes; a step whose API this build of the service
 * does not offer is not run and the summary says so — nothing is faked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES } from '../services/workload-config.js';
import { doraLine, recordReleaseWeek, type DoraOutcome } from './dora-steps.js';
import { cliOk, cliProblem, custody, showAttestations, snapshotAndVerify, type EvidenceOutcome } from './forensics-steps.js';
import { captureForensicBundle, incidentModeRaisesTraceVolume, type IncidentOutcome } from './incident-steps.js';
import type { CliRun } from './stella-cli.js';
import { checkLogs, timelineChain, wrongTenantDenial, type LogCheck } from './checks.js';
import { DEMO_TENANTS, runTenantJourney, type TenantRun } from './journey.js';
import { BROKEN_SOURCE, burn, BURN_PAIR, BURN_SERVICE, BURN_SLO, FAILING_EVALUATIONS, injectBrokenSbom, percent, sloAfter, sloBefore, type SloBurnOutcome } from './slo-steps.js';
import { startStack, type Stack } from './stack.js';
import { spansFromFiles, spansFromObs, telemetryCoverage, type Coverage, type ExportedSpan } from './telemetry-coverage.js';
import type { TimelineEvent } from '@stellaops/telemetry-core';

export interface DemoOptions {
  /** Data directory; default a fresh temp dir (removed at the end unless keepRunning). */
  dataDir?: string;
  serviceEnv?: NodeJS.ProcessEnv;
  /** Leave the system running and return it (the caller stops it). */
  keepRunning?: boolean;
  /** Progress lines. Default: none. */
  progress?: (line: string) => void;
  samplingRatio?: number;
}

export interface StepResult {
  name: string;
  ok: boolean;
  ms: number;
  detail: string;
}

export interface DemoResult {
  ok: boolean;
  durationMs: number;
  dataDir: string;
  /** False when the data dir was a temporary one, removed at the end. */
  dataDirKept: boolean;
  steps: StepResult[];
  /** Steps not run because this build of the service lacks their API. */
  notAvailable: string[];
  runs: TenantRun[];
  timeline: Record<string, TimelineEvent[]>;
  logs: LogCheck | undefined;
  denial: Awaited<ReturnType<typeof wrongTenantDenial>> | undefined;
  coverage: Coverage | undefined;
  evidence: EvidenceOutcome | undefined;
  attestations: { subject: string; id: string | null; show: CliRun | undefined }[];
  custody: CliRun | undefined;
  incident: IncidentOutcome | undefined;
  /** The injected failure and the SLO burn it caused: GET /obs/slo before and after, the automatic incident mode. */
  sloBurn: SloBurnOutcome | undefined;
  capture: CliRun | undefined;
  /** A week of one tenant's deployments and incidents recorded, and its DORA metrics and level (stella dora metrics). */
  dora: DoraOutcome | undefined;
  /** Spans exported by the workload during the run. */
  spans: ExportedSpan[];
  /** Present when keepRunning. */
  stack: Stack | undefined;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const say = options.progress ?? (() => undefined);
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'stella-demo-'));
  const steps: StepResult[] = [];
  const result: DemoResult = { ok: false, durationMs: 0, dataDir, dataDirKept: !ownDir || !!options.keepRunning, steps, notAvailable: [], runs: [], timeline: {}, logs: undefined, denial: undefined, coverage: undefined, spans: [], stack: undefined, evidence: undefined, attestations: [], custody: undefined, incident: undefined, sloBurn: undefined, capture: undefined, dora: undefined };

  async function step<T>(name: string, fn: () => Promise<{ value: T; detail: string; ok?: boolean }>): Promise<T | undefined> {
    const t0 = Date.now();
    say(`▸ ${name} …`);
    try {
      const { value, detail, ok = true } = await fn();
      steps.push({ name, ok, ms: Date.now() - t0, detail });
      say(`  ${ok ? '✔' : '✘'} ${detail} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return value;
    } catch (err) {
      const crashed = stack?.crashed() ?? [];
      const detail = `${(err as Error).message}${crashed.length ? ` — ${crashed.join('; ')}` : ''}`;
      steps.push({ name, ok: false, ms: Date.now() - t0, detail });
      say(`  ✘ ${detail}`);
      return undefined;
    }
  }

  let stack: Stack | undefined;
  try {
    stack = await step('start the Observability & Forensics service and the seven workload services', async () => {
      const s = await startStack({ dataDir, tenants: DEMO_TENANTS.map((t) => t.tenant), serviceEnv: options.serviceEnv, samplingRatio: options.samplingRatio });
      const on = Object.entries(s.features).filter(([, v]) => v).map(([k]) => k);
      return { value: s, detail: `service at ${s.stellaUrl} (APIs: timeline${on.length ? `, ${on.join(', ')}` : ''}); workload: ${SERVICE_NAMES.join(', ')}` };
    });
    if (!stack) return result;
    const s = stack;

    const journeysStarted = Date.now();
    const runs = await step('run the journey for two tenants (feed ingest → source fetch → SBOM compute → advisory match → VEX reconcile → policy evaluate → advisory link → export)', async () => {
      const value = await Promise.all(DEMO_TENANTS.map((plan) => runTenantJourney(s, plan)));
      const lines = value.map((r) => {
        const e = r.evaluation.result;
        return e
          ? `${r.plan.tenant}: ${e.components} components, ${e.findings} findings, VEX ${JSON.stringify(e.vex_statuses)}, policy ${e.policy_version} → ${e.verdict} (deny ${e.decisions.deny}, warn ${e.decisions.warn}, allow ${e.decisions.allow}), export ${e.export_id}`
          : `${r.plan.tenant}: evaluation ${r.evaluation.record.state} ${r.evaluation.record.error?.code ?? ''}`;
      });
      const ok = value.every((r) => r.ingest.record.state === 'finished' && r.evaluation.record.state === 'finished');
      return { value, ok, detail: lines.join('; ') };
    });
    if (!runs) return result;
    result.runs = runs;

    await step('the partner feed with a malformed advisory is refused whole, and its job fails with the reason', async () => {
      const f = runs.find((r) => r.failure)?.failure;
      if (!f) throw new Error('the partner feed was not ingested');
      const ok = f.record.state === 'failed' && f.record.error?.code === 'advisory.malformed';
      return { value: f, ok, detail: `job ${f.job.job_id} ${f.record.state}: ${f.record.error?.code ?? 'no error'} — trace ${f.job.trace_id}` };
    });

    const tokens = new Map<string, string>();
    for (const plan of DEMO_TENANTS) {
      tokens.set(plan.tenant, await s.token(plan.tenant, ['timeline:read', 'obs:read', 'evidence:read', 'evidence:create', 'evidence:export', 'attest:read', 'incident:admin', ...(s.features.dora ? ['dora:write', 'dora:read'] : [])]));
    }

    const [runA, runB] = [runs[0]!, runs[1]!];
    if (s.features.slo && s.features.metrics && s.features.otlp) {
      const plan = runA.plan;
      const token = tokens.get(plan.tenant)!;
      const ingests = runs.filter((r) => r.plan.tenant === plan.tenant && r.evaluation.result).length;
      const before = await step(`GET /obs/slo before the failure: ${plan.tenant}'s SBOM ingests reached the service's metrics over OTLP, and ${BURN_SLO} is evaluated from them`, async () => {
        const b = await sloBefore(s, plan, token, journeysStarted, ingests);
        const r = b.before;
        return {
          value: b,
          ok: !r.firing && r.state !== 'page',
          detail: `${b.ingests} ingest(s) in GET /obs/metrics; ${BURN_SLO} ${r.state}, burn rate ${BURN_PAIR.long}/${BURN_PAIR.short} ${burn(r.long_burn_rate)}/${burn(r.short_burn_rate)}, error budget remaining ${percent(r.budget_remaining)} (evaluated ${r.evaluated_at})${r.firing ? ` — already paging before the failure: an earlier run in this data dir burnt it and its failures are still in the ${BURN_PAIR.short} window; run again later or with a fresh --data-dir` : ''}`,
        };
      });
      if (before) {
        const failedAt = Date.now();
        const failures = await step(`injected failure: ${plan.tenant}'s next release publishes a malformed SBOM (${BROKEN_SOURCE.source_id}); ${FAILING_EVALUATIONS} evaluations of it fail at SBOM compute`, async () => {
          const f = await injectBrokenSbom(s, plan);
          const codes = [...new Set(f.map((x) => `${x.record.state}: ${x.record.error?.code ?? 'no error'}`))];
          return {
            value: f,
            ok: f.every((x) => x.record.state === 'failed' && x.record.error?.code === 'sbom.invalid'),
            detail: `jobs ${f.map((x) => x.job.job_id).join(', ')} ${codes.join('; ')} — ${f[0]?.record.error?.message ?? ''}`,
          };
        });
        if (failures) {
          result.sloBurn = {
            tenant: plan.tenant,
            slo: BURN_SLO,
            service: BURN_SERVICE,
            objective: before.objective,
            period: before.period,
            ingestsBefore: before.ingests,
            before: before.before,
            failedAt: new Date(failedAt).toISOString(),
            failures,
            ingestsAfter: 0,
            after: undefined,
            breach: undefined,
            incident: undefined,
            onTimeline: false,
            followed: false,
            problem: undefined,
          };
          const burnt = result.sloBurn;
          await step(`${BURN_SLO} burns ${plan.tenant}'s error budget fast enough to page: the service switches incident mode on for ${plan.tenant} (${BURN_SERVICE}) by itself, and ${BURN_SERVICE} follows`, async () => {
            Object.assign(burnt, await sloAfter(s, plan, token, journeysStarted, ingests + failures.length, failedAt));
            const a = burnt.after;
            const i = burnt.incident;
            const ok = !!a && a.firing && a.state === 'page' && !!i && i.trigger === 'slo_burn' && i.started_by === 'system:slo' && i.service === BURN_SERVICE && burnt.onTimeline && burnt.followed;
            return {
              value: burnt,
              ok,
              detail: [
                a ? `${burnt.ingestsAfter} ingests in GET /obs/metrics; ${BURN_SLO} ${a.state}, burn rate ${BURN_PAIR.long}/${BURN_PAIR.short} ${burn(a.long_burn_rate)}/${burn(a.short_burn_rate)} (page from ${a.burn_rate_threshold}), error budget remaining ${percent(a.budget_remaining)}` : undefined,
                burnt.breach ? `breach ${burnt.breach.breach_id} at ${burnt.breach.started_at}, incident ${burnt.breach.incident}${burnt.onTimeline ? ', on the timeline' : ''}` : undefined,
                i ? `incident mode on for ${plan.tenant} (${i.service}) by ${i.trigger} at ${i.started_at}, by ${i.started_by}` : undefined,
                burnt.followed ? `${BURN_SERVICE} samples it` : undefined,
                burnt.problem,
              ]
                .filter(Boolean)
                .join('; '),
            };
          });
        }
      }
    } else {
      result.notAvailable.push('SLO burn and automatic incident mode (GET /obs/slo, GET /obs/metrics, OTLP metrics)');
    }

    await step('tenant timelines show the full chain of each evaluation, and only their own events', async () => {
      const details: string[] = [];
      let ok = true;
      for (const run of runs) {
        const token = tokens.get(run.plan.tenant)!;
        const chain = await timelineChain(s, token, run.evaluation.job.trace_id);
        result.timeline[run.plan.tenant] = chain;
        const foreign = chain.filter((e) => e.tenant_id !== run.plan.tenant);
        if (foreign.length > 0) ok = false;
        details.push(`${run.plan.tenant}: ${chain.map((e) => e.kind).join(' → ')}${foreign.length ? ` (${foreign.length} foreign events!)` : ''}`);
        // The other tenant's trace is invisible from here.
        const other = runs.find((r) => r !== run)!;
        const res = await fetch(`${s.stellaUrl}/timeline?trace_id=${other.evaluation.job.trace_id}&limit=10`, { headers: { authorization: `Bearer ${token}` } });
        const seen = ((await res.json()) as { events: unknown[] }).events.length;
        if (seen !== 0) {
          ok = false;
          details.push(`${run.plan.tenant} sees ${seen} events of ${other.plan.tenant}!`);
        }
      }
      return { value: undefined, ok, detail: details.join('; ') };
    });

    const denial = await step('a token of one tenant is refused on another, with a 403 that explains without PII', async () => {
      const [a, b] = DEMO_TENANTS;
      const d = await wrongTenantDenial(s, tokens.get(b!.tenant)!, a!.tenant, `user:${b!.tenant}-analyst`);
      return { value: d, ok: d.ok, detail: `${d.status} ${String(d.body['error_code'])}: "${String(d.body['message'])}"${d.problems.length ? ` — ${d.problems.join('; ')}` : ''}` };
    });
    result.denial = denial;

    // One folder per run: downloads never overwrite, so a kept data dir can be run again.
    const outDir = join(dataDir, 'evidence-out', new Date(started).toISOString().replace(/[:.]/g, '-'));
    if (s.features.evidence && runA.evaluation.result) {
      await step(`evidence: snapshot of ${runA.plan.tenant}'s evaluation and its job capsule, verified offline with stella forensic verify`, async () => {
        const e = await snapshotAndVerify(s, runA, tokens.get(runA.plan.tenant)!, outDir);
        result.evidence = e;
        const problems = [e.keyring, ...e.snapshots.flatMap((x) => [x.create, ...(x.verify ? [x.verify] : [])])].filter((r) => !cliOk(r)).map(cliProblem);
        const lines = e.snapshots.map((x) => `${x.kind} ${x.resource} → bundle ${x.bundle_id ?? '?'}: ${cliOk(x.verify) ? 'verified offline' : 'NOT verified'}`);
        return { value: e, ok: problems.length === 0 && e.snapshots.every((x) => cliOk(x.verify)), detail: [...lines, ...problems].join('; ') };
      });
    }
    if (s.features.attestations && runA.evaluation.result) {
      await step('attestations: the job and the export each have a signed in-toto/SLSA statement that verifies', async () => {
        const a = await showAttestations(s, runA, tokens.get(runA.plan.tenant)!, runA.evaluation.record);
        result.attestations = a;
        return {
          value: a,
          ok: a.every((x) => cliOk(x.show)),
          detail: a.map((x) => `${x.subject}: ${x.id ?? 'none recorded'} ${cliOk(x.show) ? 'verified' : x.show ? cliProblem(x.show) : ''}`).join('; '),
        };
      });
    }
    if (s.features.custody && runA.evaluation.result) {
      await step(`chain of custody of ${runA.plan.tenant}'s SBOM: source fetch → SBOM compute → policy eval → advisory link → export`, async () => {
        const c = await custody(s, runA, tokens.get(runA.plan.tenant)!);
        result.custody = c;
        const steps = (c.json?.['steps'] as { step: string; verified: boolean }[] | undefined) ?? [];
        const problems = (c.json?.['problems'] as string[] | undefined) ?? [];
        return { value: c, ok: cliOk(c), detail: `${steps.map((x) => `${x.step} ${x.verified ? '✔' : '✘'}`).join(' → ') || cliProblem(c)}${problems.length ? `; ${problems.join('; ')}` : ''}` };
      });
    }
    if (s.features.incident && s.features.obs && runB.evaluation.result) {
      await step(`an operator switches incident mode on and off for ${runB.plan.tenant} (stella telemetry incident): unsampled requests are traced while it is on`, async () => {
        const o = await incidentModeRaisesTraceVolume(s, runB, tokens.get(runB.plan.tenant)!);
        result.incident = o;
        const ok = o.on.exitCode === 0 && o.off?.exitCode === 0 && o.modesAfterOff === 0 && o.storedDuring > o.storedBefore && o.storedDuring >= Math.ceil(o.requests * 0.9);
        return {
          value: o,
          ok,
          detail: `${o.requests} unsampled requests before: ${o.storedBefore} traces stored; with incident mode on: ${o.storedDuring}; switched off again (${o.modesAfterOff ?? '?'} tenant-wide modes left)${o.on.exitCode !== 0 ? `; ${cliProblem(o.on)}` : ''}${o.off && o.off.exitCode !== 0 ? `; ${cliProblem(o.off)}` : ''}`,
        };
      });
    }
    if (s.features.capture) {
      await step(`forensic capture of ${runA.plan.tenant}'s telemetry (last hour), signed and verified by stella telemetry capture`, async () => {
        const c = await captureForensicBundle(s, runA.plan.tenant, tokens.get(runA.plan.tenant)!, join(outDir, `${runA.plan.tenant}-forensic.tar.gz`));
        result.capture = c;
        const counts = c.json?.['counts'] as Record<string, unknown> | null | undefined;
        return { value: c, ok: cliOk(c), detail: cliOk(c) ? `${String(c.json?.['bundle'])} manifest ${String(c.json?.['manifest_sha256'])}, counts ${JSON.stringify(counts ?? {})}` : cliProblem(c) };
      });
    }

    if (s.features.dora) {
      const tenant = runA.plan.tenant;
      await step(`DORA: a week of ${tenant}'s releases (10 deployments, 2 incidents) recorded, and its delivery level read with stella dora metrics`, async () => {
        const o = await recordReleaseWeek(s, tenant, tokens.get(tenant)!);
        result.dora = o;
        const m = o.metrics.json as { deployments_total?: number; incidents_total?: number } | undefined;
        // A kept data dir run again holds last run's week too: at least this run's records.
        const ok = o.refused.length === 0 && cliOk(o.metrics) && (m?.deployments_total ?? 0) >= o.deployments && (m?.incidents_total ?? 0) >= o.incidents;
        return { value: o, ok, detail: [cliOk(o.metrics) ? doraLine(o) : cliProblem(o.metrics), ...o.refused].join('; ') };
      });
    } else result.notAvailable.push('DORA delivery metrics (POST /dora/deployments, GET /dora/metrics)');

    if (!s.features.evidence) result.notAvailable.push('evaluation snapshot and job capsule (POST /evidence/snapshot) and offline verification');
    if (!s.features.attestations) result.notAvailable.push('job and export attestations (POST /attestations)');
    if (!s.features.custody) result.notAvailable.push('chain of custody (GET /custody/:type/:id)');
    if (!s.features.incident) result.notAvailable.push('incident mode on/off (POST /telemetry/incidents/mode)');
    if (!s.features.capture) result.notAvailable.push('forensic bundle capture (GET /telemetry/exports/forensic/{window})');
    if (!s.features.otlp) result.notAvailable.push('OTLP ingest into the service (telemetry goes to OTLP/JSON files in the data dir instead)');

    await s.flush();
    await step('at least 90% of routes and job paths produced spans, with exemplars on their histograms', async () => {
      const traces = runs.flatMap((r) =>
        [r.ingest.job, r.evaluation.job, ...(r.failure ? [r.failure.job] : [])].map((j) => ({ tenant: r.plan.tenant, token: tokens.get(r.plan.tenant)!, traceId: j.trace_id })),
      );
      // Spans reach the service's store a moment after the exporters flushed; poll with a bound.
      let spans: ExportedSpan[];
      let coverage: Coverage | undefined;
      const deadline = Date.now() + 20_000;
      do {
        spans = s.features.otlp && s.features.obs ? await spansFromObs(s.stellaUrl, traces) : spansFromFiles(join(s.dataDir, 'telemetry'));
        coverage = await telemetryCoverage(s.peers, spans);
        if (coverage.ratio >= 0.9 && new Set(spans.map((x) => x.service)).size === SERVICE_NAMES.length) break;
        await new Promise((r) => setTimeout(r, 250));
      } while (Date.now() < deadline);
      result.spans = spans;
      result.coverage = coverage;
      const missing = coverage.items.filter((i) => !(i.traced && i.exemplar)).map((i) => `${i.service} ${i.path}${i.traced ? '' : ' (no span)'}${i.exemplar ? '' : ' (no exemplar)'}`);
      const services = new Set(spans.map((x) => x.service)).size;
      return {
        value: coverage,
        ok: coverage.ratio >= 0.9,
        detail: `${coverage.covered}/${coverage.total} (${Math.round(coverage.ratio * 100)}%) from ${spans.length} spans of ${services} services (${s.features.otlp && s.features.obs ? 'read back from the service: GET /obs/trace/:id' : 'OTLP/JSON files'})${missing.length ? `; missing: ${missing.join(', ')}` : ''}`,
      };
    });
    await step('every log line of the run carries the CORE-1 fields of its context and no secrets', async () => {
      const logs = checkLogs(s.logDir, SERVICE_NAMES);
      result.logs = logs;
      return { value: logs, ok: logs.violations.length === 0 && logs.lines > 0, detail: `${logs.lines} lines in ${logs.files} files${logs.violations.length ? `; ${logs.violations.length} violations, first: ${logs.violations.slice(0, 3).join(' | ')}` : ', no violations'}` };
    });
    const crashed = s.crashed();
    if (crashed.length > 0) steps.push({ name: 'every process stayed up for the whole run', ok: false, ms: 0, detail: crashed.join('; ') });
  } finally {
    result.ok = steps.length > 0 && steps.every((x) => x.ok);
    result.durationMs = Date.now() - started;
    if (options.keepRunning && stack) result.stack = stack;
    else {
      await stack?.stop();
      if (ownDir && !options.keepRunning) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return result;
}
