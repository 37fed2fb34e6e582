/**
 * Two policy evaluations compared, from the files of their evidence bundles: which findings,
 * VEX statuses and decisions were added, removed or changed — keyed by advisory id and package
 * URL; changed means the same key with another severity, VEX status, effect or rule — and how
 * the policy (version, digest, rules) and the engine differ. Pure: the page reads the files,
 * this module only parses and compares.
 *
 * What an evaluation bundle holds (EVI-2, as the policy engine attaches it): `inputs/findings.json`
 * (the findings evaluated, each with its reconciled VEX status), `outputs/decisions.json` (one
 * decision per finding: rule, effect, reason), `policies/<set>.json`, `engine/engine.json`, and
 * the source material — `vex/<source>.openvex.json`, `sbom/…`, `advisories/…`.
 */

/** A finding evaluated: an advisory matched to a package. */
export interface FindingRow {
  advisory_id: string;
  purl: string;
  severity: string;
  vex_status: string;
  fixable: string;
  fixed_version: string;
}

/** The policy's decision on one finding. */
export interface DecisionRow {
  advisory_id: string;
  purl: string;
  rule_id: string;
  effect: string;
  reason: string;
}

/** A VEX status of one advisory for one package, from the findings (reconciled) or a VEX document. */
export interface VexRow {
  advisory_id: string;
  purl: string;
  status: string;
  justification: string;
  /** Where it was read: `findings` or the VEX document's path. */
  source: string;
}

export interface RuleRow {
  id: string;
  effect: string;
  when: string;
  reason: string;
}

export interface Change<T> {
  key: string;
  before: T;
  after: T;
  /** The compared fields that differ. */
  fields: (keyof T & string)[];
}

export interface RowDiff<T> {
  added: T[];
  removed: T[];
  changed: Change<T>[];
  unchanged: number;
}

/** One named value on each side (policy version, engine version, …). */
export interface ValueDiff {
  name: string;
  a: string | undefined;
  b: string | undefined;
  same: boolean;
}

/** What one evaluation bundle says, parsed. */
export interface EvaluationSide {
  findings: FindingRow[];
  decisions: DecisionRow[];
  vex: VexRow[];
  rules: RuleRow[];
  /** version (`<id>@<version>`), digest (`sha256:…` of the policy file), file. */
  policy: Record<string, string>;
  /** engine.json's fields. */
  engine: Record<string, string>;
  /** What could not be read, in words. */
  problems: string[];
}

export interface EvaluationComparison {
  findings: RowDiff<FindingRow>;
  vex: RowDiff<VexRow>;
  decisions: RowDiff<DecisionRow>;
  rules: RowDiff<RuleRow>;
  policy: ValueDiff[];
  engine: ValueDiff[];
}

export const FINDING_FIELDS: (keyof FindingRow & string)[] = ['severity', 'vex_status', 'fixable', 'fixed_version'];
export const DECISION_FIELDS: (keyof DecisionRow & string)[] = ['effect', 'rule_id', 'reason'];
export const VEX_FIELDS: (keyof VexRow & string)[] = ['status', 'justification'];
export const RULE_FIELDS: (keyof RuleRow & string)[] = ['effect', 'when', 'reason'];

/** The key of a finding, VEX status or decision: advisory id and package URL. */
export function findingKey(row: { advisory_id: string; purl: string }): string {
  return `${row.advisory_id} ${row.purl}`;
}

function byKey<T>(rows: readonly T[], key: (row: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const row of rows) if (!map.has(key(row))) map.set(key(row), row);
  return map;
}

/** Rows of `b` against rows of `a`: added (only in b), removed (only in a), changed (same key, a compared field differs); each sorted by key. */
export function diffRows<T extends object>(a: readonly T[], b: readonly T[], key: (row: T) => string, fields: readonly (keyof T & string)[]): RowDiff<T> {
  const before = byKey(a, key);
  const after = byKey(b, key);
  const sorted = <R>(rows: R[], k: (r: R) => string): R[] => rows.sort((x, y) => (k(x) < k(y) ? -1 : k(x) > k(y) ? 1 : 0));
  const added = sorted([...after.values()].filter((r) => !before.has(key(r))), key);
  const removed = sorted([...before.values()].filter((r) => !after.has(key(r))), key);
  const changed: Change<T>[] = [];
  let unchanged = 0;
  for (const [k, was] of before) {
    const now = after.get(k);
    if (now === undefined) continue;
    const differ = fields.filter((f) => String(was[f]) !== String(now[f]));
    if (differ.length > 0) changed.push({ key: k, before: was, after: now, fields: differ });
    else unchanged++;
  }
  return { added, removed, changed: sorted(changed, (c) => c.key), unchanged };
}

