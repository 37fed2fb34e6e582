/**
 * With an operator-supplied Collector binary (OTELCOL_BIN): every profile passes
 * `$OTELCOL_BIN validate --config <file>`, and the binary ships exactly the components the
 * pinned list says. Skipped, with a message, when OTELCOL_BIN is not set.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { distributionComponents, PINNED_DISTRIBUTION, PROFILE_NAMES, renderProfile, type ComponentKind } from '../../src/index.ts';
import { otelcolBin, run, tempDir } from '../helpers/binaries.ts';
import { GOLDEN_OPTIONS } from './fixtures.ts';

const bin = otelcolBin();

describe.skipIf(!bin)('with the Collector binary', () => {
  it.each(PROFILE_NAMES)('%s validates, as shipped, on plaintext loopback, and from its golden options', (name) => {
    for (const [variant, options] of [
      ['shipped', {}],
      ['plaintext', { tls: false as const }],
      ['golden', GOLDEN_OPTIONS[name]],
    ] as const) {
      const dir = tempDir(`otelcol-${name}-`, { 'config.yaml': renderProfile(name, options).yaml });
      const r = run(bin!, ['validate', '--config', join(dir, 'config.yaml')]);
      expect(r.status, `${name} (${variant}): ${r.output}`).toBe(0);
    }
  });

  it('ships the components of the pinned list (when it is the pinned version)', () => {
    const version = run(bin!, ['--version']).output;
    if (!version.includes(PINNED_DISTRIBUTION.version)) {
      console.warn(`SKIPPING the component comparison: OTELCOL_BIN reports ${version.trim()}, the list is for ${PINNED_DISTRIBUTION.version}`);
      return;
    }
    const listed = parse(run(bin!, ['components']).output) as Record<string, { name: string }[] | undefined>;
    const pinned = distributionComponents(PINNED_DISTRIBUTION)!;
    for (const kind of ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as ComponentKind[]) {
      const actual = (listed[kind] ?? []).map((c) => c.name).sort();
      for (const type of Object.keys(pinned[kind])) expect(actual, `${kind}: ${type}`).toContain(type);
    }
  });
});
