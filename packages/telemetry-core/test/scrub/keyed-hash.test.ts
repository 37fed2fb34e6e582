import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileScrubPolicy, scrubText, scrubValue } from '../../src/scrub/index.js';

const key = randomBytes(32);
const policy = compileScrubPolicy({ hashKey: key });
const marker = /\[REDACTED:([a-z0-9-]+):([0-9a-f]{12})\]/g;

function markers(text: string): string[] {
  return [...text.matchAll(marker)].map((m) => m[0]);
}

describe('keyed-hash mode', () => {
  it('gives equal values equal markers and different values different markers', () => {
    const a1 = scrubText('login kate@example.com', policy);
    const a2 = scrubText('retry for kate@example.com', policy);
    const b = scrubText('login liam@example.com', policy);
    expect(markers(a1)).toHaveLength(1);
    expect(markers(a1)).toEqual(markers(a2));
    expect(markers(b)[0]).not.toBe(markers(a1)[0]);
    expect(a1 + a2 + b).not.toMatch(/kate|liam/);
  });

  it('hashes key-rule values, url credentials and tokens without disclosing them', () => {
    const pw = 'pw-' + randomBytes(6).toString('hex');
    const out = JSON.stringify(
      scrubValue({ password: pw, dsn: `postgres://app:${pw}@db/app`, note: `token=${pw}`, again: { password: pw } }, policy),
    );
    expect(out).not.toContain(pw);
    const found = markers(out);
    expect(found).toHaveLength(4);
    // The same password under two keys correlates; its place inside a URL or a text assignment
    // yields its own class prefix.
    const parsed = JSON.parse(out) as { password: string; again: { password: string } };
    expect(parsed.password).toBe(parsed.again.password);
    expect(parsed.password).toMatch(/^\[REDACTED:key:[0-9a-f]{12}\]$/);
  });

  it('depends on the key: another key gives other markers', () => {
    const other = compileScrubPolicy({ hashKey: randomBytes(32) });
    expect(scrubText('to mia@example.com', policy)).not.toBe(scrubText('to mia@example.com', other));
    expect(scrubText('to mia@example.com', compileScrubPolicy({ hashKey: key }))).toBe(scrubText('to mia@example.com', policy));
  });

  it('is idempotent: hashed markers are never redacted again', () => {
    const once = scrubText(`${'gh' + 'p_'}${'Zz9'.repeat(12)} token=${'x'.repeat(10)}1 api_key: k3y-value`, policy);
    expect(scrubText(once, policy)).toBe(once);
    expect(markers(once)).toHaveLength(3);
  });
});
