/**
 * The commands in docs/metrics-and-slos.md and the alert runbooks run as written: shell blocks
 * parse, PromQL queries are valid, `stella` and `npm run` commands exist, links resolve, and
 * the page's promtool commands pass from the repository root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { promtool, requirePromtool, tempFiles } from '../helpers/promtool.ts';
import { REPO_ROOT } from '../helpers/repo.ts';
import { slug } from './markdown-anchor.js';

const RUNBOOKS = 'docs/runbooks';
const PAGES = [
  'docs/metrics-and-slos.md',
  ...readdirSync(join(REPO_ROOT, RUNBOOKS))
    .filter((f) => f.endsWith('.md') && f !== 'incidents.md')
    .sort()
    .map((f) => `${RUNBOOKS}/${f}`),
];

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

function shellBlocks(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Commands of a shell block, one per line (no continuation lines are used in these pages). */
function commands(block: string): string[] {
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

describe.each(PAGES)('%s', (page) => {
  const text = read(page);
  const all = shellBlocks(text).flatMap(commands);

  it('has shell blocks that parse', () => {
    for (const block of shellBlocks(text)) {
      const r = spawnSync('bash', ['-n'], { input: block, encoding: 'utf8' });
      expect(r.status, `${block}\n${r.stderr}`).toBe(0);
    }
  });

  it('uses only commands that exist: promtool, curl, stella subcommands, npm scripts', () => {
    const cli = readdirSync(join(REPO_ROOT, 'packages/cli/src/commands'))
      .map((f) => read(`packages/cli/src/commands/${f}`))
      .join('\n');
    const scripts = (JSON.parse(read('packages/collector-config/package.json')) as { scripts: Record<string, string> }).scripts;
    for (const cmd of all) {
      const [tool] = cmd.split(/\s+/);
      expect(['promtool', 'curl', 'stella', 'npm'], cmd).toContain(tool);
      if (tool === 'stella') {
        // The subcommand words: those before the first option (later words are option values).
        const rest = cmd.split(/\s+/).slice(1);
        const firstFlag = rest.findIndex((w) => w.startsWith('-'));
        const words = firstFlag === -1 ? rest : rest.slice(0, firstFlag);
        for (const w of words.slice(0, 3)) expect(cli, `${cmd}: ${w}`).toContain(`'${w}'`);
      }
      if (tool === 'npm') {
        const m = /^npm run (\S+) -w @stellaops\/collector-config$/.exec(cmd);
        expect(m, cmd).not.toBeNull();
        expect(scripts[m![1]!], cmd).toBeDefined();
      }
    }
  });

  it('links to files and headings that exist', () => {
    for (const [, target] of text.matchAll(/\]\(([^)]+)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      const [file, anchor] = target!.split('#');
      // `(#heading)` points into the page itself.
      const path = file ? join(dirname(join(REPO_ROOT, page)), file) : join(REPO_ROOT, page);
      expect(existsSync(path), `${page} → ${target}`).toBe(true);
      if (anchor) {
        const headings = readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('#'))
          .map((l) => slug(l.replace(/^#+\s*/, '')));
        expect(headings, `${page} → ${target}`).toContain(anchor);
      }
    }
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it('queries only valid PromQL', () => {
      const queries = all
        .map((c) => /^promtool query instant "\$\{PROMETHEUS_URL:-http:\/\/localhost:9090\}" '([^']+)'$/.exec(c))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => m[1]!);
      const promtoolQueries = all.filter((c) => c.startsWith('promtool query'));
      expect(queries.length, 'every promtool query has the documented form').toBe(promtoolQueries.length);
      if (queries.length === 0) return;
      const rules = stringify({ groups: [{ name: 'doc-queries', rules: queries.map((expr, i) => ({ record: `doc_query_${i}`, expr })) }] });
      const r = promtool(['check', 'rules', 'queries.yaml'], tempFiles({ 'queries.yaml': rules }));
      expect(r.output).toContain('SUCCESS');
      expect(r.status).toBe(0);
    });

    it('runs its promtool check and test commands as written, from the repository root', () => {
      for (const cmd of all.filter((c) => /^promtool (check|test) rules /.test(c))) {
        const r = spawnSync('bash', ['-c', cmd], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
        expect(r.status, `${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
        expect(r.stdout).not.toContain('FAILED');
      }
    });
  });
});
