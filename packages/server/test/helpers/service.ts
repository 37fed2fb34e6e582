/** Starting a real service on a temporary data directory for a test file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService, resolveConfig, type StellaService } from '../../src/index.js';

export interface TestService {
  service: StellaService;
  dataDir: string;
  /** A token from the service's development authority. */
  token(tenant: string, scopes: readonly string[], options?: { ttlSeconds?: number; now?: number; subject?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestService(env: Record<string, string | undefined> = {}, flags: string[] = []): Promise<TestService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stella-server-'));
  const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--log-level', 'error', ...flags], env);
  let service: StellaService;
  try {
    service = await createService({ config });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    service,
    dataDir,
    token: (tenant, scopes, options = {}) => service.devAuthority!.mint({ tenant, scopes, ...options }),
    stop: async () => {
      await service.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