const text = (value: unknown): string => (value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value));

function rowsOf(value: unknown, what: string, problems: string[]): Record<string, unknown>[] {
  const list = Array.isArray(value) ? value : value && typeof value === 'object' && Array.isArray((value as Record<string, unknown>)[what]) ? ((value as Record<string, unknown>)[what] as unknown[]) : undefined;
  if (!list) {
    problems.push(`${what}: not a list`);
    return [];
  }
  const rows = list.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object' && typeof (r as Record<string, unknown>)['advisory_id'] === 'string' && typeof (r as Record<string, unknown>)['purl'] === 'string');
  if (rows.length < list.length) problems.push(`${what}: ${list.length - rows.length} entr${list.length - rows.length === 1 ? 'y lacks' : 'ies lack'} an advisory_id or purl`);
  const keys = new Set<string>();
  let duplicates = 0;
  for (const r of rows) {
    const k = findingKey(r as { advisory_id: string; purl: string });
    if (keys.has(k)) duplicates++;
    keys.add(k);
  }
  if (duplicates > 0) problems.push(`${what}: ${duplicates} repeated advisory and package pair${duplicates === 1 ? '' : 's'} (the first is compared)`);
  return rows;
}

/** `inputs/findings.json`: a list (or `{findings: […]}`) of findings. */
export function parseFindings(value: unknown, problems: string[] = []): FindingRow[] {
  return rowsOf(value, 'findings', problems).map((r) => ({
    advisory_id: r['advisory_id'] as string,
    purl: r['purl'] as string,
    severity: text(r['severity']),
    vex_status: text(r['vex_status']),
    fixable: text(r['fixable']),
    fixed_version: text(r['fixed_version']),
  }));
}

/** `outputs/decisions.json`: a list (or `{decisions: […]}`) of decisions. */
export function parseDecisions(value: unknown, problems: string[] = []): DecisionRow[] {
  return rowsOf(value, 'decisions', problems).map((r) => ({
    advisory_id: r['advisory_id'] as string,
    purl: r['purl'] as string,
    rule_id: text(r['rule_id'] ?? (Array.isArray(r['rule_ids']) ? (r['rule_ids'] as unknown[]).join(', ') : undefined)),
    effect: text(r['effect']),
    reason: text(r['reason']),
  }));
}

/** An OpenVEX document's statements: one row per vulnerability and product. */
export function parseOpenVex(value: unknown, source: string, problems: string[] = []): VexRow[] {
  const statements = (value as { statements?: unknown } | null)?.statements;
  if (!Array.isArray(statements)) {
    problems.push(`${source}: not an OpenVEX document (no statements)`);
    return [];
  }
  const rows: VexRow[] = [];
  for (const s of statements as Record<string, unknown>[]) {
    const vuln = s?.['vulnerability'];
    const advisory = typeof vuln === 'string' ? vuln : text((vuln as { name?: unknown } | undefined)?.name);
    const products = Array.isArray(s?.['products']) ? (s['products'] as unknown[]) : [];
    for (const p of products) {
      const purl = typeof p === 'string' ? p : text((p as { '@id'?: unknown } | null)?.['@id']);
      if (advisory && purl) rows.push({ advisory_id: advisory, purl, status: text(s['status']), justification: text(s['justification']), source });
    }
  }
  return rows;
}

/**
 * The VEX statuses an evaluation ran with: each finding's reconciled status (what the policy
 * saw), then the VEX documents' statements about pairs no finding covers. A finding without a
 * statement (`none`) has no VEX row.
 */
export function vexRows(findings: readonly FindingRow[], documents: readonly VexRow[]): VexRow[] {
  const rows = new Map<string, VexRow>();
  const byDocument = byKey(documents, findingKey);
  for (const f of findings) {
    if (!f.vex_status || f.vex_status === 'none') continue;
    const doc = byDocument.get(findingKey(f));
    rows.set(findingKey(f), { advisory_id: f.advisory_id, purl: f.purl, status: f.vex_status, justification: doc?.justification ?? '', source: 'findings' });
  }
  for (const d of documents) if (!rows.has(findingKey(d))) rows.set(findingKey(d), d);
  return [...rows.values()];
}

