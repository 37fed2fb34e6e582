/**
 * The generated deployment files: deploy/collector/<profile>/config.yaml and
 * deploy/backends/<profile>/ are what the generator writes today, byte for byte, and nothing
 * else lives there; they validate as committed (the Collector configs by their own header,
 * the Prometheus configs with promtool); and the local-stack rendering stays on loopback.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROFILE_NAMES, validateProfile } from '../../src/index.ts';
import { collectorConfigPath, localStackFiles, shippedDeployFiles } from '../../scripts/generate-deploy.ts';
import { otelcolBin, run, tempDir } from '../helpers/binaries.ts';
import { promtool, requirePromtool } from '../helpers/promtool.ts';
import { REPO_ROOT } from '../helpers/repo.ts';

const DEPLOY = join(REPO_ROOT, 'deploy');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('deploy/collector and deploy/backends', () => {
  const expected = shippedDeployFiles();

  it('match a fresh render byte for byte, with nothing else there (regenerate: npm run generate:deploy -w @stellaops/collector-config)', () => {
    const committed = [...filesUnder(join(DEPLOY, 'collector')), ...filesUnder(join(DEPLOY, 'backends'))].map((p) => relative(DEPLOY, p)).sort();
    expect(committed).toEqual([...expected.keys()].sort());
    for (const [path, content] of expected) expect(readFileSync(join(DEPLOY, path), 'utf8'), path).toBe(content);
  });

  it.each(PROFILE_NAMES)('%s: the committed Collector config validates by its own header', (name) => {
    const text = readFileSync(join(DEPLOY, collectorConfigPath(name)), 'utf8');
    expect(validateProfile(text)).toEqual({ ok: true, errors: [], warnings: [] });
    expect(text).toContain(`# stellaops.sealed: ${name === 'airgap'}`);
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it.each(PROFILE_NAMES)('%s: promtool check config passes on the committed prometheus.yml and the rule files it names', (name) => {
      const r = promtool(['check', 'config', `deploy/backends/${name}/prometheus/prometheus.yml`], REPO_ROOT);
      expect(r.output).toContain('SUCCESS: 2 rule files found');
      expect(r.output).toContain('Checking deploy/rules/slo-rules.yaml\n  SUCCESS');
      expect(r.output).toContain('Checking deploy/rules/stella-alerts.yaml\n  SUCCESS');
      expect(r.status, r.output).toBe(0);
    });
  });
});

describe('the local stack (--local)', () => {
  const out = tempDir('stella-stack-');
  const files = localStackFiles(out, DEPLOY);
  for (const [path, content] of files) {
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), content);
  }

  it('has the same files as the shipped set', () => {
    expect([...files.keys()].sort()).toEqual([...shippedDeployFiles().keys()].sort());
  });

  it.each(PROFILE_NAMES)('%s: plaintext receivers on loopback, everything under the directory given', (name) => {
    const text = files.get(collectorConfigPath(name))!;
    expect(validateProfile(text).errors).toEqual([]);
    const config = parse(text) as { receivers: { otlp: { protocols: Record<string, unknown> } } };
    expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: '127.0.0.1:4317' }, http: { endpoint: '127.0.0.1:4318' } });
    for (const [path, content] of files) {
      for (const m of content.matchAll(/(?:path|directory|path_prefix|chunks_directory|rules_directory|working_directory|storage\.tsdb\.path)[:=] ?(\/\S+)/g)) {
        expect(m[1]!.startsWith(out), `${path}: ${m[1]}`).toBe(true);
      }
    }
  });

  describe.skipIf(!requirePromtool())('with promtool', () => {
    it.each(PROFILE_NAMES)('%s: promtool check config passes, reading the rules from this checkout', (name) => {
      const r = promtool(['check', 'config', join(out, 'backends', name, 'prometheus/prometheus.yml')]);
      expect(r.output).toContain('SUCCESS: 2 rule files found');
      expect(r.status, r.output).toBe(0);
    });
  });
});

const bin = otelcolBin();

describe.skipIf(!bin)('with the Collector binary', () => {
  it.each(PROFILE_NAMES)('%s: `validate` accepts the committed config', (name) => {
    const r = run(bin!, ['validate', '--config', join(DEPLOY, collectorConfigPath(name))]);
    expect(r.status, r.output).toBe(0);
  });
});
