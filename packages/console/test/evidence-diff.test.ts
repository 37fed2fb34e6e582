/** Two evaluations compared from their bundles' files: findings, VEX, decisions, policy and engine. */
import { describe, expect, it } from 'vitest';
import {
  compareEvaluations,
  diffRows,
  evaluationFiles,
  evaluationSide,
  findingKey,
  parseDecisions,
  parseFindings,
  parseOpenVex,
  parsePolicy,
  vexRows,
  type EvaluationFiles,
} from '../src/evidence/evaluation-diff.js';

const finding = (advisory: string, purl: string, severity = 'HIGH', vex = 'none', fixable = true) => ({
  advisory_id: advisory,
  advisory_digest: `sha256:${advisory}`,
  purl,
  severity,
  fixable,
  fixed_version: fixable ? '2.0.0' : null,
  vex_status: vex,
  vex_justification: null,
});
const decision = (advisory: string, purl: string, effect: string, rule: string) => ({ advisory_id: advisory, purl, rule_id: rule, effect, reason: `${rule} says ${effect}` });

const policy = (version: number, rules: { id: string; effect: string }[]) => ({ id: 'baseline', version, rules: rules.map((r) => ({ ...r, when: { severity: ['HIGH'] }, reason: r.id })) });

const openvex = (statements: { vuln: string; purl: string; status: string; justification?: string }[]) => ({
  '@context': 'https://openvex.dev/ns/v0.2.0',
  statements: statements.map((s) => ({ vulnerability: { name: s.vuln }, products: [{ '@id': s.purl }], status: s.status, ...(s.justification ? { justification: s.justification } : {}) })),
});

describe('diffRows', () => {
  it('keys rows and tells added, removed, changed (naming the fields) and unchanged, sorted by key', () => {
    const key = (r: { k: string }) => r.k;
    const d = diffRows(
      [
        { k: 'b', x: 1, y: 'same' },
        { k: 'a', x: 1, y: 'same' },
        { k: 'c', x: 1, y: 'same' },
      ],
      [
        { k: 'd', x: 1, y: 'same' },
        { k: 'b', x: 2, y: 'other' },
        { k: 'c', x: 1, y: 'same' },
      ],
      key,
      ['x', 'y'],
    );
    expect(d.added.map(key)).toEqual(['d']);
    expect(d.removed.map(key)).toEqual(['a']);
    expect(d.changed).toEqual([{ key: 'b', before: { k: 'b', x: 1, y: 'same' }, after: { k: 'b', x: 2, y: 'other' }, fields: ['x', 'y'] }]);
    expect(d.unchanged).toBe(1);
  });

  it('compares only the named fields', () => {
    const d = diffRows([{ k: 'a', x: 1, ignored: 1 }], [{ k: 'a', x: 1, ignored: 2 }], (r) => r.k, ['x']);
    expect(d.changed).toEqual([]);
    expect(d.unchanged).toBe(1);
  });
});

