/** The fixtures are real formats, regenerate byte for byte, and the advisories really match (or really do not). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, generateFixtures, loadCatalog, parseSemVer, readCycloneDx, validateOpenVex, validateOsv, versionInRange, WorkloadError } from '../src/index.js';

const read = (path: string): unknown => JSON.parse(readFileSync(join(FIXTURES_DIR, path), 'utf8'));

describe('workload fixtures', () => {
  const { files } = generateFixtures(loadCatalog());

  it('are what the committed generator produces, byte for byte', () => {
    for (const [path, content] of files) expect(readFileSync(join(FIXTURES_DIR, path), 'utf8'), path).toBe(content);
  });

  it('hold CycloneDX 1.5 SBOMs with at least 300 components, every one with a package URL', () => {
    for (const name of ['payments-api', 'ledger-worker']) {
      const { bom, components } = readCycloneDx(read(`sbom/${name}.cdx.json`));
      expect(bom.specVersion).toBe('1.5');
      expect(components.length).toBeGreaterThanOrEqual(300);
      expect(components.length).toBe(bom.components!.length);
    }
  });

  it('hold OSV advisories whose ranges match some components and miss others', () => {
    const comps = readCycloneDx(read('sbom/payments-api.cdx.json')).components;
    const osvFiles = [...files.keys()].filter((p) => p.startsWith('advisories/osv/'));
    let matching = 0;
    let missing = 0;
    for (const path of osvFiles) {
      const a = validateOsv(read(path));
      const af = a.affected[0]!;
      const c = comps.find((x) => x.name === af.package.name);
      if (!c) continue;
      if (af.ranges!.some((r) => versionInRange(parseSemVer(c.version)!, r.events))) matching++;
      else missing++;
    }
    expect(matching).toBeGreaterThanOrEqual(10);
    expect(missing).toBeGreaterThanOrEqual(1);
  });

  it('hold OpenVEX not_affected statements with justifications', () => {
    const doc = validateOpenVex(read('vex/payments-api.openvex.json'));
    const notAffected = doc.statements.filter((s) => s.status === 'not_affected');
    expect(notAffected.length).toBeGreaterThanOrEqual(3);
    for (const s of notAffected) expect(s.justification).toBeTruthy();
  });

  it('hold one malformed SBOM that is refused with the component named', () => {
    let error: unknown;
    try {
      readCycloneDx(read('sbom/payments-api-next.cdx.json'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkloadError);
    expect((error as WorkloadError).code).toBe('sbom.invalid');
    expect((error as WorkloadError).field).toBe('components[17].purl');
  });

  it('hold one malformed advisory that is refused with the field named', () => {
    let error: unknown;
    try {
      validateOsv(read('advisories/malformed/STELLA-2026-9001.json'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WorkloadError);
    expect((error as WorkloadError).code).toBe('advisory.malformed');
    expect((error as WorkloadError).field).toBe('modified');
  });
});

describe('OSV range evaluation', () => {
  const v = (s: string) => parseSemVer(s)!;
  it('follows introduced / fixed / last_affected events', () => {
    expect(versionInRange(v('1.2.3'), [{ introduced: '0' }, { fixed: '1.2.4' }])).toBe(true);
    expect(versionInRange(v('1.2.4'), [{ introduced: '0' }, { fixed: '1.2.4' }])).toBe(false);
    expect(versionInRange(v('0.9.0'), [{ introduced: '1.0.0' }, { fixed: '2.0.0' }])).toBe(false);
    expect(versionInRange(v('1.5.0'), [{ introduced: '1.0.0' }, { last_affected: '1.5.0' }])).toBe(true);
    expect(versionInRange(v('1.5.1'), [{ introduced: '1.0.0' }, { last_affected: '1.5.0' }])).toBe(false);
    expect(versionInRange(v('3.0.0'), [{ introduced: '2.0.0' }])).toBe(true);
    expect(versionInRange(v('1.0.0-rc.1'), [{ introduced: '0' }, { fixed: '1.0.0' }])).toBe(true);
  });
});
