/**
 * The real PostgreSQL and NATS of the test environment. With CI=true an unreachable service
 * fails the suite; elsewhere the suite is skipped with a message saying why.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import pg from 'pg';

export const CI = process.env['CI'] === 'true';
export const PG_HOST = process.env['STELLA_TEST_PG_HOST'] ?? '127.0.0.1';
export const PG_PORT = Number(process.env['STELLA_TEST_PG_PORT'] ?? 5432);
export const NATS_URL = process.env['STELLA_TEST_NATS_URL'] ?? '127.0.0.1:4222';

function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function requireService(name: string, host: string, port: number): Promise<boolean> {
  if (await reachable(host, port)) return true;
  const message = `${name} at ${host}:${port} is unreachable`;
  if (CI) throw new Error(`${message}; CI=true requires it`);
  console.warn(`SKIPPING: ${message} (set CI=true to make this a failure)`);
  return false;
}

export const postgresAvailable = (): Promise<boolean> => requireService('PostgreSQL', PG_HOST, PG_PORT);
export const natsAvailable = (): Promise<boolean> => {
  const [host, port] = NATS_URL.replace(/^nats:\/\//, '').split(':');
  return requireService('NATS', host!, Number(port ?? 4222));
};

export interface TestDatabase {
  ownerUrl: string;
  appUrl: string;
  appRole: string;
  drop(): Promise<void>;
}

/** A fresh database and NOSUPERUSER NOBYPASSRLS application role, unique per run. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const suffix = randomBytes(5).toString('hex');
  const name = `stella_workload_${suffix}`;
  const appRole = `stella_app_${suffix}`;
  const admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database: 'test' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.query(`CREATE ROLE ${appRole} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`);
  } finally {
    await admin.end();
  }
  const base = `postgres://%s@${PG_HOST}:${PG_PORT}/${name}`;
  return {
    appRole,
    ownerUrl: base.replace('%s', 'postgres'),
    appUrl: base.replace('%s', appRole),
    drop: async () => {
      const c = new pg.Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database: 'test' });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${appRole}`);
      } finally {
        await c.end();
      }
    },
  };
}
