/**
 * Collector distributions a profile can be pinned to, as data: each one's component types per
 * kind (`otelcol-contrib-<version>.ts`), and which signals the components the profiles use
 * handle. Validation refuses a component the pinned distribution does not ship.
 */
import type { ComponentKind, Distribution, DistributionComponents, Signal } from './component-types.js';
import { OTELCOL_CONTRIB_0_136_0 } from './otelcol-contrib-0.136.0.js';

export type { ComponentKind, Distribution, DistributionComponents, Signal } from './component-types.js';

export const COMPONENT_KINDS: readonly ComponentKind[] = Object.freeze(['receivers', 'processors', 'exporters', 'extensions', 'connectors']);
export const SIGNALS: readonly Signal[] = Object.freeze(['traces', 'metrics', 'logs']);

/** The distribution the shipped profiles are pinned to. */
export const PINNED_DISTRIBUTION: Distribution = Object.freeze({ name: OTELCOL_CONTRIB_0_136_0.distribution, version: OTELCOL_CONTRIB_0_136_0.version });

/** Every distribution this package knows the components of. */
export const DISTRIBUTIONS: readonly DistributionComponents[] = Object.freeze([OTELCOL_CONTRIB_0_136_0]);

/** The component list of a distribution, or undefined when this package does not know it. */
export function distributionComponents(d: Distribution): DistributionComponents | undefined {
  return DISTRIBUTIONS.find((x) => x.distribution === d.name && x.version === d.version);
}

const ALL: readonly Signal[] = SIGNALS;
const METRICS: readonly Signal[] = ['metrics'];
const LOGS: readonly Signal[] = ['logs'];
const TRACES: readonly Signal[] = ['traces'];

/**
 * Signals a component handles, for the components whose support is recorded here (everything
 * the profiles use, and a few common neighbours); a component missing from this table is not
 * checked for signal support.
 */
export const COMPONENT_SIGNALS: Readonly<Partial<Record<ComponentKind, Readonly<Record<string, readonly Signal[]>>>>> = Object.freeze({
  receivers: Object.freeze({ otlp: ALL, otlpjsonfile: ALL, prometheus: METRICS, filelog: LOGS, hostmetrics: METRICS, jaeger: TRACES, zipkin: TRACES }),
  processors: Object.freeze({
    attributes: ALL,
    batch: ALL,
    filter: ALL,
    memory_limiter: ALL,
    probabilistic_sampler: ['traces', 'logs'] as readonly Signal[],
    redaction: ALL,
    resource: ALL,
    resourcedetection: ALL,
    tail_sampling: TRACES,
    transform: ALL,
  }),
  exporters: Object.freeze({
    debug: ALL,
    file: ALL,
    loadbalancing: ALL,
    nop: ALL,
    otlp: ALL,
    otlphttp: ALL,
    prometheus: METRICS,
    prometheusremotewrite: METRICS,
    zipkin: TRACES,
  }),
});

/** The component type of a component id: `otlp/tempo` → `otlp`. */
export function componentType(id: string): string {
  const slash = id.indexOf('/');
  return slash === -1 ? id : id.slice(0, slash);
}
