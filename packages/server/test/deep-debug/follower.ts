/**
 * The parent's side of follower-process.ts: starts the follower process, collects the log lines
 * it writes, asks it to log, and checks what a tenant's lines show while a grant is (or is not)
 * in force — the tenant's e-mail address, another tenant's, and secrets made for the check.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./follower-process.ts', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string; action?: string; tenant_id?: string; actor?: string };

export interface Follower {
  readonly lines: LogLine[];
  /** Has the process log `message` (info) for `tenant`; resolves to the line it wrote. */
  log(tenant: string, message: string, details?: Record<string, unknown>): Promise<LogLine>;
  /** Resolves with the first line (already written or still to come) that matches. */
  line(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<void>;
}

export async function startFollower(env: Record<string, string>): Promise<Follower> {
  const child: ChildProcess = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let exited: string | undefined;
  let nextId = 0;
  const logged = new Map<number, (line: string | undefined) => void>();
  let ready = false;
  child.on('message', (m: { type?: string; line?: string; id?: number }) => {
    if (m.type === 'ready') ready = true;
    if (m.type === 'line') lines.push(JSON.parse(m.line!) as LogLine);
    if (m.type === 'logged') logged.get(m.id!)?.(m.line);
    for (const w of waiters) w();
  });
  child.once('exit', (code, signal) => {
    exited = `the follower process exited (${signal ?? code})`;
    for (const w of waiters) w();
  });

  const wait = (done: () => boolean, what: string, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) finish(resolve);
        else if (exited) finish(() => reject(new Error(`${exited} while waiting for ${what}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    });

  await wait(() => ready, 'the follower process to start following', 30_000);

  return {
    lines,
    async log(tenant, message, details = {}) {
      const id = ++nextId;
      let written: string | undefined;
      let done = false;
      logged.set(id, (line) => {
        written = line;
        done = true;
      });
      child.send({ type: 'log', id, tenant, message, details });
      await wait(() => done, `line ${id} to be logged`, 10_000);
      logged.delete(id);
      if (written === undefined) throw new Error(`the follower wrote no line for "${message}"`);
      return JSON.parse(written) as LogLine;
    },
    async line(match, what, timeoutMs = 10_000) {
      await wait(() => lines.some(match), what, timeoutMs);
      return lines.find(match)!;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await gone;
    },
  };
}

/** What a follower's lines for two tenants show: each tenant's own e-mail address, and secrets that must never show. */
export async function probe(follower: Follower, tenants: readonly string[]): Promise<Record<string, { emailShown: boolean; emailRedacted: boolean; secretShown: boolean }>> {
  const out: Record<string, { emailShown: boolean; emailRedacted: boolean; secretShown: boolean }> = {};
  for (const tenant of tenants) {
    const password = randomBytes(12).toString('hex');
    const token = `ghp_${randomBytes(18).toString('hex')}`;
    const email = `henry.${randomBytes(3).toString('hex')}@${tenant}.example`;
    const line = JSON.stringify(await follower.log(tenant, `sign-in failed for ${email} with password=${password} and ${token}`, { user: email, authorization: `Bearer ${token}` }));
    out[tenant] = { emailShown: line.includes(email), emailRedacted: line.includes('[REDACTED:email]'), secretShown: line.includes(password) || line.includes(token) };
  }
  return out;
}
