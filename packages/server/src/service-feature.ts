/**
 * How a feature plugs into the service. A feature folder (timeline/, later evidence/,
 * attest/, incident/, ...) exports one `ServiceFeature`: its migrations (own folder of SQL),
 * and a factory that receives the shared parts and returns its routes and background work.
 * Adding a feature = one folder + one line in `features.ts` + its rows in the scope catalogue.
 */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Bus, Logger, TimelineEmitter } from '@stellaops/telemetry-core';
import type { ServiceConfig } from './config.js';
import type { MigrationSource } from './store/migrations.js';
import type { SqlStore } from './store/sql-store.js';

export type ServiceApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface FeatureContext {
  config: ServiceConfig;
  store: SqlStore;
  bus: Bus;
  /** Publishes timeline events (audit events included) on the service's bus. */
  emitter: TimelineEmitter;
  logger: Logger;
  clock: () => number;
}

export interface FeatureRuntime {
  /** Registers the feature's routes (each must have a row in auth/scope-catalogue.ts). */
  routes?(app: ServiceApp): Promise<void> | void;
  /** Starts background work (consumers, jobs) once the store and bus are open. */
  start?(): Promise<void>;
  /** Stops background work, finishing what is in hand. */
  stop?(): Promise<void>;
}

export interface ServiceFeature {
  name: string;
  migrations?: MigrationSource;
  create(ctx: FeatureContext): FeatureRuntime | Promise<FeatureRuntime>;
}
