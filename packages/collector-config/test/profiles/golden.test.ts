/**
 * Golden files: each profile rendered from fixed options (fixtures.ts) must equal
 * test/profiles/golden/<profile>.yaml byte for byte. They change only on purpose:
 *
 *   STELLA_UPDATE_GOLDEN=1 npx vitest run packages/collector-config/test/profiles/golden.test.ts
 *
 * rewrites them (and says so); without the flag a missing or different file fails.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROFILE_NAMES, renderProfile } from '../../src/index.ts';
import { GOLDEN_OPTIONS } from './fixtures.ts';

const UPDATE = process.env['STELLA_UPDATE_GOLDEN'] === '1';
const goldenPath = (name: string): string => fileURLToPath(new URL(`./golden/${name}.yaml`, import.meta.url));

describe.each(PROFILE_NAMES)('golden file of the %s profile', (name) => {
  it('is what the profile renders to', () => {
    const { yaml } = renderProfile(name, GOLDEN_OPTIONS[name]);
    const path = goldenPath(name);
    if (UPDATE) {
      writeFileSync(path, yaml);
      console.warn(`STELLA_UPDATE_GOLDEN=1: rewrote ${path}`);
      return;
    }
    expect(existsSync(path), `${path} is missing; render it with STELLA_UPDATE_GOLDEN=1`).toBe(true);
    expect(yaml, `${name} differs from its golden file; if the change is intended, rerun with STELLA_UPDATE_GOLDEN=1 and review the diff`).toBe(readFileSync(path, 'utf8'));
  });
});
