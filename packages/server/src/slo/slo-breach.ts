/**
 * An SLO breach as the bus, the webhooks and the API see it, and the two webhook bodies it is
 * sent as: Alertmanager's webhook JSON (version 4, so anything that takes Alertmanager's
 * notifications takes these) and a CloudEvents 1.0 event.
 */
import { createHash } from 'node:crypto';
import { SLO_BURN_ALERT } from '@stellaops/collector-config';
import type { CloudEvent } from '../incident/webhook-notifier.js';

export type BreachSource = 'evaluator' | 'alertmanager';
export type BreachState = 'firing' | 'resolved';

export interface SloBreach {
  breach_id: string;
  /** Same for the same tenant, SLO, service, severity and long window, whichever source saw it. */
  fingerprint: string;
  tenant: string;
  slo: string;
  service: string;
  severity: 'page' | 'ticket';
  long_window: string;
  short_window: string;
  source: BreachSource;
  /** The lower of the two windows' burn rates (evaluator) or the pair's burn rate (Alertmanager). */
  burn_rate: number;
  started_at: string;
  resolved_at: string | null;
  /** What was done about incident mode: on, extended, cooldown, below_threshold, disabled, unknown_slo, failed (pending while it is decided). */
  incident: string;
  incident_id: string | null;
  /** The alert's texts, when known. */
  summary: string | null;
  description: string | null;
  runbook_url: string | null;
}

export const BREACH_EVENT_SOURCE = '/stellaops/observability/slo';
const ZERO_TIME = '0001-01-01T00:00:00Z';

export function breachFingerprint(tenant: string, slo: string, service: string, severity: string, longWindow: string): string {
  return createHash('sha256').update(JSON.stringify([tenant, slo, service, severity, longWindow])).digest('hex').slice(0, 32);
}

/** The alert's labels, as the generated rules label `SLOErrorBudgetBurn`, plus the tenant. */
export function breachLabels(b: SloBreach): Record<string, string> {
  return { alertname: SLO_BURN_ALERT, long_window: b.long_window, service: b.service, severity: b.severity, slo: b.slo, stella_tenant_id: b.tenant };
}

function annotations(b: SloBreach): Record<string, string> {
  const out: Record<string, string> = {
    summary: b.summary ?? `${b.slo}: error budget burning ${Number(b.burn_rate.toPrecision(4))}x too fast over ${b.long_window} and ${b.short_window}`,
  };
  if (b.description) out['description'] = b.description;
  if (b.runbook_url) out['runbook_url'] = b.runbook_url;
  return out;
}

/** Alertmanager's webhook payload (version 4) holding one alert. */
export function alertmanagerBody(b: SloBreach, state: BreachState): Record<string, unknown> {
  const labels = breachLabels(b);
  const ann = annotations(b);
  return {
    version: '4',
    groupKey: `{}:{alertname="${SLO_BURN_ALERT}",slo="${b.slo}",stella_tenant_id="${b.tenant}"}`,
    truncatedAlerts: 0,
    status: state,
    receiver: 'stella-observability',
    groupLabels: { alertname: SLO_BURN_ALERT, slo: b.slo, stella_tenant_id: b.tenant },
    commonLabels: labels,
    commonAnnotations: ann,
    externalURL: '',
    alerts: [
      {
        status: state,
        labels,
        annotations: ann,
        startsAt: b.started_at,
        endsAt: state === 'resolved' && b.resolved_at ? b.resolved_at : ZERO_TIME,
        generatorURL: '',
        fingerprint: b.fingerprint,
      },
    ],
  };
}

/** The breach as a CloudEvent; its id is the same for every delivery of this state of this breach. */
export function breachCloudEvent(b: SloBreach, state: BreachState): CloudEvent {
  return {
    specversion: '1.0',
    id: `${b.breach_id}-${state}`,
    source: BREACH_EVENT_SOURCE,
    type: state === 'firing' ? 'io.stellaops.slo.breach' : 'io.stellaops.slo.breach.resolved',
    subject: `tenant/${b.tenant}/slo/${b.slo}`,
    time: state === 'resolved' && b.resolved_at ? b.resolved_at : b.started_at,
    datacontenttype: 'application/json',
    data: { ...b, state },
  };
}
