/**
 * Composition root: starts the service's own telemetry (self/), opens the store (running every
 * feature's migrations), the bus, the token verifier (or the development authority), creates
 * the features and the HTTP app, and shuts them down in reverse: stop accepting and finish
 * in-flight requests, stop consumers after their batch in hand, drain the bus, store the last
 * of its own telemetry, close the store.
 */
import { createLogger, TimelineEmitter, type Bus, type Logger } from '@stellaops/telemetry-core';
import { buildApp, SERVICE_NAME, SERVICE_VERSION } from './app.js';
import { DevAuthority, DEV_AUTHORITY_ISSUER } from './auth/dev-authority.js';
import { TokenVerifier, type JwksSource } from './auth/token-verifier.js';
import { openBus } from './bus/open-bus.js';
import type { ServiceConfig } from './config.js';
import { OutboxBus } from './bus/outbox-bus.js';
import { FEATURES } from './features.js';
import { reportLeadership } from './jobs/leadership.js';
import { MetricsListener } from './self/metrics-route.js';
import { LogLines, SelfTelemetry } from './self/self-telemetry.js';
import type { FeatureRuntime, ServiceApp, ServiceFeature } from './service-feature.js';
import { buildParts, PART_MIGRATIONS, startParts, stopParts, type ForensicsOptions, type ServiceParts } from './service-parts.js';
import { CORE_MIGRATIONS } from './store/migrations.js';
import { openStore } from './store/open-store.js';
import type { SqlStore } from './store/sql-store.js';

export interface ServiceOptions {
  config: ServiceConfig;
  /**
   * Default: telemetry-core's logger for `stella-observability` at `config.logLevel`, whose lines
   * also go to the service's own telemetry store. A logger passed in is used as it is.
   */
  logger?: Logger;
  /** Default `Date.now`. */
  clock?: () => number;
  /** Default: every feature in features.ts. */
  features?: readonly ServiceFeature[];
  /** How the evidence parts are built (object store, KMS, TSA). Default: from the environment. */
  forensics?: ForensicsOptions;
}

export interface StellaService {
  readonly config: ServiceConfig;
  readonly app: ServiceApp;
  readonly store: SqlStore;
  readonly bus: Bus;
  readonly emitter: TimelineEmitter;
  readonly logger: Logger;
  /** The parts the features were built from. */
  readonly parts: ServiceParts;
  /** Feature runtimes by feature name (their public parts, e.g. the timeline indexer). */
  readonly features: ReadonlyMap<string, FeatureRuntime>;
  /** The development authority, when no JWKS is configured (embedded mode). */
  readonly devAuthority: DevAuthority | undefined;
  /** The service's own telemetry: its metrics (`/metrics`), and its traces and logs stored under `config.selfTenant`. */
  readonly self: SelfTelemetry;
  /** Starts listening (and the `/metrics` listener when `config.metricsPort` is set); resolves to the API's address. */
  listen(): Promise<string>;
  /** The bound port of the `/metrics` listener, once listening; undefined without `config.metricsPort`. */
  metricsPort(): number | undefined;
  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void>;
}

