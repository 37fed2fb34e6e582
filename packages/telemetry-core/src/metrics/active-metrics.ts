/**
 * Process-level metric helpers for service code. They record into the instance set up by
 * `initTelemetry`; before it (or after shutdown) they do nothing, so library code can call
 * them unconditionally and a missing init never fails a request.
 */
import type { Attributes } from '@opentelemetry/api';
import { JOURNEYS, rawLabelKey, type GuardedCounter, type GuardedHistogram, type JourneyName, type TelemetryMetrics } from './instruments.js';

let active: TelemetryMetrics | undefined;

export function setActiveMetrics(metrics: TelemetryMetrics | undefined): void {
  active = metrics;
}

const JOURNEY_SET: ReadonlySet<string> = new Set(JOURNEYS);

export type JourneyOutcome = 'success' | 'failure';

/**
 * Records one journey's duration in `stella.journey.duration{stella_journey=...}`. Returns
 * false (and records nothing) for an unknown journey name or before initTelemetry.
 */
export function recordJourney(name: JourneyName, seconds: number, attrs: Attributes & { outcome?: JourneyOutcome } = {}): boolean {
  if (!active || !JOURNEY_SET.has(name)) return false;
  const outcome = attrs.outcome ?? 'success';
  const key = `${name}\u0001${outcome}\u0001${rawLabelKey(attrs)}`;
  active.journeyDuration.recordKeyed(seconds, key, () => ({ ...attrs, 'stella.journey': name, outcome }));
  return true;
}

export interface JourneyTimer {
  /** Stops the timer and records; returns the elapsed seconds. Later calls do nothing. */
  end(outcome?: JourneyOutcome, attrs?: Attributes): number;
}

/** Starts timing a journey; `end()` records it with the active span as exemplar. */
export function startJourney(name: JourneyName, attrs: Attributes = {}): JourneyTimer {
  const start = performance.now();
  let done = false;
  return {
    end(outcome = 'success', more = {}) {
      const seconds = (performance.now() - start) / 1000;
      if (!done) {
        done = true;
        recordJourney(name, seconds, { ...attrs, ...more, outcome });
      }
      return seconds;
    },
  };
}

/** Registers a queue-depth reader for `stella.queue.depth{queue}`; returns an unregister function. */
export function observeQueueDepth(queue: string, read: () => number): () => void {
  return active ? active.observeQueueDepth(queue, read) : () => undefined;
}

/** A guarded histogram with exemplars on the active instance (undefined before initTelemetry). */
export function createHistogram(name: string, description: string, boundaries?: readonly number[], unit?: string): GuardedHistogram | undefined {
  return active?.histogram(name, description, boundaries, unit);
}

/** A guarded counter on the active instance (undefined before initTelemetry). */
export function createCounter(name: string, description: string): GuardedCounter | undefined {
  return active?.counter(name, description);
}
