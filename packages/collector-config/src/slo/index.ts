/**
 * SLOs as code: OpenSLO v1 definitions in, Prometheus multiwindow, multi-burn-rate recording
 * and alert rules (and their promtool tests) out. The same parsed SLOs feed the service's own
 * evaluator, which asks Prometheus (or its embedded store) for `sliErrorRatioExpr` and compares
 * with `sloBurnRateAlerts`.
 */
export { SloError } from './errors.js';
export type { SloErrorCode, SloErrorDetails } from './errors.js';

export { loadSlos, parseSlos } from './load.js';
export { sloFromDocument } from './openslo.js';
export type { RatioIndicator, Slo } from './openslo.js';

export { matchesSelector, parseSelector } from './selector.js';
export type { LabelMatcher, MatchOp, SeriesSelector } from './selector.js';

export { burnRateWindows, ERROR_RATIO_WINDOWS } from './burn-rate.js';
export type { AlertSeverity, BurnRateWindow } from './burn-rate.js';

export {
  generateSloRules,
  runbookPage,
  SLO_BURN_ALERT,
  SLO_NO_DATA_ALERT,
  sliErrorRatioExpr,
  sliErrorRecord,
  sloBurnRateAlerts,
  sloRuleGroup,
} from './rules.js';
export type { AlertingRule, RecordingRule, RuleGroup, SloBurnRateAlert, SloRuleOptions } from './rules.js';

export { generateSloRuleTests } from './rule-tests.js';
export type { SloRuleTestOptions } from './rule-tests.js';
