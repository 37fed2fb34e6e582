/**
 * Telemetry stack health: the service's OTLP receivers (accepted, refused, quarantined), every
 * process's export pipeline (failures, queues, drops), incident mode and scrape targets.
 */
import type { DashboardSpec } from './model.js';
import { METRICS, selector, SERVICE_JOB, sumIncrease, sumRate } from './promql.js';

const SERVICE = `job="${SERVICE_JOB}"`;
const NOT_SERVICE = `job!="${SERVICE_JOB}"`;

export const telemetryHealthDashboard: DashboardSpec = {
  uid: 'stella-telemetry',
  title: 'StellaOps / Telemetry stack health',
  description: "The telemetry pipeline itself: OTLP items the service accepted, refused and quarantined; each process's exporters (failures, queues, drops, tail sampling); incident mode; scrape targets and process saturation.",
  tags: ['stellaops', 'telemetry'],
  rows: [
    {
      title: 'OTLP receivers (Observability & Forensics service)',
      panels: [
        {
          title: 'OTLP items accepted',
          description: 'Spans, log records and data points the OTLP receivers stored per second, by signal.',
          type: 'timeseries',
          unit: 'short',
          source: 'service',
          queries: [{ expr: sumRate(selector(METRICS.receiverAccepted), ['signal']), legend: '{{signal}}' }],
        },
        {
          title: 'OTLP requests refused',
          description: 'OTLP requests refused per second, by signal and error code (auth.* token failures, otlp.quota_exceeded, otlp.overloaded, malformed bodies...).',
          type: 'timeseries',
          unit: 'reqps',
          source: 'service',
          queries: [{ expr: sumRate(selector(METRICS.receiverRefused), ['signal', 'error_code']), legend: '{{signal}} {{error_code}}' }],
        },
        {
          title: 'Records quarantined',
          description: 'Acknowledged records their destination refused, kept in the quarantine, per interval by signal, tenant and reason (alert TelemetryRecordsQuarantined; inspect with GET /telemetry/quarantine).',
          type: 'timeseries',
          unit: 'short',
          source: 'service',
          queries: [{ expr: sumIncrease(selector(METRICS.quarantined), ['signal', 'tenant', 'reason']), legend: '{{signal}} {{tenant}} {{reason}}' }],
        },
      ],
    },
    {
      title: 'Exporters (every service)',
      panels: [
        {
          title: 'Export failures',
          description: 'Failed exports to the collector or the service receiver per second, by service and signal (alert CollectorExportFailures).',
          type: 'timeseries',
          unit: 'ops',
          source: 'workload',
          queries: [{ expr: sumRate(selector(METRICS.exportFailures), ['job', 'signal']), legend: '{{job}} {{signal}}' }],
        },
        {
          title: 'Export queue depth',
          description: 'Records waiting for export, by service and signal (alert TelemetryExportBacklog above 1024).',
          type: 'timeseries',
          unit: 'short',
          source: 'workload',
          thresholds: [{ value: 1024, color: 'orange' }],
          queries: [{ expr: `max by (job, signal) (${METRICS.exportQueueDepth})`, legend: '{{job}} {{signal}}' }],
        },
        {
          title: 'Records dropped',
          description: 'Telemetry records not delivered per second, by service, signal and reason (alert TelemetryRecordsDropped).',
          type: 'timeseries',
          unit: 'short',
          source: 'workload',
          queries: [{ expr: sumRate(selector(METRICS.dropped), ['job', 'signal', 'reason']), legend: '{{job}} {{signal}} {{reason}}' }],
        },
        {
          title: 'Tail sampling: traces discarded',
          description: 'Head-dropped traces the tail buffer discarded (no error, not slow, no incident) per second, by service.',
          type: 'timeseries',
          unit: 'short',
          source: 'workload',
          queries: [{ expr: sumRate(selector(METRICS.tailDiscarded), ['job']), legend: '{{job}}' }],
        },
        {
          title: 'Tail buffer and spill',
          description: 'Bytes held by the tail-sampling buffer and bytes of error logs spilled to disk awaiting re-send, by service.',
          type: 'timeseries',
          unit: 'bytes',
          source: 'workload',
          queries: [
            { expr: `sum by (job) (${METRICS.tailBufferBytes})`, legend: '{{job}} tail buffer' },
            { expr: `sum by (job) (${METRICS.spillPendingBytes})`, legend: '{{job}} spill' },
          ],
        },
      ],
    },
    {
      title: 'Incident mode',
      panels: [
        {
          title: 'Tenants in incident mode',
          description: "Incident mode per tenant as the service holds it: 1 while on (alert TelemetryIncidentModeActive).",
          type: 'timeseries',
          unit: 'none',
          source: 'service',
          min: 0,
          queries: [{ expr: `max by (tenant) (${selector(METRICS.incidentMode, SERVICE, 'state="on"')})`, legend: '{{tenant}}' }],
        },
        {
          title: 'Processes following incident mode',
          description: 'Incident-mode scopes in force in each process (telemetry-core), by tenant and service scope (* = all): the processes tracing everything for that tenant.',
          type: 'timeseries',
          unit: 'none',
          source: 'workload',
          min: 0,
          queries: [{ expr: `count by (tenant, service) (${selector(METRICS.incidentMode, NOT_SERVICE, 'state="on"')})`, legend: '{{tenant}} {{service}}' }],
        },
      ],
    },
    {
      title: 'Targets and processes',
      panels: [
        {
          title: 'Scrape targets up',
          description: '1 when the last scrape of the target succeeded, per job (alert TelemetryTargetDown after 5 min at 0).',
          type: 'timeseries',
          unit: 'none',
          source: 'prometheus',
          min: 0,
          queries: [{ expr: `min by (job) (${METRICS.up})`, legend: '{{job}}' }],
        },
        {
          title: 'Targets down',
          description: 'Scrape targets whose last scrape failed.',
          type: 'stat',
          unit: 'none',
          source: 'prometheus',
          width: 4,
          thresholds: [{ value: 1, color: 'red' }],
          queries: [{ expr: `count(${METRICS.up} == 0) or vector(0)`, legend: 'down' }],
        },
        {
          title: 'Work queue depth',
          description: 'Depth of the work queues registered with observeQueueDepth (alert QueueDepthHigh above 100).',
          type: 'timeseries',
          unit: 'short',
          source: 'workload',
          width: 12,
          thresholds: [{ value: 100, color: 'orange' }],
          queries: [{ expr: `max by (job, queue) (${METRICS.queueDepth})`, legend: '{{job}} {{queue}}' }],
        },
        {
          title: 'Event-loop delay (P99)',
          description: 'Event-loop delay P99 over a 10 s window, by service.',
          type: 'timeseries',
          unit: 's',
          source: 'workload',
          queries: [{ expr: `max by (job) (${METRICS.eventLoopP99})`, legend: '{{job}}' }],
        },
        {
          title: 'CPU',
          description: 'CPU time per second (1 = one core), by service.',
          type: 'timeseries',
          unit: 'short',
          source: 'workload',
          queries: [{ expr: sumRate(selector(METRICS.cpuTime), ['job']), legend: '{{job}}' }],
        },
        {
          title: 'Memory (RSS)',
          description: 'Resident set size, by service.',
          type: 'timeseries',
          unit: 'bytes',
          source: 'workload',
          queries: [{ expr: `sum by (job) (${METRICS.memoryRss})`, legend: '{{job}}' }],
        },
      ],
    },
  ],
};
