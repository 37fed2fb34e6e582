/**
 * Keeps decision records (telemetry-core `logDecision`) for snapshots' decision traces: policy
 * decisions and authorisation denials of this process, batched into evidence_decisions per
 * tenant. Recording is best effort and never slows or fails the request that decided.
 */
import { onDecision, uuidv7, type DecisionRecord, type Logger } from '@stellaops/telemetry-core';
import type { EvidenceRepository } from './evidence-repository.js';

export interface DecisionRecorderOptions {
  repository: EvidenceRepository;
  logger: Logger;
  /** Flush interval in ms. Default 1000. */
  flushMs?: number;
  /** Records held at most before older ones are dropped. Default 10000. */
  maxBuffered?: number;
}

export class DecisionRecorder {
  private buffer: DecisionRecord[] = [];
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  constructor(private readonly options: DecisionRecorderOptions) {}

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = onDecision((record) => {
      if (!record.tenant_id || !(record.kind === 'policy' || record.effect === 'deny')) return;
      if (this.buffer.length >= (this.options.maxBuffered ?? 10_000)) {
        this.buffer.shift();
        this.dropped++;
      }
      this.buffer.push(record);
    });
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.options.logger.error({ err: error }, 'decision records flush failed'));
    }, this.options.flushMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.timer);
    await this.flush();
  }

  /** Writes what is buffered; concurrent calls share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    const byTenant = new Map<string, DecisionRecord[]>();
    for (const r of batch) byTenant.set(r.tenant_id!, [...(byTenant.get(r.tenant_id!) ?? []), r]);
    for (const [tenant, records] of byTenant) {
      try {
        await this.options.repository.insertDecisions(
          tenant,
          records.map((r) => ({ id: uuidv7(), ts: r.ts, kind: r.kind, trace_id: r.trace_id ?? null, resource: r.resource ?? null, record: r })),
        );
      } catch (error) {
        this.options.logger.warn({ err: error, tenant_id: tenant, details: { records: records.length } }, 'decision records not kept for evidence');
      }
    }
    if (this.dropped > 0) {
      this.options.logger.warn({ details: { dropped: this.dropped } }, 'decision records dropped: the evidence store did not keep up');
      this.dropped = 0;
    }
  }
}
