/** The vocabulary of Collector components, shared by the distribution data files and validation. */

export type ComponentKind = 'receivers' | 'processors' | 'exporters' | 'extensions' | 'connectors';

export type Signal = 'traces' | 'metrics' | 'logs';

/** A Collector build: `otelcol-contrib` 0.136.0. */
export interface Distribution {
  name: string;
  version: string;
}

/** What a distribution ships: component type → Go module, per kind; where the list was read. */
export interface DistributionComponents extends Readonly<Record<ComponentKind, Readonly<Record<string, string>>>> {
  readonly distribution: string;
  readonly version: string;
  /** Where the list was read, exactly enough to read it again. */
  readonly source: string;
}
