import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REDACTION_CLASSES, compileScrubPolicy, scrubText } from '../../src/scrub/index.js';
import { CORPUS_REPO_ROOT, positiveCorpus } from './corpus.js';
import { holdoutPositives } from './corpus-holdout.js';
import { DOC_BEGIN, DOC_END, RULE_CLASS_DOCS, renderRuleClassTable } from './rule-class-docs.js';

const DOC = fileURLToPath(new URL('../../../../docs/redaction-and-privacy.md', import.meta.url));

describe('rule classes in docs/redaction-and-privacy.md', () => {
  it('has one row per redaction class, in the order of REDACTION_CLASSES', () => {
    expect(RULE_CLASS_DOCS.map((r) => r.cls)).toEqual([...REDACTION_CLASSES]);
  });

  it('writes what each row says, on the labelled corpus of its class', () => {
    const policy = compileScrubPolicy({ repoRoot: CORPUS_REPO_ROOT });
    const lines = [...positiveCorpus(), ...holdoutPositives()];
    const wrong = RULE_CLASS_DOCS.filter((row) => !lines.some((p) => p.kind === row.cls && scrubText(p.line, policy).includes(row.writes)));
    expect(wrong.map((r) => `${r.cls}: ${r.writes}`)).toEqual([]);
  });

  it('gives examples that are not whole tokens (cut short)', () => {
    const policy = compileScrubPolicy({ repoRoot: CORPUS_REPO_ROOT });
    // Context and URL classes show their context; the examples of token formats must not be whole tokens.
    const inContext = ['key', 'email', 'path', 'url-credentials', 'bearer', 'basic-auth', 'azure-key', 'azure-sas', 'datadog-key', 'slack-webhook', 'discord-webhook', 'teams-webhook'];
    const tokenClasses = RULE_CLASS_DOCS.filter((r) => !inContext.includes(r.cls));
    for (const row of tokenClasses) expect(scrubText(row.example, policy), row.cls).not.toContain(`[REDACTED:${row.cls}`);
  });

  it('carries the generated table between its markers', () => {
    const doc = readFileSync(DOC, 'utf8');
    const begin = doc.indexOf(DOC_BEGIN);
    const end = doc.indexOf(DOC_END);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const expected = `${DOC_BEGIN}\n\n${renderRuleClassTable()}\n\n${DOC_END}`;
    if (process.env['STELLA_WRITE_DOCS'] === '1') {
      writeFileSync(DOC, doc.slice(0, begin) + expected + doc.slice(end + DOC_END.length));
      return;
    }
    expect(doc.slice(begin, end + DOC_END.length)).toBe(expected);
  });
});
