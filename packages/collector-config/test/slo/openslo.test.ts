import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadSlos, parseSlos, SloError } from '../../src/index.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

const BASE = `
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  displayName: API answers
spec:
  description: Requests without a 5xx.
  service: api
  indicator:
    metadata:
      name: api-non-5xx
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_server_request_errors_total{job="api"}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_server_request_duration_seconds_count{job="api"}
  timeWindow:
    - duration: 30d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: 99.9% without a 5xx
      target: 0.999
`;

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The base SLO with one change applied. */
function variant(change: (doc: Doc) => void): string {
  const doc = parse(BASE) as Doc;
  change(doc);
  return stringify(doc);
}

function refusal(text: string): SloError {
  try {
    parseSlos(text, 'slo.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(SloError);
    return e as SloError;
  }
  throw new Error('expected the SLO to be refused');
}

describe('OpenSLO v1 parsing', () => {
  it('reads a ratio SLO with its selectors, target, window and labels', () => {
    const [slo] = parseSlos(BASE, 'slo.yaml');
    expect(slo).toMatchObject({
      name: 'api-availability',
      displayName: 'API answers',
      description: 'Requests without a 5xx.',
      service: 'api',
      target: 0.999,
      errorBudget: 0.001,
      objectiveName: '99.9% without a 5xx',
      period: '30d',
      periodSeconds: 30 * 86_400,
      budgetingMethod: 'Occurrences',
      source: 'slo.yaml#1',
    });
    expect(slo!.indicator.name).toBe('api-non-5xx');
    expect(slo!.indicator.good).toBeUndefined();
    expect(slo!.indicator.bad!.text).toBe('http_server_request_errors_total{job="api"}');
    expect(slo!.indicator.total.matchers).toEqual([{ name: 'job', op: '=', value: 'api' }]);
  });

  it('accepts metricSource without a type, and good instead of bad', () => {
    const text = variant((d) => {
      const ratio = d['spec'].indicator.spec.ratioMetric;
      ratio.good = { metricSource: { spec: { query: 'x_bucket{le="1"}' } } };
      delete ratio.bad;
      delete ratio.total.metricSource.type;
    });
    const [slo] = parseSlos(text);
    expect(slo!.indicator.good!.text).toBe('x_bucket{le="1"}');
    expect(slo!.indicator.total.text).toBe('http_server_request_duration_seconds_count{job="api"}');
  });

  it('normalises selectors: spacing, quotes and escapes', () => {
    const text = variant((d) => {
      d['spec'].indicator.spec.ratioMetric.bad.metricSource.spec.query = ` errors_total { job = 'api' , le =~ "5|5\\\\.0", route!~\`/a|/b\` } `;
    });
    expect(parseSlos(text)[0]!.indicator.bad!.text).toBe('errors_total{job="api",le=~"5|5\\\\.0",route!~"/a|/b"}');
  });

  it('reads several documents from one file and a directory of files, sorted by name', async () => {
    const two = parseSlos(`${BASE}---\n${variant((d) => (d['metadata'].name = 'a-first'))}\n---\n`);
    expect(two.map((s) => s.name)).toEqual(['a-first', 'api-availability']);
    const all = await loadSlos(FIXTURES);
    expect(all.map((s) => [s.name, s.period])).toEqual([
      ['checkout-availability', '28d'],
      ['checkout-latency', '28d'],
      ['nightly-import', '7d'],
    ]);
    expect(all[0]!.source).toMatch(/checkout\.yaml#1$/);
    expect((await loadSlos(join(FIXTURES, 'weekly.yaml'))).map((s) => s.name)).toEqual(['nightly-import']);
  });

  it('refuses duplicate names across files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slo-dup-'));
    writeFileSync(join(dir, 'a.yaml'), BASE);
    writeFileSync(join(dir, 'b.yml'), BASE);
    writeFileSync(join(dir, 'notes.txt'), 'not an SLO');
    await expect(loadSlos(dir)).rejects.toMatchObject({ code: 'slo.duplicate', message: expect.stringMatching(/b\.yml#1: metadata\.name api-availability is already defined in .*a\.yaml#1/) });
  });

  it('refuses a missing path and a directory without YAML', async () => {
    await expect(loadSlos(join(FIXTURES, 'missing.yaml'))).rejects.toMatchObject({ code: 'slo.io' });
    await expect(loadSlos(mkdtempSync(join(tmpdir(), 'slo-empty-')))).rejects.toMatchObject({ code: 'slo.io' });
  });

  it.each([
    ['thresholdMetric', (d: Doc) => (d['spec'].indicator.spec.thresholdMetric = { metricSource: {} }), 'slo.unsupported', 'spec.indicator.spec.thresholdMetric is not supported: use ratioMetric'],
    ['an unknown field', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.totl = {}), 'slo.invalid', 'spec.indicator.spec.ratioMetric.totl is not a field of an OpenSLO v1 SLO here'],
    ['an unknown top-level field', (d: Doc) => (d['status'] = {}), 'slo.invalid', 'status is not a field'],
    ['indicatorRef', (d: Doc) => (d['spec'].indicatorRef = 'x'), 'slo.unsupported', 'spec.indicatorRef is not supported'],
    ['alertPolicies', (d: Doc) => (d['spec'].alertPolicies = []), 'slo.unsupported', 'spec.alertPolicies is not supported'],
    ['Timeslices', (d: Doc) => (d['spec'].budgetingMethod = 'Timeslices'), 'slo.unsupported', 'spec.budgetingMethod Timeslices is not supported: use Occurrences'],
    ['a calendar window', (d: Doc) => (d['spec'].timeWindow[0] = { duration: '1M', calendar: { startTime: '2024-01-01 00:00:00', timeZone: 'UTC' } }), 'slo.unsupported', 'spec.timeWindow[0].calendar is not supported'],
    ['a non-rolling window', (d: Doc) => (d['spec'].timeWindow[0].isRolling = false), 'slo.unsupported', 'spec.timeWindow[0].isRolling must be true'],
    ['two windows', (d: Doc) => d['spec'].timeWindow.push({ duration: '7d', isRolling: true }), 'slo.unsupported', 'spec.timeWindow is not supported with more than one entry'],
    ['a month window', (d: Doc) => (d['spec'].timeWindow[0].duration = '1M'), 'slo.invalid', 'spec.timeWindow[0].duration must be a duration'],
    ['a 1-day window', (d: Doc) => (d['spec'].timeWindow[0].duration = '1d'), 'slo.unsupported', 'spec.timeWindow[0].duration (1d): SLO period 1d is outside 7d–90d'],
    ['targetPercent', (d: Doc) => (d['spec'].objectives[0] = { targetPercent: 99.9 }), 'slo.unsupported', 'spec.objectives[0].targetPercent is not supported: use target'],
    ['a target of 1', (d: Doc) => (d['spec'].objectives[0].target = 1), 'slo.invalid', 'spec.objectives[0].target must be a number between 0 and 1'],
    ['a target too loose to page', (d: Doc) => (d['spec'].objectives[0].target = 0.9), 'slo.invalid', 'spec.objectives[0].target 0.9 leaves an error budget of 10%: a 14.4× burn over 1h would need more than 100% errors, so the page could never fire; use a target above 0.9306'],
    ['counter: false', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.counter = false), 'slo.unsupported', 'spec.indicator.spec.ratioMetric.counter must be true'],
    ['good and bad together', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.good = d['spec'].indicator.spec.ratioMetric.bad), 'slo.invalid', 'spec.indicator.spec.ratioMetric needs exactly one of good and bad'],
    ['no total', (d: Doc) => delete d['spec'].indicator.spec.ratioMetric.total, 'slo.invalid', 'spec.indicator.spec.ratioMetric.total is required'],
    ['a raw ratio', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.rawType = 'success'), 'slo.unsupported', 'spec.indicator.spec.ratioMetric.rawType is not supported'],
    ['another metric source', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.total.metricSource.type = 'Datadog'), 'slo.unsupported', 'spec.indicator.spec.ratioMetric.total.metricSource.type "Datadog" is not supported'],
    ['an expression instead of a selector', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.bad.metricSource.spec.query = 'sum(rate(errors_total[5m]))'), 'slo.invalid', 'spec.indicator.spec.ratioMetric.bad.metricSource.spec.query must be a Prometheus series selector'],
    ['a range selector', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.bad.metricSource.spec.query = 'errors_total[5m]'), 'slo.invalid', 'a series selector ends here'],
    ['a selector matching everything', (d: Doc) => (d['spec'].indicator.spec.ratioMetric.bad.metricSource.spec.query = '{job=~".*"}'), 'slo.invalid', 'needs a metric name or at least one matcher that does not match the empty string'],
    ['a name that is not a DNS label', (d: Doc) => (d['metadata'].name = 'API_availability'), 'slo.invalid', 'metadata.name must be a DNS label'],
    ['a service that is not a DNS label', (d: Doc) => (d['spec'].service = 'my service'), 'slo.invalid', 'spec.service must be a DNS label'],
    ['another kind', (d: Doc) => (d['kind'] = 'Service'), 'slo.unsupported', 'kind Service is not supported'],
    ['another API version', (d: Doc) => (d['apiVersion'] = 'openslo/v2alpha'), 'slo.unsupported', 'apiVersion openslo/v2alpha is not supported: use openslo/v1'],
  ])('refuses %s, naming the field', (_what, change, code, message) => {
    const e = refusal(variant(change));
    expect(e.code).toBe(code);
    expect(e.message).toContain(message);
    expect(e.message).toMatch(/^slo\.yaml#1, line \d+: /);
  });

  it('gives the line of the offending field', () => {
    const text = BASE.replace('        counter: true\n', '        counter: true\n        raw: {}\n');
    const e = refusal(text);
    expect(e.path).toBe('spec.indicator.spec.ratioMetric.raw');
    expect(e.line).toBe(text.split('\n').findIndex((l) => l.includes('raw: {}')) + 1);
  });

  it('refuses YAML that does not parse, with its line', () => {
    const e = refusal('apiVersion: openslo/v1\nkind: [SLO\n');
    expect(e.code).toBe('slo.invalid');
    expect(e.message).toMatch(/^slo\.yaml#1, line \d+: not valid YAML/);
  });

  it('skips empty documents', () => {
    expect(parseSlos('---\n---\n')).toEqual([]);
    expect(parseSlos('')).toEqual([]);
  });
});
