/**
 * DORA-2..5, the pure computation: a generated dataset (seeded PRNG) of several hundred
 * deployments and incidents across pipelines, severities and days, checked against a second,
 * straightforward implementation written here (BigInt sums, counting by hand); every
 * classification boundary exactly at its threshold; the report's determinism; the record rules.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyDora,
  computeDoraMetrics,
  DEFAULT_DORA_TARGETS,
  doraSloStatus,
  median,
  normalizePipeline,
  toDeployment,
  toIncident,
  type Deployment,
  type DoraWindow,
  type Incident,
} from '../../src/dora/dora-metrics.js';
import { DoraInputError, validateDeployment, validateIncident, type DeploymentRecord, type IncidentRecord } from '../../src/dora/dora-records.js';
import { buildOutcomeReport, windowDays } from '../../src/dora/dora-report.js';

const H = 3_600_000;
const D = 86_400_000;

/** mulberry32: a small seeded PRNG, so the dataset is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FROM = Date.UTC(2026, 0, 1);
const TO = Date.UTC(2026, 1, 1); // 31 days
const PIPELINES = ['Pipeline A', 'pipeline_a', ' PIPELINE-B ', '', 'release train', 'Release_Train', 'hotfix lane'];
const OUTCOMES = ['success', 'success', 'success', 'success', 'rollback', 'hotfix', 'failed'] as const;
const SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4'] as const;

interface Dataset {
  deployments: DeploymentRecord[];
  incidents: IncidentRecord[];
}

/** Records spread over the window and a few days either side of it (which must be left out). */
function dataset(seed: number, count = { deployments: 420, incidents: 260 }): Dataset {
  const r = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const at = (): number => FROM - 3 * D + Math.floor(r() * (TO - FROM + 6 * D));
  const deployments: DeploymentRecord[] = [];
  for (let i = 0; i < count.deployments; i++) {
    const deploy = at();
    const lead = Math.floor(r() * 200 * H);
    deployments.push({
      deployment_id: `dep-${seed}-${i}`,
      service: pick(['checkout', 'ledger', 'search']),
      environment: pick(['production', 'production', 'staging']),
      pipeline: pick(PIPELINES),
      commit_time: new Date(deploy - lead).toISOString(),
      deploy_time: new Date(deploy).toISOString(),
      outcome: pick(OUTCOMES),
    });
  }
  const incidents: IncidentRecord[] = [];
  for (let i = 0; i < count.incidents; i++) {
    const start = at();
    const acked = r() < 0.8 ? start + Math.floor(r() * 3 * H) : null;
    const resolved = r() < 0.7 ? start + Math.floor(r() * 48 * H) : null;
    incidents.push({
      incident_id: `inc-${seed}-${i}`,
      environment: pick(['production', 'staging']),
      service: r() < 0.5 ? pick(['checkout', 'ledger']) : null,
      severity: pick(SEVERITIES),
      started_at: new Date(start).toISOString(),
      acknowledged_at: acked === null ? null : new Date(acked).toISOString(),
      resolved_at: resolved === null ? null : new Date(resolved).toISOString(),
    });
  }
  return { deployments, incidents };
}

// ---- the second implementation: straightforward, on the records themselves ----

const t = (iso: string): bigint => BigInt(Date.parse(iso));
const inside = (iso: string, w: DoraWindow): boolean => Date.parse(iso) >= w.fromMs && Date.parse(iso) < w.toMs;

function slowMedianHours(durations: bigint[]): number | null {
  if (durations.length === 0) return null;
  // Selection by counting: the k-th smallest is the value with fewer than k+1 values below it and at least k+1 at or below it.
  const kth = (k: number): bigint => durations.find((v) => durations.filter((x) => x < v).length <= k && durations.filter((x) => x <= v).length > k)!;
  const n = durations.length;
  const twice = n % 2 === 1 ? 2n * kth((n - 1) / 2) : kth(n / 2 - 1) + kth(n / 2);
  return Number(twice) / 2 / 3_600_000;
}

function slowMeanHours(durations: bigint[]): number | null {
  if (durations.length === 0) return null;
  const sum = durations.reduce((a, b) => a + b, 0n);
  return Number(sum) / durations.length / 3_600_000;
}

