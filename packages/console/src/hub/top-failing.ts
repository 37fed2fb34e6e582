/** Which routes the hub lists as failing. */
import type { RouteStats } from '../api/api-types.js';

export const TOP_ROUTES = 10;

/** Routes that answered errors, most errors first, then the worst error ratio; at most `top`. */
export function topFailing(series: readonly RouteStats[], top = TOP_ROUTES): RouteStats[] {
  return series
    .filter((r) => r.errors > 0)
    .sort((a, b) => b.errors - a.errors || b.error_ratio - a.error_ratio || a.service.localeCompare(b.service) || a.route.localeCompare(b.route))
    .slice(0, top);
}
