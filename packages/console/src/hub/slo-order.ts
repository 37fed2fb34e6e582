/** How the hub orders SLOs and which burn-rate windows it shows as columns. */
import type { BurnRatePair, SloStatus } from '../api/api-types.js';

const STATE_ORDER: Record<SloStatus['state'], number> = { page: 0, ticket: 1, ok: 2, no_data: 3 };

/** Burning first (page, then ticket), then the least budget left, then by name. */
export function sloOrder(a: SloStatus, b: SloStatus): number {
  return STATE_ORDER[a.state] - STATE_ORDER[b.state] || (a.error_budget.remaining ?? Infinity) - (b.error_budget.remaining ?? Infinity) || a.name.localeCompare(b.name);
}

export const pairKey = (pair: Pick<BurnRatePair, 'long_window' | 'short_window'>): string => `${pair.long_window}/${pair.short_window}`;

/** The window pairs of all SLOs, once each, in the order the first SLO that has them lists them (the service uses one table for all). */
export function windowPairs(slos: readonly SloStatus[]): BurnRatePair[] {
  const seen = new Map<string, BurnRatePair>();
  for (const s of slos) for (const pair of s.burn_rates) if (!seen.has(pairKey(pair))) seen.set(pairKey(pair), pair);
  return [...seen.values()];
}
