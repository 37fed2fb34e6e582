/** Durations in the OpenSLO shorthand (`30d`, `4w`, `6h`) and in Prometheus rules (`1d`, `5m`). */

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** Seconds of `<n><unit>` with unit s, m, h, d or w; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const m = /^([1-9][0-9]*)(s|m|h|d|w)$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** The shortest exact Prometheus spelling of whole seconds, in one unit: 300 → `5m`, 86400 → `1d`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Human wording for descriptions: 180000 s → `2d 2h`, 5400 → `1h 30m`. */
export function describeDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = Math.round(seconds / 60) * 60;
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.slice(0, 2).join(' ') || '0m';
}
