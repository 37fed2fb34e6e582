/**
 * The Notify webhook of incident mode (INC-2): CloudEvents 1.0 in structured JSON mode, signed
 * with HMAC-SHA256 over the exact body (`X-Stella-Signature: sha256=<hex>`), delivered in the
 * background with exponential back-off on network errors, 429 and 5xx. Every attempt carries
 * the same event id, so a receiver de-duplicates retries. Never throws into the toggle.
 * The SLO breach webhooks (slo/) deliver through it too, in CloudEvents or, with `sendBody`,
 * in Alertmanager's webhook format.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '@stellaops/telemetry-core';

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  data: Record<string, unknown>;
}

export interface WebhookNotifierOptions {
  url: string;
  secret: string;
  logger: Logger;
  /** What the log lines call it. Default `incident webhook`. */
  name?: string;
  /** Attempts per event. Default 6. */
  maxAttempts?: number;
  /** First retry delay in ms, doubling per attempt, capped at 60 s. Default 1000. */
  retryBaseMs?: number;
  /** Per-attempt timeout in ms. Default 10000. */
  timeoutMs?: number;
  /** Waits between attempts; injectable for tests. Default: an unref'd timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** One delivery: its body exactly as sent and signed. */
export interface WebhookDelivery {
  id: string;
  type: string;
  body: string;
  contentType: string;
}

export const SIGNATURE_HEADER = 'x-stella-signature';
export const EVENT_SOURCE = '/stellaops/observability/incident-mode';

/** `sha256=<hex>` of HMAC-SHA256(secret, body) — what a receiver recomputes to authenticate a delivery. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function cloudEvent(type: string, subject: string, time: Date, data: Record<string, unknown>): CloudEvent {
  return { specversion: '1.0', id: randomUUID(), source: EVENT_SOURCE, type, subject, time: time.toISOString(), datacontenttype: 'application/json', data };
}

export class WebhookNotifier {
  private readonly inflight = new Set<Promise<boolean>>();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.sleep =
      options.sleep ??
      ((ms) =>
        new Promise((resolve) => {
          setTimeout(resolve, ms).unref();
        }));
  }

  /** Queues delivery; the promise (also tracked by `settled`) resolves to whether it was delivered. */
  send(event: CloudEvent): Promise<boolean> {
    return this.sendBody({ id: event.id, type: event.type, body: JSON.stringify(event), contentType: 'application/cloudevents+json' });
  }

  /** Queues delivery of a body in another format, signed and retried the same way (`id` names it in the log). */
  sendBody(delivery: WebhookDelivery): Promise<boolean> {
    const p = this.deliver(delivery).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return p;
  }

  /** Resolves when every queued delivery has finished (delivered or given up). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async deliver(event: WebhookDelivery): Promise<boolean> {
    const { url, secret, logger } = this.options;
    const name = this.options.name ?? 'incident webhook';
    const maxAttempts = this.options.maxAttempts ?? 6;
    const base = this.options.retryBaseMs ?? 1000;
    const body = event.body;
    const signature = signWebhookBody(secret, body);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let outcome: string;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': event.contentType, [SIGNATURE_HEADER]: signature, 'x-stella-delivery-attempt': String(attempt) },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return true;
        outcome = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429 && response.status !== 408) {
          logger.error({ details: { event_id: event.id, type: event.type, status: response.status } }, `${name} refused the event; not retrying`);
          return false;
        }
      } catch (error) {
        outcome = (error as Error).message;
      }
      if (attempt === maxAttempts) {
        logger.error({ details: { event_id: event.id, type: event.type, attempts: attempt, last: outcome } }, `${name} delivery failed; giving up`);
        return false;
      }
      logger.warn({ details: { event_id: event.id, type: event.type, attempt, last: outcome } }, `${name} delivery failed; retrying`);
      await this.sleep(Math.min(60_000, base * 2 ** (attempt - 1)));
    }
    return false;
  }
}
