/**
 * "A 202 means preserved" on embedded defaults (STO-5): the service runs as a child process
 * (PGlite + the outbox-backed embedded bus), two tenants POST events concurrently, and the
 * child is SIGKILLed mid-stream — with publishes in flight and the indexer behind. Restarted
 * on the same data directory, every event that got a 202 is readable through GET /timeline
 * (the indexer resumes from the outbox), exactly once. Three kills in a row, then a final check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createService, resolveConfig, type StellaService } from '../../src/index.js';
import { OutboxBus } from '../../src/bus/outbox-bus.js';
import { eventually } from '../helpers/external.js';

const CHILD = fileURLToPath(new URL('./fixtures/timeline-crash-child.ts', import.meta.url));
const TENANTS = ['acme', 'globex'] as const;

interface Child {
  process: ChildProcess;
  address: string;
  tokens: Record<string, string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startChild(dataDir: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      const ready = JSON.parse(line.slice(6)) as { address: string; tokens: Record<string, string> };
      resolve({ process: child, ...ready, exited, stderr: () => stderr });
    });
    child.once('error', reject);
    void exited.then(({ code, signal }) => reject(new Error(`child exited before READY (code ${code}, signal ${signal}): ${stderr}`)));
  });
}

async function readAll(address: string, token: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${address}/timeline?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await res.json()) as { events: { event_id: string }[]; next_cursor: string | null };
    if (res.status !== 200) throw new Error(`GET /timeline answered ${res.status}: ${JSON.stringify(page)}`);
    ids.push(...page.events.map((e) => e.event_id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

/** Waits until every acknowledged id of each tenant is readable; returns what was read. */
async function waitAllReadable(acknowledged: Record<string, Set<string>>, read: (tenant: string) => Promise<string[]>, what: string): Promise<Record<string, string[]>> {
  return eventually(
    async () => {
      const out: Record<string, string[]> = {};
      for (const tenant of TENANTS) {
        const ids = await read(tenant);
        const have = new Set(ids);
        for (const id of acknowledged[tenant]!) if (!have.has(id)) return undefined;
        out[tenant] = ids;
      }
      return out;
    },
    90_000,
    what,
  );
}

describe('a 202 from POST /timeline/events survives kill -9 (embedded defaults)', () => {
  const dirs: string[] = [];
  let final: StellaService | undefined;
  afterAll(async () => {
    await final?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('every acknowledged event is readable after each restart, exactly once', { timeout: 420_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stella-timeline-crash-'));
    dirs.push(dataDir);
    const acknowledged: Record<string, Set<string>> = { acme: new Set(), globex: new Set() };
    let sequence = 0;

    for (let round = 0; round < 3; round++) {
      const child = await startChild(dataDir);
      try {
        // What earlier rounds acknowledged is there after the restart (the indexer resumed from the outbox).
        await waitAllReadable(acknowledged, (t) => readAll(child.address, child.tokens[t]!), `round ${round}: events acknowledged before the kill`);

        // Six concurrent clients, three per tenant, 50 events per request; the kill comes once this
        // round has 1,500 acknowledged events, while requests are still in flight.
        const target = 1500;
        let thisRound = 0;
        let killed = false;
        const kill = (): void => {
          if (killed) return;
          killed = true;
          child.process.kill('SIGKILL');
        };
        const client = async (tenant: string): Promise<void> => {
          while (!killed) {
            const events = Array.from({ length: 50 }, () => ({ kind: 'sbom.ingested', resource_type: 'sbom', resource_id: `r${round}-${sequence++}`, details: { round } }));
            let res: Response;
            try {
              res = await fetch(`${child.address}/timeline/events`, {
                method: 'POST',
                headers: { authorization: `Bearer ${child.tokens[tenant]}`, 'content-type': 'application/json' },
                body: JSON.stringify({ events }),
              });
            } catch {
              return; // the connection died with the process: outcome unknown, not acknowledged
            }
            if (res.status !== 202) {
              if (killed) return;
              throw new Error(`POST answered ${res.status}: ${await res.text()}`);
            }
            const body = (await res.json()) as { events: { event_id: string }[] };
            for (const e of body.events) acknowledged[tenant]!.add(e.event_id);
            thisRound += body.events.length;
            if (thisRound >= target) kill();
          }
        };
        await Promise.all(TENANTS.flatMap((t) => [client(t), client(t), client(t)]));
        const exit = await child.exited;
        expect(exit.signal, child.stderr()).toBe('SIGKILL');
        expect(thisRound).toBeGreaterThanOrEqual(target);
      } finally {
        if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      }
    }

    // A last start, in process: everything acknowledged in all rounds is readable, once.
    const config = resolveConfig(['--data-dir', dataDir, '--port', '0', '--log-level', 'fatal'], {});
    final = await createService({ config });
    const service = final;
    const tokens: Record<string, string> = {};
    for (const t of TENANTS) tokens[t] = await service.devAuthority!.mint({ tenant: t, scopes: ['timeline:read'] });
    const read = async (tenant: string): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await service.app.inject({ method: 'GET', url: `/timeline?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, headers: { authorization: `Bearer ${tokens[tenant]}` } });
        const page: { events: { event_id: string }[]; next_cursor: string | null } = res.json();
        ids.push(...page.events.map((e) => e.event_id));
        cursor = page.next_cursor;
      } while (cursor);
      return ids;
    };
    const stored = await waitAllReadable(acknowledged, read, 'every acknowledged event after the last kill');
    for (const t of TENANTS) {
      expect(acknowledged[t]!.size).toBeGreaterThanOrEqual(3 * 600);
      expect(new Set(stored[t]).size, `${t}: no event stored twice`).toBe(stored[t]!.length);
    }
    // And the log drains: what every consumer acknowledged is deleted.
    expect(service.bus).toBeInstanceOf(OutboxBus);
    await eventually(async () => ((await (service.bus as OutboxBus).backlog()) === 0 ? true : undefined), 60_000, 'the outbox drained');
  });
});