function expected(data: Dataset, w: DoraWindow, environment?: string) {
  const deps = data.deployments.filter((d) => inside(d.deploy_time, w) && (environment === undefined || d.environment === environment));
  const incs = data.incidents.filter((i) => inside(i.started_at, w) && (environment === undefined || i.environment === environment));
  const failed = deps.filter((d) => d.outcome !== 'success');
  const resolved = incs.filter((i) => i.resolved_at !== null);
  const acked = incs.filter((i) => i.acknowledged_at !== null);
  return {
    deployments_total: deps.length,
    deployment_failures_total: failed.length,
    deployment_frequency_per_day: deps.length / ((w.toMs - w.fromMs) / D),
    lead_time_hours: slowMedianHours(deps.map((d) => t(d.deploy_time) - t(d.commit_time))),
    change_failure_rate_percent: deps.length === 0 ? null : (failed.length / deps.length) * 100,
    time_to_recovery_hours: slowMeanHours(resolved.map((i) => t(i.resolved_at!) - t(i.started_at))),
    time_to_acknowledge_hours: slowMeanHours(acked.map((i) => t(i.acknowledged_at!) - t(i.started_at))),
    incidents_total: incs.length,
    incidents_resolved: resolved.length,
    incidents_acknowledged: acked.length,
  };
}

