/**
 * A second process that follows deep-debug grants as any StellaOps service does: its logger is
 * telemetry-core's, its grants come from the service only — over NATS JetStream
 * (`BusDeepDebugSource`) or by polling `GET /telemetry/deep-debug` (`HttpDeepDebugSource`).
 * Every line it logs is sent to the parent over IPC; the parent asks it to log lines for a
 * tenant (`{type: 'log', id, tenant, message, details}`, answered `{type: 'logged', id, line}`
 * with the line written) and to stop (`{type: 'stop'}`).
 *
 * Environment: FOLLOW=nats with NATS_URL, NATS_STREAM, SUBJECT_PREFIX; or FOLLOW=http with
 * STELLA_URL, STELLA_TOKEN, TENANTS (comma-separated).
 */
import { BusDeepDebugSource, createLogger, followDeepDebug, HttpDeepDebugSource, withContext, type Bus, type DeepDebugSource } from '@stellaops/telemetry-core';
import { NatsJetStreamBus } from '../../src/bus/nats-jetstream-bus.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const send = (message: unknown): void => {
  process.send?.(message);
};

let last: string | undefined;
const logger = createLogger({
  service: 'deep-debug-follower',
  level: 'info',
  destination: {
    write: (line: string) => {
      last = line;
      send({ type: 'line', line });
    },
  },
});

let bus: Bus | undefined;
let source: DeepDebugSource;
if (env('FOLLOW') === 'nats') {
  bus = await NatsJetStreamBus.connect({ servers: env('NATS_URL'), stream: env('NATS_STREAM'), subjectPrefix: env('SUBJECT_PREFIX'), name: 'deep-debug-follower' });
  const busSource = new BusDeepDebugSource({ bus, subjectPrefix: env('SUBJECT_PREFIX'), onError: (error) => logger.error({ err: error }, 'deep-debug message skipped') });
  followDeepDebug(busSource);
  await busSource.ready();
  source = busSource;
} else {
  const httpSource = new HttpDeepDebugSource({
    url: env('STELLA_URL'),
    headers: { authorization: `Bearer ${env('STELLA_TOKEN')}` },
    tenants: env('TENANTS').split(','),
    intervalMs: 100,
    onError: (error) => logger.error({ err: error }, 'deep-debug poll failed'),
  });
  followDeepDebug(httpSource);
  await httpSource.pollNow();
  source = httpSource;
}

process.on('message', (m: { type?: string; id?: number; tenant?: string; message?: string; details?: Record<string, unknown> }) => {
  if (m.type === 'log') {
    last = undefined;
    withContext({ tenant_id: m.tenant! }, () => logger.info({ details: m.details ?? {} }, m.message!));
    send({ type: 'logged', id: m.id, line: last });
  } else if (m.type === 'stop') {
    void (async () => {
      await source.close();
      await bus?.close();
      process.exit(0);
    })();
  }
});
process.once('disconnect', () => process.exit(0));
send({ type: 'ready' });