export async function createService(options: ServiceOptions): Promise<StellaService> {
  const { config } = options;
  const clock = options.clock ?? Date.now;
  const features = options.features ?? FEATURES;
  const logLines = new LogLines();
  const logger =
    options.logger ??
    createLogger({ service: SERVICE_NAME, version: SERVICE_VERSION, level: config.logLevel as Parameters<typeof createLogger>[0]['level'], sinks: [logLines] });
  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
  };

  // Its own telemetry first: the lines of the start are kept too (stored once the store is open).
  const self = await SelfTelemetry.start({ config, service: SERVICE_NAME, version: SERVICE_VERSION, logger, logLines });
  cleanups.push(() => self.shutdown());
  try {
    const store = await openStore({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      databaseOwnerUrl: config.databaseOwnerUrl,
      appRole: config.databaseAppRole,
      poolSize: config.databasePoolSize,
      migrations: [CORE_MIGRATIONS, ...PART_MIGRATIONS, ...features.flatMap((f) => (f.migrations ? [f.migrations] : []))],
    });
    cleanups.push(() => store.close());

    const bus = await openBus({
      natsUrl: config.natsUrl,
      stream: config.natsStream,
      subjectPrefix: config.subjectPrefix,
      store,
      onHandlerError: (error, batch) => logger.error({ err: error, details: { batch_size: batch.length } }, 'bus consumer failed; the batch will be redelivered'),
      onError: (error, what) => logger.error({ err: error, details: { what } }, 'embedded bus background step failed; it is retried'),
    });
    cleanups.push(() => bus.close());
    if (bus instanceof OutboxBus) self.metrics.observeQueueDepth('bus.outbox', () => bus.depth());

    let devAuthority: DevAuthority | undefined;
    let jwks: JwksSource;
    let issuer = config.authIssuer;
    if (config.authJwksUrl) jwks = { url: config.authJwksUrl };
    else if (config.authJwksFile) jwks = { file: config.authJwksFile };
    else {
      devAuthority = await DevAuthority.open(config.dataDir);
      jwks = { keys: devAuthority.jwks as never };
      issuer ??= DEV_AUTHORITY_ISSUER;
      logger.warn(
        { details: { kid: devAuthority.kid } },
        'DEVELOPMENT AUTHORITY in use: the signing key lives in the data directory and the stella CLI mints tokens for it; set STELLA_AUTH_JWKS_URL or STELLA_AUTH_JWKS_FILE in production',
      );
    }
    const verifier = new TokenVerifier({ jwks, issuer, audience: config.authAudience, clock });

    const emitter = new TimelineEmitter({
      bus,
      subjectPrefix: config.subjectPrefix,
      clock,
      onError: (error) => logger.error({ error_code: error.code, error_message: error.message }, 'timeline event not emitted'),
    });
    const parts = buildParts({ config, store, bus, emitter, logger, clock, verifier, selfMetrics: self.metrics }, { forensics: options.forensics });
    cleanups.push(() => stopParts(parts));
    // Its own traces and logs take the path every OTLP request takes into the store, under the operator tenant.
    self.connect((signal, body) => parts.otlpIngestor.ingest(config.selfTenant, signal, body, 'protobuf'));
    cleanups.push(() => self.shutdown());
    const runtimes = new Map<string, FeatureRuntime>();
    for (const feature of features) runtimes.set(feature.name, await feature.create(parts));

    reportLeadership(self.handle, parts.leadership);
    const app = await buildApp({ logger, verifier, store, bus, leadership: parts.leadership, features: [...runtimes.values()], telemetry: self, http: config });
    await app.ready();
    cleanups.push(() => app.close());

    await startParts(parts);
    for (const [name, runtime] of runtimes) {
      await runtime.start?.();
      if (runtime.stop) cleanups.push(() => runtime.stop!());
      logger.debug({ details: { feature: name } }, 'feature started');
    }

    // Shutdown order: stop accepting and finish in-flight requests; drain the bus (the embedded
    // bus lets the indexer store what was already accepted); stop features; store the last of
    // its own telemetry; close the store.
    cleanups.splice(0);
    const metricsListener = config.metricsPort === undefined ? undefined : new MetricsListener(self);
    let metricsPort: number | undefined;
    const shutdown = async (): Promise<void> => {
      const step = async (name: string, fn: () => Promise<void>): Promise<void> => {
        await fn().catch((error: unknown) => logger.error({ err: error, details: { step: name } }, 'shutdown step failed'));
      };
      await step('http', () => app.close());
      if (metricsListener) await step('metrics listener', () => metricsListener.close());
      await step('bus', () => bus.close());
      for (const [name, runtime] of [...runtimes].reverse()) if (runtime.stop) await step(name, () => runtime.stop!());
      await step('own telemetry', () => self.shutdown());
      await step('parts', () => stopParts(parts));
      await step('store', () => store.close());
    };
    let closing: Promise<void> | undefined;
    return {
      config,
      app,
      store,
      bus,
      emitter,
      logger,
      parts,
      features: runtimes,
      devAuthority,
      self,
      listen: async () => {
        const address = await app.listen({ port: config.port, host: config.host });
        if (metricsListener && config.metricsPort !== undefined) metricsPort ??= await metricsListener.listen(config.metricsPort, config.host);
        logger.info({ details: { address, store: store.engine, bus: bus.kind, ...(metricsPort !== undefined ? { metrics_port: metricsPort } : {}) } }, 'service listening');
        return address;
      },
      metricsPort: () => metricsPort,
      close: () => (closing ??= shutdown()),
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}