function expectClose(actual: number | null, wanted: number | null, what: string): void {
  if (wanted === null) expect(actual, what).toBeNull();
  else {
    expect(actual, what).not.toBeNull();
    expect(Math.abs(actual! - wanted), `${what}: ${actual} vs ${wanted}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(wanted)));
  }
}

const W: DoraWindow = { fromMs: FROM, toMs: TO };
const dep = (list: DeploymentRecord[]): Deployment[] => list.map(toDeployment);
const inc = (list: IncidentRecord[]): Incident[] => list.map(toIncident);

describe('DORA metrics over a generated dataset', () => {
  for (const seed of [1, 42, 2026]) {
    it(`match an independent computation (seed ${seed})`, () => {
      const data = dataset(seed);
      for (const environment of [undefined, 'production', 'staging']) {
        const ds = dep(data.deployments.filter((d) => environment === undefined || d.environment === environment));
        const is = inc(data.incidents.filter((i) => environment === undefined || i.environment === environment));
        const m = computeDoraMetrics(ds, is, W);
        const e = expected(data, W, environment);
        expect(e.deployments_total).toBeGreaterThan(50);
        for (const key of ['deployments_total', 'deployment_failures_total', 'incidents_total', 'incidents_resolved', 'incidents_acknowledged'] as const) expect(m[key], key).toBe(e[key]);
        for (const key of ['deployment_frequency_per_day', 'lead_time_hours', 'change_failure_rate_percent', 'time_to_recovery_hours', 'time_to_acknowledge_hours'] as const) {
          expectClose(m[key], e[key], `${key} (${environment ?? 'all'})`);
        }
        expect(m.window_days).toBe(31);
      }
    });
  }

  it('is null, never NaN, over empty sets', () => {
    const m = computeDoraMetrics([], [], W);
    expect(m).toMatchObject({ deployments_total: 0, deployment_frequency_per_day: 0, lead_time_hours: null, change_failure_rate_percent: null, time_to_recovery_hours: null, time_to_acknowledge_hours: null });
    expect(JSON.stringify(m)).not.toContain('NaN');
    // Incidents without acknowledgement or resolution: MTTA and MTTR stay null.
    const open = computeDoraMetrics([], inc([{ incident_id: 'i', environment: 'p', service: null, severity: 'sev1', started_at: new Date(FROM).toISOString(), acknowledged_at: null, resolved_at: null }]), W);
    expect(open).toMatchObject({ incidents_total: 1, time_to_recovery_hours: null, time_to_acknowledge_hours: null });
  });

  it('takes the window as [from, to): a deployment at `to` is out, one at `from` is in', () => {
    const at = (ms: number, id: string): Deployment => ({ deploymentId: id, service: 's', environment: 'p', pipeline: '', commitMs: ms - H, deployMs: ms, outcome: 'success' });
    expect(computeDoraMetrics([at(FROM, 'a'), at(TO, 'b'), at(TO - 1, 'c'), at(FROM - 1, 'd')], [], W).deployments_total).toBe(2);
  });

  it('median: the middle value, or the mean of the two middle values', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });
});

describe('classification at each boundary', () => {
  const window7: DoraWindow = { fromMs: FROM, toMs: FROM + 7 * D };
  const deployments = (n: number, leadMs: number, failures = 0, w = window7): Deployment[] =>
    Array.from({ length: n }, (_, i) => ({ deploymentId: `d${i}`, service: 's', environment: 'p', pipeline: '', commitMs: w.fromMs + i * 1000 - leadMs, deployMs: w.fromMs + i * 1000, outcome: i < failures ? 'rollback' : 'success' }));
  const recovered = (ms: number): Incident[] => [{ incidentId: 'i', environment: 'p', service: null, severity: 'sev2', startedMs: FROM, acknowledgedMs: null, resolvedMs: FROM + ms }];
  const levels = (ds: Deployment[], is: Incident[] = [], w = window7) => classifyDora(computeDoraMetrics(ds, is, w));

  it('deployment frequency: ≥ 1/day elite, ≥ 1/week high, ≥ 1/30 days medium, else low', () => {
    expect(levels(deployments(7, H)).deployment_frequency).toBe('elite'); // exactly 1 per day
    expect(levels(deployments(6, H)).deployment_frequency).toBe('high');
    expect(levels(deployments(1, H)).deployment_frequency).toBe('high'); // exactly 1 per week
    const w30: DoraWindow = { fromMs: FROM, toMs: FROM + 30 * D };
    expect(levels(deployments(1, H, 0, w30), [], w30).deployment_frequency).toBe('medium'); // exactly 1 per 30 days
    const w31: DoraWindow = { fromMs: FROM, toMs: FROM + 30 * D + 1 };
    expect(levels(deployments(1, H, 0, w31), [], w31).deployment_frequency).toBe('low'); // a millisecond less often
    const w7plus: DoraWindow = { fromMs: FROM, toMs: FROM + 7 * D + 1 };
    expect(levels(deployments(1, H, 0, w7plus), [], w7plus).deployment_frequency).toBe('medium');
    expect(levels([]).deployment_frequency).toBe('low');
  });

  it('lead time: < 24 h elite, < 168 h high, < 4380 h medium, else low', () => {
    expect(levels(deployments(7, 24 * H - 1)).lead_time).toBe('elite');
    expect(levels(deployments(7, 24 * H)).lead_time).toBe('high');
    expect(levels(deployments(7, 168 * H - 1)).lead_time).toBe('high');
    expect(levels(deployments(7, 168 * H)).lead_time).toBe('medium');
    expect(levels(deployments(7, 4380 * H - 1)).lead_time).toBe('medium');
    expect(levels(deployments(7, 4380 * H)).lead_time).toBe('low');
    // An even count: the mean of the two middle values lands exactly on 24 h.
    const two = [...deployments(1, 23 * H), ...deployments(1, 25 * H).map((d) => ({ ...d, deploymentId: 'x' }))];
    expect(computeDoraMetrics(two, [], window7).lead_time_hours).toBe(24);
    expect(levels(two).lead_time).toBe('high');
  });

  it('change failure rate: < 15 % elite, < 30 % high, < 45 % medium, else low', () => {
    const cfr = (failures: number, of = 20) => levels(deployments(of, H, failures));
    expect(computeDoraMetrics(deployments(20, H, 3), [], window7).change_failure_rate_percent).toBe(15); // not 15.000000000000002
    expect(cfr(2).change_failure_rate).toBe('elite');
    expect(cfr(3).change_failure_rate).toBe('high'); // exactly 15 %
    expect(cfr(6).change_failure_rate).toBe('medium'); // exactly 30 %
    expect(cfr(9).change_failure_rate).toBe('low'); // exactly 45 %
    expect(cfr(8).change_failure_rate).toBe('medium');
    // 14.99…%: 149 of 1000 is 14.9 %.
    expect(cfr(149, 1000).change_failure_rate).toBe('elite');
  });

  it('time to recovery: < 1 h elite, < 24 h high, < 168 h medium, else low', () => {
    const mttr = (ms: number) => levels(deployments(7, H), recovered(ms)).time_to_recovery;
    expect(mttr(H - 1)).toBe('elite');
    expect(mttr(H)).toBe('high');
    expect(mttr(24 * H)).toBe('medium');
    expect(mttr(168 * H - 1)).toBe('medium');
    expect(mttr(168 * H)).toBe('low');
  });

  it('overall: the lowest level of the metrics that have one; a null metric has no level and does not count', () => {
    const c = levels(deployments(7, 2 * H, 0), recovered(30 * H));
    expect(c).toEqual({ deployment_frequency: 'elite', lead_time: 'elite', change_failure_rate: 'elite', time_to_recovery: 'medium', overall: 'medium' });
    const noIncidents = levels(deployments(7, 2 * H, 0));
    expect(noIncidents).toMatchObject({ time_to_recovery: null, overall: 'elite' });
    expect(levels([])).toEqual({ deployment_frequency: 'low', lead_time: null, change_failure_rate: null, time_to_recovery: null, overall: 'low' });
  });
});

describe('SLO targets', () => {
  it('count deployments and incidents over their targets, and report window-level breaches', () => {
    const ds: Deployment[] = [0, 1, 2, 3].map((i) => ({ deploymentId: `d${i}`, service: 's', environment: 'p', pipeline: '', commitMs: FROM, deployMs: FROM + [24 * H, 24 * H + 1, 2 * H, 30 * H][i]!, outcome: i === 0 ? 'failed' : 'success' }));
    const is: Incident[] = [H, H + 1, 2 * H].map((ms, i) => ({ incidentId: `i${i}`, environment: 'p', service: null, severity: 'sev1', startedMs: FROM, acknowledgedMs: null, resolvedMs: FROM + ms }));
    const w: DoraWindow = { fromMs: FROM, toMs: FROM + 7 * D };
    const m = computeDoraMetrics(ds, is, w);
    const s = doraSloStatus(m, ds, is, w, DEFAULT_DORA_TARGETS);
    expect(s.deployments_over_lead_time_target).toBe(2); // exactly 24 h is not over
    expect(s.incidents_over_recovery_target).toBe(2); // exactly 1 h is not over
    expect(s.breaches).toEqual({ deployment_frequency: true, change_failure_rate: true, lead_time: true, time_to_recovery: true });
    expect(s.targets).toEqual({ lead_time_hours: 24, deployment_frequency_per_day: 1, change_failure_rate_percent: 15, time_to_recovery_hours: 1 });
    const relaxed = doraSloStatus(m, ds, is, w, { leadTimeHours: 48, deploymentFrequencyPerDay: 0.5, changeFailureRatePercent: 25, mttrHours: 2 });
    expect(relaxed).toMatchObject({ deployments_over_lead_time_target: 0, incidents_over_recovery_target: 0, breaches: { deployment_frequency: false, change_failure_rate: false, lead_time: false, time_to_recovery: false } });
  });
});

describe('pipeline names', () => {
  it('are lower-case, trimmed, with whitespace and underscores as hyphens; empty is unknown', () => {
    expect(normalizePipeline(' Pipeline_A ')).toBe('pipeline-a');
    expect(normalizePipeline('Release Train')).toBe('release-train');
    expect(normalizePipeline('a  b_c')).toBe('a--b-c');
    expect(normalizePipeline('')).toBe('unknown');
    expect(normalizePipeline('   ')).toBe('unknown');
    expect(normalizePipeline(null)).toBe('unknown');
  });
});

describe('outcome report', () => {
  it('groups by pipeline and severity and has one cohort per UTC day, matching an independent count', () => {
    const data = dataset(7);
    const report = buildOutcomeReport({ tenant: 'acme', environment: null }, dep(data.deployments), inc(data.incidents), W);
    expect(report.cohorts).toHaveLength(31);
    expect(report.cohorts[0]!.date).toBe('2026-01-01');
    expect(report.cohorts.at(-1)!.date).toBe('2026-01-31');
    expect(report.pipelines.map((p) => p.pipeline)).toEqual(['hotfix-lane', 'pipeline-a', 'pipeline-b', 'release-train', 'unknown']);
    const e = expected(data, W);
    expect(report.pipelines.reduce((n, p) => n + p.deployments, 0)).toBe(e.deployments_total);
    expect(report.cohorts.reduce((n, c) => n + c.deployments, 0)).toBe(e.deployments_total);
    expect(report.cohorts.reduce((n, c) => n + c.failures, 0)).toBe(e.deployment_failures_total);
    expect(report.severities.map((s) => s.severity)).toEqual(['sev1', 'sev2', 'sev3', 'sev4']);
    expectClose(report.mtta_hours, e.time_to_acknowledge_hours, 'mtta');
    expectClose(report.mttr_hours, e.time_to_recovery_hours, 'mttr');

    // Pipeline "pipeline-a" by hand: the two spellings of it, inside the window.
    const a = data.deployments.filter((d) => inside(d.deploy_time, W) && (d.pipeline === 'Pipeline A' || d.pipeline === 'pipeline_a'));
    const row = report.pipelines.find((p) => p.pipeline === 'pipeline-a')!;
    expect(row.deployments).toBe(a.length);
    expect(row.failures).toBe(a.filter((d) => d.outcome !== 'success').length);
    expectClose(row.change_failure_rate_percent, (row.failures / a.length) * 100, 'pipeline cfr');
    expectClose(row.median_lead_time_hours, slowMedianHours(a.map((d) => t(d.deploy_time) - t(d.commit_time))), 'pipeline lead time');

    // Severity sev2 by hand.
    const s2 = data.incidents.filter((i) => inside(i.started_at, W) && i.severity === 'sev2');
    const sev2 = report.severities.find((s) => s.severity === 'sev2')!;
    expect(sev2).toMatchObject({ incidents: s2.length, acknowledged: s2.filter((i) => i.acknowledged_at).length, resolved: s2.filter((i) => i.resolved_at).length });
    expectClose(sev2.mttr_hours, slowMeanHours(s2.filter((i) => i.resolved_at).map((i) => t(i.resolved_at!) - t(i.started_at))), 'sev2 mttr');
    expectClose(sev2.mtta_hours, slowMeanHours(s2.filter((i) => i.acknowledged_at).map((i) => t(i.acknowledged_at!) - t(i.started_at))), 'sev2 mtta');

    // The cohort of 2026-01-10 by hand: incidents opened that day, and of those the resolved ones.
    const day = (iso: string) => iso.slice(0, 10);
    const c10 = report.cohorts.find((c) => c.date === '2026-01-10')!;
    const opened = data.incidents.filter((i) => day(i.started_at) === '2026-01-10');
    expect(c10.incidents_opened).toBe(opened.length);
    expect(c10.incidents_resolved).toBe(opened.filter((i) => i.resolved_at).length);
    expect(c10.deployments).toBe(data.deployments.filter((d) => day(d.deploy_time) === '2026-01-10').length);
  });

  it('is the same, byte for byte, whatever order the records come in', () => {
    const data = dataset(11);
    const a = JSON.stringify(buildOutcomeReport({ tenant: 'acme', environment: 'production' }, dep(data.deployments), inc(data.incidents), W));
    const shuffle = <T>(list: T[], seed: number): T[] => {
      const r = prng(seed);
      return list.map((x) => ({ x, k: r() })).sort((p, q) => p.k - q.k).map((p) => p.x);
    };
    const b = JSON.stringify(buildOutcomeReport({ tenant: 'acme', environment: 'production' }, dep(shuffle(data.deployments, 3)), inc(shuffle(data.incidents, 4)), W));
    expect(b).toBe(a);
  });

  it('cohorts cover the days the window touches, partial days included', () => {
    expect(windowDays({ fromMs: Date.UTC(2026, 0, 1, 12), toMs: Date.UTC(2026, 0, 3) })).toEqual(['2026-01-01', '2026-01-02']);
    expect(windowDays({ fromMs: Date.UTC(2026, 0, 1, 12), toMs: Date.UTC(2026, 0, 3, 0, 0, 0, 1) })).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
  });
});

describe('records', () => {
  const deployment = { deployment_id: 'd-1', service: 'checkout', environment: 'production', pipeline: 'main', commit_time: '2026-01-01T10:00:00+01:00', deploy_time: '2026-01-01T12:00:00Z', outcome: 'success' };
  const incident = { environment: 'production', severity: 'sev2', started_at: '2026-01-01T10:00:00Z' };

  it('keep times in UTC to the millisecond', () => {
    expect(validateDeployment(deployment)).toEqual({ ...deployment, commit_time: '2026-01-01T09:00:00.000Z', deploy_time: '2026-01-01T12:00:00.000Z' });
    expect(validateIncident(incident, 'inc-1')).toEqual({ incident_id: 'inc-1', ...incident, service: null, started_at: '2026-01-01T10:00:00.000Z', acknowledged_at: null, resolved_at: null });
  });

  it('name the field that breaks a rule', () => {
    const field = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(DoraInputError);
        return (e as DoraInputError).field;
      }
      throw new Error('accepted');
    };
    expect(field(() => validateDeployment({ ...deployment, deploy_time: '2026-01-01T08:59:59Z' }))).toBe('deploy_time');
    expect(field(() => validateDeployment({ ...deployment, outcome: 'cancelled' }))).toBe('outcome');
    expect(field(() => validateDeployment({ ...deployment, commit_time: '2026-02-30T00:00:00Z' }))).toBe('commit_time');
    expect(field(() => validateDeployment({ ...deployment, commit_time: '2026-01-01 10:00' }))).toBe('commit_time');
    expect(field(() => validateDeployment({ ...deployment, service: 'a\u0000b' }))).toBe('service');
    expect(field(() => validateDeployment({ ...deployment, extra: 1 }))).toBe('extra');
    expect(field(() => validateIncident({ ...incident, resolved_at: '2026-01-01T09:59:59Z' }, 'i'))).toBe('resolved_at');
    expect(field(() => validateIncident({ ...incident, acknowledged_at: '2026-01-01T09:00:00Z' }, 'i'))).toBe('acknowledged_at');
    expect(field(() => validateIncident({ ...incident, severity: 'sev5' }, 'i'))).toBe('severity');
    expect(field(() => validateIncident(incident))).toBe('incident_id');
  });
});