describe('parsing the files of an evaluation bundle', () => {
  it('reads findings and decisions as the policy engine writes them, and says what it cannot read', () => {
    const problems: string[] = [];
    const rows = parseFindings([finding('A-1', 'pkg:npm/x@1'), { purl: 'pkg:npm/y@1' }, finding('A-1', 'pkg:npm/x@1', 'LOW')], problems);
    expect(rows).toEqual([
      { advisory_id: 'A-1', purl: 'pkg:npm/x@1', severity: 'HIGH', vex_status: 'none', fixable: 'true', fixed_version: '2.0.0' },
      { advisory_id: 'A-1', purl: 'pkg:npm/x@1', severity: 'LOW', vex_status: 'none', fixable: 'true', fixed_version: '2.0.0' },
    ]);
    expect(problems).toEqual(['findings: 1 entry lacks an advisory_id or purl', 'findings: 1 repeated advisory and package pair (the first is compared)']);
    expect(parseDecisions({ decisions: [decision('A-1', 'pkg:npm/x@1', 'deny', 'R-1')] })).toEqual([{ advisory_id: 'A-1', purl: 'pkg:npm/x@1', rule_id: 'R-1', effect: 'deny', reason: 'R-1 says deny' }]);
    const p: string[] = [];
    expect(parseDecisions('nope', p)).toEqual([]);
    expect(p).toEqual(['decisions: not a list']);
  });

  it('reads OpenVEX statements per vulnerability and product', () => {
    const doc = { statements: [{ vulnerability: { name: 'A-1' }, products: [{ '@id': 'pkg:npm/x@1' }, { '@id': 'pkg:npm/x@2' }], status: 'not_affected', justification: 'vulnerable_code_not_present' }] };
    expect(parseOpenVex(doc, 'vex/app.openvex.json')).toEqual([
      { advisory_id: 'A-1', purl: 'pkg:npm/x@1', status: 'not_affected', justification: 'vulnerable_code_not_present', source: 'vex/app.openvex.json' },
      { advisory_id: 'A-1', purl: 'pkg:npm/x@2', status: 'not_affected', justification: 'vulnerable_code_not_present', source: 'vex/app.openvex.json' },
    ]);
    const problems: string[] = [];
    expect(parseOpenVex({}, 'vex/bad.json', problems)).toEqual([]);
    expect(problems).toEqual(['vex/bad.json: not an OpenVEX document (no statements)']);
  });

  it("takes a finding's reconciled VEX status first, then the documents' statements no finding covers", () => {
    const findings = parseFindings([finding('A-1', 'p1', 'HIGH', 'not_affected'), finding('A-2', 'p2', 'HIGH', 'none')]);
    const docs = parseOpenVex(openvex([{ vuln: 'A-1', purl: 'p1', status: 'affected', justification: 'j' }, { vuln: 'A-3', purl: 'p3', status: 'fixed' }]), 'vex/d.json');
    expect(vexRows(findings, docs)).toEqual([
      { advisory_id: 'A-1', purl: 'p1', status: 'not_affected', justification: 'j', source: 'findings' },
      { advisory_id: 'A-3', purl: 'p3', status: 'fixed', justification: '', source: 'vex/d.json' },
    ]);
  });

  it('finds the files of an evaluation bundle in its manifest', () => {
    const files = ['engine/engine.json', 'inputs.json', 'inputs/findings.json', 'outputs/decisions.json', 'policies/baseline.policy.json', 'vex/app.openvex.json', 'sbom/app.cdx.json', 'timeline/events.json'].map((path, i) => ({
      path,
      sha256: String(i).repeat(64),
      size: 1,
    }));
    expect(evaluationFiles(files)).toEqual({
      findings: 'inputs/findings.json',
      decisions: 'outputs/decisions.json',
      vex: ['vex/app.openvex.json'],
      policy: { path: 'policies/baseline.policy.json', sha256: '4'.repeat(64) },
      engine: 'engine/engine.json',
    });
    expect(evaluationFiles([{ path: 'job/payload.json', sha256: 'a'.repeat(64) }])).toEqual({ findings: undefined, decisions: undefined, vex: [], engine: undefined });
  });

  it("reads a policy set's version and rules", () => {
    expect(parsePolicy(policy(7, [{ id: 'R-1', effect: 'deny' }]))).toEqual({ version: 'baseline@7', rules: [{ id: 'R-1', effect: 'deny', when: '{"severity":["HIGH"]}', reason: 'R-1' }] });
    expect(parsePolicy(null)).toEqual({ rules: [] });
  });
});

