/**
 * docs/install-telemetry-stack.md, its Collector and backend sections: the commands exist and
 * run as written (rendering a local stack into a temporary STACK and checking it with promtool,
 * the promtool checks of the shipped files), the links resolve, and what the page states —
 * pinned version, error codes, sampling, retention, the sealed-mode message — is what the code
 * does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PINNED_DISTRIBUTION, PROFILE_ERROR_CODES, PROFILE_ISSUE_CODES, PROFILE_SIGNATURE_CODES, ProfileError, RETENTION_DAYS, renderProfile, SAMPLING_DEFAULTS } from '../../src/index.ts';
import { tempDir } from '../helpers/binaries.ts';
import { requirePromtool } from '../helpers/promtool.ts';
import { REPO_ROOT } from '../helpers/repo.ts';
import { slug } from './markdown-anchor.js';

const PAGE = 'docs/install-telemetry-stack.md';
const text = readFileSync(join(REPO_ROOT, PAGE), 'utf8');
const collectorPart = text.slice(text.indexOf('\n## Collector profiles\n'));

const shellBlocks = (t: string): string[] => [...t.matchAll(/^ *```sh\n([\s\S]*?)^ *```/gm)].map((m) => m[1]!.replace(/^ {3}/gm, ''));
const commands = (block: string): string[] =>
  block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

const thousands = (n: number): string => n.toLocaleString('en-US').replace(/,/g, ' ');

describe(PAGE, () => {
  it('starts with the banner and has a Collector section', () => {
    expect(text.split('\n')[2]).toBe('> Imposed rule: work of this type or tasks of this type on this component must also be applied everywhere else it should be applied.');
    expect(collectorPart.length).toBeGreaterThan(1000);
    expect(text).not.toMatch(/collector profiles? (are|is) (out of scope|not part)/i);
  });

  it('has shell blocks that parse', () => {
    for (const block of shellBlocks(text)) {
      const r = spawnSync('bash', ['-n'], { input: block, encoding: 'utf8' });
      expect(r.status, `${block}\n${r.stderr}`).toBe(0);
    }
  });

  it('uses only commands that exist: the npm scripts, the backends\' binaries, curl and the shell', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages/collector-config/package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const tools = new Set(['npm', 'npx', 'promtool', 'prometheus', 'tempo', 'loki', '"$OTELCOL_BIN"', 'curl', 'until', 'sleep', 'kill', 'stella']);
    // The stella commands are run as written by the CLI's docs test, from the CLI page's blocks.
    const cliPage = shellBlocks(readFileSync(join(REPO_ROOT, 'docs/cli-observability.md'), 'utf8')).flatMap(commands);
    for (const cmd of shellBlocks(collectorPart).flatMap(commands)) {
      if (/^[A-Z_]+=\S/.test(cmd) && !cmd.includes(' npx ')) continue; // a variable for the next commands
      const tool = cmd.replace(/^[A-Z_]+=\S+ /, '').split(/\s+/)[0]!;
      expect(tools.has(tool), cmd).toBe(true);
      if (tool === 'stella' && !cmd.startsWith('stella offline-kit ') && !cmd.startsWith('stella forensic keygen --out kit-keys')) expect(cliPage, cmd).toContain(cmd);
      if (tool === 'npm') {
        const m = /^npm run (\S+) -w @stellaops\/collector-config(?: -- .*)?$/.exec(cmd);
        expect(m, cmd).not.toBeNull();
        expect(scripts[m![1]!], cmd).toBeDefined();
      }
      if (tool === 'npx' || cmd.includes(' npx ')) {
        const m = /npx vitest run (\S+)$/.exec(cmd);
        expect(m, cmd).not.toBeNull();
        expect(existsSync(join(REPO_ROOT, m![1]!)), cmd).toBe(true);
      }
    }
  });

  it('links to files and headings that exist', () => {
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      const [file, anchor] = target!.split('#');
      const path = file ? join(dirname(join(REPO_ROOT, PAGE)), file) : join(REPO_ROOT, PAGE);
      expect(existsSync(path), target).toBe(true);
      if (anchor) {
        const headings = readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => /^#{1,6} /.test(l))
          .map((l) => slug(l.replace(/^#+\s*/, '')));
        expect(headings, target).toContain(anchor);
      }
    }
  });

  it('names the pinned distribution and every error code, and no code that does not exist', () => {
    expect(collectorPart).toContain(`${PINNED_DISTRIBUTION.name} ${PINNED_DISTRIBUTION.version}`);
    expect(existsSync(join(REPO_ROOT, `packages/collector-config/src/profiles/${PINNED_DISTRIBUTION.name}-${PINNED_DISTRIBUTION.version}.ts`))).toBe(true);
    const documented = new Set([...collectorPart.matchAll(/`((?:collector|backend|profile)\.[a-z_]+)`/g)].map((m) => m[1]!));
    // The signature codes of a profile bundle, and the service's answer to an unknown profile.
    expect([...documented].sort()).toEqual([...PROFILE_ISSUE_CODES, ...PROFILE_ERROR_CODES, ...PROFILE_SIGNATURE_CODES, 'profile.not_found'].sort());
  });

  it('states the sampling and retention the profiles have', () => {
    const d = SAMPLING_DEFAULTS.default;
    const f = SAMPLING_DEFAULTS.forensic;
    const a = SAMPLING_DEFAULTS.airgap;
    expect(collectorPart).toContain(`| \`errors\` | traces with a span whose status is ERROR | all, up to ${d.errorsSpansPerSecond} spans/s | all | all |`);
    expect(a.errorsSpansPerSecond).toBeUndefined();
    expect(collectorPart).toContain(`| \`slow\` | traces at least this long | ${d.latencyThresholdMs} ms | ${f.latencyThresholdMs} ms | ${a.latencyThresholdMs} ms |`);
    expect(collectorPart).toContain(`| \`baseline\` | a share of every other trace | ${d.baselinePercent}% | ${f.baselinePercent}% | ${a.baselinePercent}% |`);
    expect(collectorPart).toContain(
      `| decision wait / traces held | | ${d.decisionWait.replace('s', ' s')} / ${thousands(d.numTraces)} | ${f.decisionWait.replace('s', ' s')} / ${thousands(f.numTraces)} | ${a.decisionWait.replace('s', ' s')} / ${thousands(a.numTraces)} |`,
    );
    expect(d.services).toEqual({ 'export-center': 25, 'policy-engine': 25 });
    expect(f.services).toEqual({ 'export-center': 100, 'policy-engine': 100 });
    const r = RETENTION_DAYS;
    expect(collectorPart).toContain(`\`--storage.tsdb.retention.time\`: ${r.default.prometheus} d, forensic ${r.forensic.prometheus} d`);
    expect(collectorPart).toContain(`\`compactor.compaction.block_retention\`: ${r.default.tempo * 24} h, forensic ${r.forensic.tempo * 24} h`);
    expect(collectorPart).toContain(`warm ${r.default.loki} d (forensic ${r.forensic.loki} d), hot ${r.default.lokiHot} d, cold ${r.default.lokiCold} d`);
  });

  it('builds and verifies the Offline Kit as written, from the repository root', { timeout: 120_000 }, async () => {
    const block = shellBlocks(collectorPart).find((b) => b.includes('stella offline-kit build'))!;
    const cwd = tempDir('stella-kit-doc-');
    symlinkSync(join(REPO_ROOT, 'deploy'), join(cwd, 'deploy'));
    const { createProgram } = await import('../../../cli/src/index.ts');
    for (const cmd of commands(block)) {
      let out = '';
      let err = '';
      const { run } = createProgram({ stdout: (t) => (out += t), stderr: (t) => (err += t), env: {}, cwd });
      const code = await run(cmd.split(/\s+/).slice(1));
      expect(code, `${cmd}\n${out}${err}`).toBe(0);
    }
    expect(existsSync(join(cwd, 'stellaops-offline-kit.tar.gz'))).toBe(true);
  });

  it('quotes the sealed-mode refusal exactly', () => {
    const quoted = /```text\n([\s\S]*?)\n```/.exec(collectorPart)![1]!;
    let message = '';
    try {
      renderProfile('default', { sealed: true, tempo: { endpoint: 'tempo.obs.corp:4317' } });
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileError);
      message = (err as Error).message;
    }
    expect(quoted).toBe(message);
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it('step 1 runs as written: renders a local stack into STACK and promtool accepts it', () => {
      const block = shellBlocks(collectorPart).find((b) => b.includes('--local'))!;
      const stack = join(tempDir('stella-stack-doc-'), 'stack');
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, STACK: stack }, timeout: 300_000 });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`is valid prometheus config file syntax`);
      expect(readdirSync(join(stack, 'collector')).sort()).toEqual(['airgap', 'default', 'forensic']);
    });

    it('the promtool checks of the shipped files run as written from the repository root', () => {
      const checks = shellBlocks(collectorPart)
        .flatMap(commands)
        .filter((c) => c.startsWith('promtool check config deploy/'));
      expect(checks).toHaveLength(3);
      for (const cmd of checks) {
        const r = spawnSync('bash', ['-c', cmd], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
        expect(r.status, `${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
      }
    });
  });
});
