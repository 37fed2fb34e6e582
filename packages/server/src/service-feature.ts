/**
 * How a feature plugs into the service. A feature folder (timeline/, evidence/, attest/,
 * incident/, ...) exports one `ServiceFeature`: its migrations (own folder of SQL), and a factory
 * that takes the parts it uses (service-parts.ts) and returns its routes and background work.
 * Adding a feature = one folder + one line in `features.ts` + its rows in the scope catalogue.
 */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServiceParts } from './service-parts.js';
import type { MigrationSource } from './store/migrations.js';

export type ServiceApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

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
  /** Builds the feature from the service's parts; it destructures what it uses. */
  create(parts: ServiceParts): FeatureRuntime | Promise<FeatureRuntime>;
}
