import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../src/index.js';

describe('resolveConfig', () => {
  it('uses embedded defaults when nothing is set', () => {
    const c = resolveConfig([], {});
    expect(c).toMatchObject({ port: 8080, dataDir: resolve('.stella'), databaseUrl: undefined, natsUrl: undefined, sealed: false, timelineRetentionDays: 180 });
  });

  it('takes flags over environment over file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stella-config-'));
    try {
      const file = join(dir, 'stella.json');
      writeFileSync(file, JSON.stringify({ port: 7000, natsUrl: 'nats://file:4222', timelineRetentionDays: 30 }));
      const c = resolveConfig(['--config', file, '--port', '9001'], { STELLA_PORT: '9000', STELLA_NATS_URL: 'nats://env:4222' });
      expect(c).toMatchObject({ port: 9001, natsUrl: 'nats://env:4222', timelineRetentionDays: 30 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the bad setting', () => {
    expect(() => resolveConfig(['--port', 'eighty'], {})).toThrow(/STELLA_PORT must be an integer/);
    expect(() => resolveConfig(['--colour', 'red'], {})).toThrow(/unknown flag --colour/);
    expect(() => resolveConfig([], { STELLA_SEALED: 'maybe' })).toThrow(ConfigError);
    expect(() => resolveConfig([], { STELLA_DATABASE_APP_ROLE: 'Robert"); DROP' })).toThrow(/SQL identifier/);
  });

  it('refuses a remote JWKS URL on a sealed installation', () => {
    expect(() => resolveConfig([], { STELLA_SEALED: 'true', STELLA_AUTH_JWKS_URL: 'https://authority.example/jwks' })).toThrow(/sealed/);
    expect(resolveConfig([], { STELLA_SEALED: 'true', STELLA_AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks' }).sealed).toBe(true);
  });
});
