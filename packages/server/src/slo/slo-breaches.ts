/**
 * What a page-level SLO breach does (SLO-3, INC-3), whichever source saw it — the service's
 * evaluator or a firing `SLOErrorBudgetBurn` from Alertmanager:
 *
 * 1. the breach is recorded (`slo_breaches`, with a `slo.breach.firing` timeline event in the
 *    same transaction); a breach already open for the same fingerprint is left alone, so every
 *    replica and both sources act on one breach once;
 * 2. when its burn rate reaches `STELLA_SLO_INCIDENT_BURN_RATE`, incident mode is switched on
 *    for the tenant and the SLO's service through the incident controller (trigger `slo_burn`,
 *    TTL `STELLA_SLO_INCIDENT_TTL_MINUTES`; the controller's cool-down applies);
 * 3. `stella.<tenant>.slo.breach` is published on the bus, saying what was done;
 * 4. the configured webhooks are called (Alertmanager JSON or CloudEvents, HMAC-signed, retried
 *    in the background, the same event id on every attempt).
 *
 * A breach is resolved by the source that opened it, with the same bus event and webhooks.
 * Nothing here throws into the evaluator or the receiver for a bus or webhook failure: those
 * are logged and counted.
 */
import { sloBreachSubject, uuidv7, type Bus, type Logger } from '@stellaops/telemetry-core';
import type { ServiceConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import type { IncidentController } from '../incident/incident-controller.js';
import { WebhookNotifier } from '../incident/webhook-notifier.js';
import type { SqlStore } from '../store/sql-store.js';
import { ensureTenant } from '../store/tenants.js';
import type { AuditTrail } from '../timeline/audit-trail.js';
import { alertmanagerBody, breachCloudEvent, breachFingerprint, type BreachSource, type BreachState, type SloBreach } from './slo-breach.js';

export interface BreachInput {
  tenant: string;
  slo: string;
  service: string;
  severity: 'page' | 'ticket';
  longWindow: string;
  shortWindow: string;
  source: BreachSource;
  burnRate: number;
  startedAtMs: number;
  /** Whether the service knows this SLO (incident mode is switched only for SLOs it evaluates too). */
  known: boolean;
  summary?: string | undefined;
  description?: string | undefined;
  runbookUrl?: string | undefined;
}

export interface BreachOutcome {
  breach: SloBreach;
  /** False when the breach was already open (nothing was done again). */
  opened: boolean;
}

export interface SloBreachesOptions {
  config: ServiceConfig;
  store: SqlStore;
  bus: Bus;
  audit: AuditTrail;
  incidents: IncidentController;
  logger: Logger;
  clock: () => number;
}

interface Row {
  tenant_id: string;
  breach_id: string;
  fingerprint: string;
  slo: string;
  service: string;
  severity: 'page' | 'ticket';
  long_window: string;
  short_window: string;
  source: BreachSource;
  burn_rate: number;
  started_at: Date | string;
  resolved_at: Date | string | null;
  incident: string;
  incident_id: string | null;
}

const COLUMNS = 'tenant_id, breach_id, fingerprint, slo, service, severity, long_window, short_window, source, burn_rate, started_at, resolved_at, incident, incident_id';
const ACTOR = 'system:slo';

function toBreach(r: Row, texts: Pick<BreachInput, 'summary' | 'description' | 'runbookUrl'> = {}): SloBreach {
  return {
    breach_id: r.breach_id,
    fingerprint: r.fingerprint,
    tenant: r.tenant_id,
    slo: r.slo,
    service: r.service,
    severity: r.severity,
    long_window: r.long_window,
    short_window: r.short_window,
    source: r.source,
    burn_rate: Number(r.burn_rate),
    started_at: new Date(r.started_at).toISOString(),
    resolved_at: r.resolved_at === null ? null : new Date(r.resolved_at).toISOString(),
    incident: r.incident,
    incident_id: r.incident_id,
    summary: texts.summary ?? null,
    description: texts.description ?? null,
    runbook_url: texts.runbookUrl ?? null,
  };
}

export class SloBreaches {
  private readonly webhooks: { format: 'alertmanager' | 'cloudevents'; notifier: WebhookNotifier }[];
  /** Bus publications that failed (the breach is stored; subscribers miss the event). */
  unpublished = 0;

  constructor(private readonly options: SloBreachesOptions) {
    const { config, logger } = options;
    this.webhooks = config.sloWebhookSecret
      ? config.sloWebhooks.map((hook) => ({
          format: hook.format,
          notifier: new WebhookNotifier({
            url: hook.url,
            secret: config.sloWebhookSecret!,
            logger,
            name: 'SLO breach webhook',
            maxAttempts: config.incidentWebhookMaxAttempts,
            retryBaseMs: config.incidentWebhookRetryBaseMs,
          }),
        }))
      : [];
  }

  /** Resolves when every webhook delivery queued so far has finished. */
  async settled(): Promise<void> {
    await Promise.all(this.webhooks.map((w) => w.notifier.settled()));
  }

  /** Fingerprints of the tenant's open breaches, by the source that opened them. */
  async open(tenant: string): Promise<Map<string, BreachSource>> {
    const { rows } = await this.options.store.tenantTransaction(tenant, (tx) =>
      tx.query<{ fingerprint: string; source: BreachSource }>('SELECT fingerprint, source FROM slo_breaches WHERE tenant_id = $1 AND resolved_at IS NULL', [tenant]),
    );
    return new Map(rows.map((r) => [r.fingerprint, r.source]));
  }

  /** The tenant's breaches, newest first. */
  async recent(tenant: string, limit: number): Promise<SloBreach[]> {
    const { rows } = await this.options.store.tenantTransaction(tenant, (tx) =>
      tx.query<Row>(`SELECT ${COLUMNS} FROM slo_breaches WHERE tenant_id = $1 ORDER BY started_at DESC, breach_id DESC LIMIT $2`, [tenant, limit]),
    );
    return rows.map((r) => toBreach(r));
  }

  /** Records a firing breach and acts on it, unless the same breach is open already. */
  async fire(input: BreachInput): Promise<BreachOutcome> {
    const { config, clock } = this.options;
    const fingerprint = breachFingerprint(input.tenant, input.slo, input.service, input.severity, input.longWindow);
    const threshold = config.sloIncidentBurnRate;
    const decided =
      input.severity !== 'page' ? 'not_page' : !input.known ? 'unknown_slo' : threshold === undefined ? 'disabled' : input.burnRate < threshold ? 'below_threshold' : 'pending';
    const breachId = uuidv7(clock());
    const inserted = await this.options.audit.record(input.tenant, async (tx, audit) => {
      await ensureTenant(tx, input.tenant);
      const { rows } = await tx.query<Row>(
        `INSERT INTO slo_breaches (tenant_id, breach_id, fingerprint, slo, service, severity, long_window, short_window, source, burn_rate, started_at, incident)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (tenant_id, fingerprint) WHERE resolved_at IS NULL DO NOTHING
         RETURNING ${COLUMNS}`,
        [input.tenant, breachId, fingerprint, input.slo, input.service, input.severity, input.longWindow, input.shortWindow, input.source, input.burnRate, new Date(input.startedAtMs), decided],
      );
      const row = rows[0];
      if (row) await audit(timelineInput('slo.breach.firing', toBreach(row, input)));
      return row;
    });
    if (!inserted) {
      const { rows } = await this.options.store.tenantTransaction(input.tenant, (tx) =>
        tx.query<Row>(`SELECT ${COLUMNS} FROM slo_breaches WHERE tenant_id = $1 AND fingerprint = $2 AND resolved_at IS NULL`, [input.tenant, fingerprint]),
      );
      // Resolved in between: report it as found.
      const row = rows[0];
      return { breach: row ? toBreach(row, input) : toBreach({ ...rowOf(input, breachId, fingerprint), incident: decided }, input), opened: false };
    }
    let breach = toBreach(inserted, input);
    // Incident mode first, so the bus event and the webhooks say what was done.
    if (decided === 'pending') breach = await this.switchIncident(breach);
    await this.announce(breach, 'firing');
    return { breach, opened: true };
  }

  /** Resolves the open breach of `fingerprint` if `source` opened it; returns it when it did. */
  async resolve(tenant: string, fingerprint: string, source: BreachSource, atMs: number): Promise<SloBreach | undefined> {
    const row = await this.options.audit.record(tenant, async (tx, audit) => {
      const { rows } = await tx.query<Row>(
        `UPDATE slo_breaches SET resolved_at = GREATEST($3::timestamptz, started_at) WHERE tenant_id = $1 AND fingerprint = $2 AND source = $4 AND resolved_at IS NULL RETURNING ${COLUMNS}`,
        [tenant, fingerprint, new Date(atMs), source],
      );
      const r = rows[0];
      if (r) await audit(timelineInput('slo.breach.resolved', toBreach(r)));
      return r;
    });
    if (!row) return undefined;
    const breach = toBreach(row);
    await this.announce(breach, 'resolved');
    return breach;
  }

  /** Publishes the breach on the bus and queues the webhooks; failures are logged and counted. */
  private async announce(breach: SloBreach, state: BreachState): Promise<void> {
    const { bus, config, logger } = this.options;
    try {
      await bus.publish(sloBreachSubject(breach.tenant, config.subjectPrefix), Buffer.from(JSON.stringify({ ...breach, state })), { msgId: `slo-breach-${breach.breach_id}-${state}` });
    } catch (error) {
      this.unpublished++;
      logger.error({ err: error, tenant_id: breach.tenant, details: { breach_id: breach.breach_id, state } }, 'SLO breach stored but not published on the bus');
    }
    for (const { format, notifier } of this.webhooks) {
      const delivery =
        format === 'cloudevents'
          ? notifier.send(breachCloudEvent(breach, state))
          : notifier.sendBody({ id: `${breach.breach_id}-${state}`, type: `slo.breach.${state}`, body: JSON.stringify(alertmanagerBody(breach, state)), contentType: 'application/json' });
      // The notifier logs its own failures; this only keeps a surprise from escaping.
      delivery.catch((error: unknown) => logger.error({ err: error, details: { breach_id: breach.breach_id } }, 'SLO breach webhook failed unexpectedly'));
    }
  }

  private async switchIncident(breach: SloBreach): Promise<SloBreach> {
    const { config, incidents, logger, store } = this.options;
    let incident: string;
    let incidentId: string | null = null;
    try {
      const result = await incidents.on({
        tenant: breach.tenant,
        service: breach.service,
        ttlMs: config.sloIncidentTtlMinutes * 60_000,
        reason: `SLO ${breach.slo} of ${breach.service}: error budget burning ${Number(breach.burn_rate.toPrecision(4))}x over ${breach.long_window} and ${breach.short_window} (${breach.source === 'alertmanager' ? 'Alertmanager' : 'the service evaluator'})`,
        actor: ACTOR,
        trigger: 'slo_burn',
      });
      incident = result.extended ? 'extended' : 'on';
      incidentId = result.incident.incident_id;
    } catch (error) {
      incident = error instanceof ServiceError && error.code === 'incident.cooldown' ? 'cooldown' : 'failed';
      if (incident === 'failed') logger.error({ err: error, tenant_id: breach.tenant, details: { breach_id: breach.breach_id } }, 'SLO breach could not switch incident mode on');
      else logger.info({ tenant_id: breach.tenant, details: { breach_id: breach.breach_id, message: (error as Error).message } }, 'SLO breach within the incident cool-down; incident mode not switched on');
    }
    await store.tenantTransaction(breach.tenant, (tx) =>
      tx.query('UPDATE slo_breaches SET incident = $3, incident_id = $4 WHERE tenant_id = $1 AND breach_id = $2', [breach.tenant, breach.breach_id, incident, incidentId]),
    );
    return { ...breach, incident, incident_id: incidentId };
  }
}

function rowOf(input: BreachInput, breachId: string, fingerprint: string): Row {
  return {
    tenant_id: input.tenant,
    breach_id: breachId,
    fingerprint,
    slo: input.slo,
    service: input.service,
    severity: input.severity,
    long_window: input.longWindow,
    short_window: input.shortWindow,
    source: input.source,
    burn_rate: input.burnRate,
    started_at: new Date(input.startedAtMs),
    resolved_at: null,
    incident: 'pending',
    incident_id: null,
  };
}

function timelineInput(kind: string, b: SloBreach) {
  return {
    kind,
    actor: ACTOR,
    resource_type: 'slo',
    resource_id: b.slo,
    details: {
      breach_id: b.breach_id,
      fingerprint: b.fingerprint,
      service: b.service,
      severity: b.severity,
      long_window: b.long_window,
      short_window: b.short_window,
      source: b.source,
      burn_rate: b.burn_rate,
      started_at: b.started_at,
      resolved_at: b.resolved_at,
    },
  };
}
