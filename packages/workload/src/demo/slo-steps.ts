/**
 * An SLO burn, observed from outside. The tenant's journey metrics reach the service over OTLP
 * (read back with `GET /obs/metrics`); `GET /obs/slo` is read once an evaluation has seen them;
 * then the injected failure — evaluations of a malformed SBOM, each failing at SBOM compute —
 * burns the SBOM ingest SLO's error budget, and the service's own evaluation pages and switches
 * incident mode on for the tenant and the SLO's service (trigger `slo_burn`): read from
 * `GET /telemetry/incidents/mode` and `GET /obs/slo`, and from sbom-service's own
 * `telemetry_incident_mode` gauge. Every wait polls with a deadline; nothing is assumed after a sleep.
 */
import type { JobRecord } from '../services/jobs.js';
import { getJson } from './checks.js';
import { submitJob, waitForJob, type SubmittedJob, type TenantPlan } from './journey.js';
import { eventually } from './processes.js';
import type { Stack } from './stack.js';

/** The journey SLO the injected failure burns, and its service (deploy/slo/journeys.yaml). */
export const BURN_SLO = 'sbom-ingest-latency';
export const BURN_SERVICE = 'sbom-service';
/** The window pair shown: the fast page (1h long, 5m short window). */
export const BURN_PAIR = { long: '1h', short: '5m' } as const;
/** The next payments-api release: its SBOM lists one package URL without its `pkg:` scheme. */
export const BROKEN_SOURCE = { source_id: 'payments-api-next', vex_source: 'payments-api' } as const;
/**
 * Evaluations of the broken SBOM. With the tenant's one good ingest, 4 failures of 5 are an
 * 80% error ratio over both windows: a burn rate of 16 against a 5% budget, above the page
 * threshold (14.4, a 72% error ratio) and the burn rate from which a breach switches incident
 * mode on (STELLA_SLO_INCIDENT_BURN_RATE, 14.4).
 */
export const FAILING_EVALUATIONS = 4;

/** One SLO as `GET /obs/slo` answered it, reduced to what the demo shows. */
export interface SloReading {
  evaluated_at: string;
  state: string;
  /** Share of good events over the period. */
  sli: number | null;
  long_burn_rate: number | null;
  short_burn_rate: number | null;
  burn_rate_threshold: number;
  firing: boolean;
  budget_remaining: number | null;
}

interface BurnRatePair {
  severity: string;
  long_window: string;
  short_window: string;
  burn_rate_threshold: number;
  long_burn_rate: number | null;
  short_burn_rate: number | null;
  firing: boolean;
}

interface SloStatus {
  name: string;
  service: string;
  period: string;
  objective: { target: number; display_name: string | null };
  sli: { value: number | null };
  error_budget: { remaining: number | null };
  burn_rates: BurnRatePair[];
  state: string;
}

export interface SloBreachView {
  breach_id: string;
  slo: string;
  service: string;
  long_window: string;
  short_window: string;
  burn_rate: number;
  started_at: string;
  incident: string;
  incident_id: string | null;
}

interface SloAnswer {
  evaluated_at: string;
  interval_seconds: number;
  slos: SloStatus[];
  breaches: SloBreachView[];
}

export interface IncidentView {
  incident_id: string;
  service: string | null;
  reason: string;
  trigger: string;
  started_at: string;
  expires_at: string;
  started_by: string;
  ended_at: string | null;
}

export interface SloBurnOutcome {
  tenant: string;
  slo: string;
  service: string;
  objective: string;
  period: string;
  /** The tenant's SBOM ingests of this run the service's metrics held before the failure (GET /obs/metrics). */
  ingestsBefore: number;
  before: SloReading;
  /** When the first failing evaluation was submitted. */
  failedAt: string;
  failures: { job: SubmittedJob; record: JobRecord }[];
  after: SloReading | undefined;
  /** The breach of the fast page pair opened after the failure. */
  breach: SloBreachView | undefined;
  /** The incident mode the breach switched on (trigger slo_burn). */
  incident: IncidentView | undefined;
  /** The tenant's SBOM ingests of this run the service's metrics held after the failure (GET /obs/metrics). */
  ingestsAfter: number;
  /** The breach's `slo.breach.firing` event is in the tenant's timeline. */
  onTimeline: boolean;
  /** sbom-service's own `telemetry_incident_mode` gauge shows the mode (its sampler follows it). */
  followed: boolean;
  /** Why the outcome is incomplete, when it is. */
  problem: string | undefined;
}

/** A burn rate as shown: one decimal. */
export function burn(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : v.toFixed(1);
}