/** A policy set document (`{id, version, rules: [{id, when, effect, reason}]}`): its version and rules. */
export function parsePolicy(value: unknown): { version?: string; rules: RuleRow[] } {
  const p = value as { id?: unknown; version?: unknown; rules?: unknown } | null;
  const version = p && typeof p === 'object' && p.id !== undefined && p.version !== undefined ? `${text(p.id)}@${text(p.version)}` : undefined;
  const rules = Array.isArray(p?.rules)
    ? (p.rules as Record<string, unknown>[])
        .filter((r) => r && typeof r['id'] === 'string')
        .map((r) => ({ id: r['id'] as string, effect: text(r['effect']), when: text(r['when']), reason: text(r['reason']) }))
    : [];
  return { ...(version ? { version } : {}), rules };
}

/** An object's top-level fields as text (engine.json). */
export function flatFields(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, text(v)]));
}

function valueDiffs(a: Record<string, string>, b: Record<string, string>, order: readonly string[] = []): ValueDiff[] {
  const names = [...new Set([...order, ...Object.keys(a), ...Object.keys(b)])].filter((n) => a[n] !== undefined || b[n] !== undefined);
  return names.map((name) => ({ name, a: a[name], b: b[name], same: a[name] === b[name] }));
}

export function compareEvaluations(a: EvaluationSide, b: EvaluationSide): EvaluationComparison {
  return {
    findings: diffRows(a.findings, b.findings, findingKey, FINDING_FIELDS),
    vex: diffRows(a.vex, b.vex, findingKey, VEX_FIELDS),
    decisions: diffRows(a.decisions, b.decisions, findingKey, DECISION_FIELDS),
    rules: diffRows(a.rules, b.rules, (r) => r.id, RULE_FIELDS),
    policy: valueDiffs(a.policy, b.policy, ['version', 'digest']),
    engine: valueDiffs(a.engine, b.engine, ['engine', 'version', 'policy_version']),
  };
}

/** Which files of a bundle's manifest hold what (paths relative to the bundle's `files/`). */
export interface EvaluationFiles {
  findings?: string;
  decisions?: string;
  vex: string[];
  policy?: { path: string; sha256: string };
  engine?: string;
}

export function evaluationFiles(files: readonly { path: string; sha256: string }[]): EvaluationFiles {
  const find = (pattern: RegExp) => files.find((f) => pattern.test(f.path));
  const policy = find(/^policies\/[^/]+\.json$/);
  return {
    findings: find(/^inputs\/findings\.json$/)?.path ?? find(/^inputs\/[^/]*findings[^/]*\.json$/)?.path,
    decisions: find(/^outputs\/decisions\.json$/)?.path ?? find(/^outputs\/[^/]*decisions[^/]*\.json$/)?.path,
    vex: files.filter((f) => /^vex\/.+\.json$/.test(f.path)).map((f) => f.path),
    ...(policy ? { policy: { path: policy.path, sha256: policy.sha256 } } : {}),
    engine: find(/^engine\/[^/]+\.json$/)?.path,
  };
}

/** The side of a bundle from the contents of its files (parsed JSON by path; a missing file is a problem, not an error). */
export function evaluationSide(files: EvaluationFiles, contents: ReadonlyMap<string, unknown>): EvaluationSide {
  const problems: string[] = [];
  const read = (path: string | undefined, what: string): unknown => {
    if (!path) {
      problems.push(`the bundle has no ${what} file`);
      return undefined;
    }
    if (!contents.has(path)) {
      problems.push(`${path} could not be read`);
      return undefined;
    }
    return contents.get(path);
  };
  const findingsValue = read(files.findings, 'findings');
  const decisionsValue = read(files.decisions, 'decisions');
  const findings = findingsValue === undefined ? [] : parseFindings(findingsValue, problems);
  const decisions = decisionsValue === undefined ? [] : parseDecisions(decisionsValue, problems);
  const documents = files.vex.flatMap((path) => (contents.has(path) ? parseOpenVex(contents.get(path), path, problems) : (problems.push(`${path} could not be read`), [])));
  const policyValue = files.policy ? read(files.policy.path, 'policy') : read(undefined, 'policy');
  const policy = policyValue === undefined ? { rules: [] } : parsePolicy(policyValue);
  const engine = flatFields(read(files.engine, 'engine'));
  return {
    findings,
    decisions,
    vex: vexRows(findings, documents),
    rules: policy.rules,
    policy: {
      ...(policy.version ? { version: policy.version } : engine['policy_version'] ? { version: engine['policy_version'] } : {}),
      ...(files.policy ? { digest: `sha256:${files.policy.sha256}`, file: files.policy.path } : {}),
    },
    engine,
    problems,
  };
}