describe('compareEvaluations', () => {
  const files: EvaluationFiles = {
    findings: 'inputs/findings.json',
    decisions: 'outputs/decisions.json',
    vex: ['vex/app.openvex.json'],
    policy: { path: 'policies/baseline.policy.json', sha256: 'a'.repeat(64) },
    engine: 'engine/engine.json',
  };
  const side = (contents: Record<string, unknown>, policySha = 'a'.repeat(64)) => evaluationSide({ ...files, policy: { path: files.policy!.path, sha256: policySha } }, new Map(Object.entries(contents)));

  const a = side({
    'inputs/findings.json': [finding('A-1', 'pkg:npm/x@1', 'HIGH'), finding('A-2', 'pkg:npm/y@1', 'LOW', 'not_affected'), finding('A-3', 'pkg:npm/z@1', 'CRITICAL')],
    'outputs/decisions.json': [decision('A-1', 'pkg:npm/x@1', 'deny', 'R-HIGH'), decision('A-2', 'pkg:npm/y@1', 'allow', 'R-VEX'), decision('A-3', 'pkg:npm/z@1', 'deny', 'R-CRIT')],
    'vex/app.openvex.json': openvex([{ vuln: 'A-2', purl: 'pkg:npm/y@1', status: 'not_affected', justification: 'inline_mitigations_already_exist' }]),
    'policies/baseline.policy.json': policy(7, [
      { id: 'R-VEX', effect: 'allow' },
      { id: 'R-CRIT', effect: 'deny' },
      { id: 'R-HIGH', effect: 'deny' },
    ]),
    'engine/engine.json': { engine: 'stellaops-policy-engine', version: '1.0.0', policy_version: 'baseline@7' },
  });
  const b = side(
    {
      'inputs/findings.json': [finding('A-1', 'pkg:npm/x@1', 'CRITICAL'), finding('A-2', 'pkg:npm/y@1', 'LOW', 'affected'), finding('A-4', 'pkg:npm/w@1', 'MEDIUM', 'fixed')],
      'outputs/decisions.json': [decision('A-1', 'pkg:npm/x@1', 'deny', 'R-CRIT'), decision('A-2', 'pkg:npm/y@1', 'warn', 'R-DEFAULT'), decision('A-4', 'pkg:npm/w@1', 'allow', 'R-VEX')],
      'vex/app.openvex.json': openvex([{ vuln: 'A-4', purl: 'pkg:npm/w@1', status: 'fixed' }]),
      'policies/baseline.policy.json': policy(8, [
        { id: 'R-VEX', effect: 'allow' },
        { id: 'R-CRIT', effect: 'warn' },
        { id: 'R-DEFAULT', effect: 'warn' },
      ]),
      'engine/engine.json': { engine: 'stellaops-policy-engine', version: '1.1.0', policy_version: 'baseline@8' },
    },
    'b'.repeat(64),
  );
  const c = compareEvaluations(a, b);

  it('tells findings added, removed and changed by advisory and package', () => {
    expect(a.problems).toEqual([]);
    expect(c.findings.added.map(findingKey)).toEqual(['A-4 pkg:npm/w@1']);
    expect(c.findings.removed.map(findingKey)).toEqual(['A-3 pkg:npm/z@1']);
    expect(c.findings.changed.map((x) => [x.key, x.fields])).toEqual([
      ['A-1 pkg:npm/x@1', ['severity']],
      ['A-2 pkg:npm/y@1', ['vex_status']],
    ]);
    expect(c.findings.unchanged).toBe(0);
  });

  it('tells VEX statuses added, removed and changed', () => {
    expect(c.vex.added).toEqual([{ advisory_id: 'A-4', purl: 'pkg:npm/w@1', status: 'fixed', justification: '', source: 'findings' }]);
    expect(c.vex.changed.map((x) => [x.key, x.fields, x.before.status, x.after.status])).toEqual([['A-2 pkg:npm/y@1', ['status', 'justification'], 'not_affected', 'affected']]);
    expect(c.vex.removed).toEqual([]);
  });

  it('tells decisions added, removed and changed (effect, rule)', () => {
    expect(c.decisions.added.map((d) => [findingKey(d), d.effect])).toEqual([['A-4 pkg:npm/w@1', 'allow']]);
    expect(c.decisions.removed.map((d) => [findingKey(d), d.effect])).toEqual([['A-3 pkg:npm/z@1', 'deny']]);
    expect(c.decisions.changed.map((x) => [x.key, x.fields])).toEqual([
      ['A-1 pkg:npm/x@1', ['rule_id', 'reason']],
      ['A-2 pkg:npm/y@1', ['effect', 'rule_id', 'reason']],
    ]);
  });

  it('tells the policy version, digest and rules, and the engine, apart', () => {
    expect(c.policy).toEqual([
      { name: 'version', a: 'baseline@7', b: 'baseline@8', same: false },
      { name: 'digest', a: `sha256:${'a'.repeat(64)}`, b: `sha256:${'b'.repeat(64)}`, same: false },
      { name: 'file', a: 'policies/baseline.policy.json', b: 'policies/baseline.policy.json', same: true },
    ]);
    expect(c.rules.added.map((r) => r.id)).toEqual(['R-DEFAULT']);
    expect(c.rules.removed.map((r) => r.id)).toEqual(['R-HIGH']);
    expect(c.rules.changed.map((x) => [x.key, x.fields])).toEqual([['R-CRIT', ['effect']]]);
    expect(c.engine.filter((e) => !e.same).map((e) => e.name)).toEqual(['version', 'policy_version']);
  });

  it('compares an evaluation with itself as all unchanged', () => {
    const same = compareEvaluations(a, a);
    for (const d of [same.findings, same.vex, same.decisions, same.rules]) expect([d.added, d.removed, d.changed]).toEqual([[], [], []]);
    expect(same.findings.unchanged).toBe(3);
    expect(same.policy.every((p) => p.same) && same.engine.every((e) => e.same)).toBe(true);
  });

  it('says which files a bundle lacks instead of failing', () => {
    const s = evaluationSide({ vex: [] }, new Map());
    expect(s.problems).toEqual(['the bundle has no findings file', 'the bundle has no decisions file', 'the bundle has no policy file', 'the bundle has no engine file']);
    expect(compareEvaluations(s, a).findings.added).toHaveLength(3);
  });
});