/** A share as a percentage with one decimal. */
export function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${(Math.round(v * 1000) / 10).toFixed(1)}%`;
}

function reading(answer: SloAnswer, slo: string): { status: SloStatus; reading: SloReading } | undefined {
  const status = answer.slos.find((s) => s.name === slo);
  const pair = status?.burn_rates.find((p) => p.severity === 'page' && p.long_window === BURN_PAIR.long && p.short_window === BURN_PAIR.short);
  if (!status || !pair) return undefined;
  return {
    status,
    reading: {
      evaluated_at: answer.evaluated_at,
      state: status.state,
      sli: status.sli.value,
      long_burn_rate: pair.long_burn_rate,
      short_burn_rate: pair.short_burn_rate,
      burn_rate_threshold: pair.burn_rate_threshold,
      firing: pair.firing,
      budget_remaining: status.error_budget.remaining,
    },
  };
}

async function sloStatus(stack: Stack, token: string): Promise<SloAnswer> {
  const { status, body } = await getJson<SloAnswer & { error_code?: string }>(stack, `/obs/slo?slo=${BURN_SLO}`, token);
  if (status !== 200) throw new Error(`GET /obs/slo answered ${status} ${body.error_code ?? ''}`);
  return body;
}

/**
 * The tenant's SBOM ingests (of any outcome) the service's metrics store holds in (fromMs, now]:
 * the journey histogram's observations, from `GET /obs/metrics` (rate × step over one step).
 */
export async function journeyObservations(stack: Stack, token: string, journey: string, fromMs: number): Promise<number> {
  const toS = Math.floor(Date.now() / 1000);
  const fromS = Math.min(Math.floor(fromMs / 1000), toS - 1);
  const step = toS - fromS;
  const query = new URLSearchParams({
    name: 'stella_journey_duration_seconds',
    match: `{stella_journey="${journey}"}`,
    from: new Date(fromS * 1000).toISOString(),
    to: new Date(toS * 1000).toISOString(),
    step: `${step}s`,
  });
  const { status, body } = await getJson<{ series?: { points: [number, number][] }[]; error_code?: string }>(stack, `/obs/metrics?${query}`, token);
  if (status !== 200) throw new Error(`GET /obs/metrics answered ${status} ${body.error_code ?? ''}`);
  let n = 0;
  for (const s of body.series ?? []) for (const [t, v] of s.points) if (t === toS) n += v * step;
  return Math.round(n);
}

async function incidentGauge(stack: Stack, tenant: string): Promise<boolean> {
  const text = await (await fetch(`${stack.peers[BURN_SERVICE]}/metrics`)).text();
  return text.split('\n').some((l) => l.startsWith('telemetry_incident_mode{') && l.includes(`tenant="${tenant}"`) && l.includes(`service="${BURN_SERVICE}"`));
}

/** Waits until the store holds `expected` SBOM ingests of this run; resolves with the count and the moment it saw them. */
async function ingestsArrived(stack: Stack, plan: TenantPlan, token: string, runStartedMs: number, expected: number): Promise<{ ingests: number; atMs: number }> {
  const ingests = await eventually(
    `${expected} SBOM ingest(s) of ${plan.tenant} to reach the service's metrics over OTLP (GET /obs/metrics)`,
    async () => {
      const n = await journeyObservations(stack, token, 'sbom_ingest', runStartedMs);
      return n >= expected ? n : undefined;
    },
    30_000,
    250,
  );
  return { ingests, atMs: Date.now() };
}

/** The first evaluation made at or after `sinceMs` that satisfies `accept`. */
async function evaluationSince(stack: Stack, token: string, what: string, sinceMs: number, accept: (r: SloReading) => boolean): Promise<{ status: SloStatus; reading: SloReading }> {
  return eventually(
    what,
    async () => {
      const answer = await sloStatus(stack, token);
      const r = reading(answer, BURN_SLO);
      return r && Date.parse(answer.evaluated_at) >= sinceMs && accept(r.reading) ? r : undefined;
    },
    Math.max(20_000, 10 * stack.sloIntervalMs),
    250,
  );
}

/**
 * `GET /obs/slo` before the failure: pushes the workload's metrics (`flush`), waits for this
 * run's ingests to reach the metrics store, then for an evaluation made after that.
 */
export async function sloBefore(stack: Stack, plan: TenantPlan, token: string, runStartedMs: number, expectedIngests: number): Promise<{ ingests: number; before: SloReading; objective: string; period: string }> {
  await stack.flush();
  const { ingests, atMs } = await ingestsArrived(stack, plan, token, runStartedMs, expectedIngests);
  const seen = await evaluationSince(stack, token, `an evaluation of ${BURN_SLO} for ${plan.tenant} after its ingests arrived (GET /obs/slo)`, atMs, (r) => r.state !== 'no_data');
  const objective = seen.status.objective.display_name ?? `${seen.status.objective.target * 100}%`;
  return { ingests, before: seen.reading, objective, period: seen.status.period };
}

/** The injected failure: evaluations of the broken SBOM, submitted together, each failing at SBOM compute. */
export async function injectBrokenSbom(stack: Stack, plan: TenantPlan, n = FAILING_EVALUATIONS): Promise<{ job: SubmittedJob; record: JobRecord }[]> {
  const jobs = await Promise.all(Array.from({ length: n }, () => submitJob(stack, plan, 'evaluation.run', { ...BROKEN_SOURCE })));
  return Promise.all(jobs.map(async (job) => ({ job, record: await waitForJob(stack, plan, job.job_id) })));
}

type AfterOutcome = Pick<SloBurnOutcome, 'ingestsAfter' | 'after' | 'breach' | 'incident' | 'onTimeline' | 'followed' | 'problem'>;

/**
 * After the failure: the service pages and switches incident mode on by itself. The workload's
 * buffered metrics are pushed at once (`flush`); the status shown "after" is the first
 * evaluation made once every failed ingest is in the store (GET /obs/metrics), so it counts all
 * of them. The breach, the incident mode, its timeline event and sbom-service's gauge are
 * polled until they show.
 */
export async function sloAfter(stack: Stack, plan: TenantPlan, token: string, runStartedMs: number, expectedIngests: number, failedAtMs: number): Promise<AfterOutcome> {
  const out: AfterOutcome = { ingestsAfter: 0, after: undefined, breach: undefined, incident: undefined, onTimeline: false, followed: false, problem: undefined };
  await stack.flush();
  const deadline = Math.max(30_000, 10 * stack.sloIntervalMs);
  try {
    const { ingests, atMs } = await ingestsArrived(stack, plan, token, runStartedMs, expectedIngests);
    out.ingestsAfter = ingests;
    out.after = (await evaluationSince(stack, token, `GET /obs/slo to show ${BURN_SLO} paging for ${plan.tenant} with every failed ingest counted`, atMs, (r) => r.firing)).reading;
  } catch (error) {
    out.problem = (error as Error).message;
  }
  try {
    const found = await eventually(
      `the ${BURN_PAIR.long}/${BURN_PAIR.short} page of ${BURN_SLO} to switch incident mode on for ${plan.tenant} (${BURN_SERVICE})`,
      async () => {
        const answer = await sloStatus(stack, token);
        const breach = answer.breaches.find((b) => b.slo === BURN_SLO && b.long_window === BURN_PAIR.long && Date.parse(b.started_at) >= failedAtMs);
        if (!breach) return undefined;
        const { status, body } = await getJson<{ incidents: IncidentView[]; modes: { service: string | null }[] }>(stack, '/telemetry/incidents/mode', token);
        if (status !== 200) throw new Error(`GET /telemetry/incidents/mode answered ${status}`);
        const incident = body.incidents.find((i) => i.incident_id === breach.incident_id);
        const active = incident && incident.ended_at === null && body.modes.some((m) => m.service === BURN_SERVICE);
        // A breach that could not switch it (cool-down, below the threshold) will not change: stop waiting.
        if (!['on', 'extended', 'pending'].includes(breach.incident)) return { breach, incident: undefined };
        return active ? { breach, incident } : undefined;
      },
      deadline,
      250,
    );
    out.breach = found.breach;
    out.incident = found.incident;
    if (!found.incident) out.problem ??= `the breach did not switch incident mode on (${found.breach.incident})`;
  } catch (error) {
    out.problem ??= (error as Error).message;
  }
  const breachId = out.breach?.breach_id;
  if (breachId) {
    out.onTimeline = await eventually(
      `the breach's slo.breach.firing event in ${plan.tenant}'s timeline`,
      async () => {
        const { status, body } = await getJson<{ events: { details: Record<string, unknown> }[] }>(stack, `/timeline?kind=slo.breach.firing&resource_id=${BURN_SLO}&limit=20`, token);
        return status === 200 && body.events.some((e) => e.details['breach_id'] === breachId) ? true : undefined;
      },
      20_000,
      250,
    ).catch((error: unknown) => {
      out.problem ??= (error as Error).message;
      return false;
    });
  }
  if (out.incident) {
    out.followed = await eventually(`${BURN_SERVICE} to follow incident mode for ${plan.tenant}`, async () => ((await incidentGauge(stack, plan.tenant)) ? true : undefined), 20_000, 200).catch((error: unknown) => {
      out.problem ??= (error as Error).message;
      return false;
    });
  }
  return out;
}
