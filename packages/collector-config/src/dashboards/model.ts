/**
 * Dashboards as data: what each panel shows, which PromQL it runs and whose `/metrics` the
 * series come from. `render.ts` turns a spec into Grafana dashboard JSON.
 */

/**
 * Whose instruments a panel reads:
 * - `workload`: telemetry-core in every service that calls `initTelemetry` (the workload
 *   services serve it on `/metrics`, job = service name);
 * - `service`: the Observability & Forensics service's own instruments and its HTTP server
 *   metrics (job `stella-observability`);
 * - `prometheus`: series Prometheus makes itself (`up`).
 */
export type MetricSource = 'workload' | 'service' | 'prometheus';

export interface QuerySpec {
  /** PromQL; may use Grafana's `$__rate_interval`, `$__interval` and `$__range`. */
  expr: string;
  /** Grafana legend format (`{{label}}`). */
  legend: string;
  /** Ask for exemplars (histogram bucket queries): their points open the trace. */
  exemplar?: boolean;
}

/** A horizontal line on a time series panel, or a colour step on a stat. */
export interface ThresholdSpec {
  value: number;
  color: 'green' | 'yellow' | 'orange' | 'red';
}

export interface PanelSpec {
  title: string;
  /** Shown as the panel's info tooltip: what the series mean and where they come from. */
  description: string;
  type: 'timeseries' | 'stat';
  /** Grafana unit id: `reqps`, `ops`, `s`, `percentunit`, `short`, `bytes`, `none`. */
  unit: string;
  queries: readonly QuerySpec[];
  source: MetricSource;
  /** Grid columns out of 24. Default 8 (time series) or 6 (stat). */
  width?: number;
  /** Time series: dashed lines (SLO thresholds); stat: colour steps above a green base. */
  thresholds?: readonly ThresholdSpec[];
  /** Colour below the first threshold. Default green. */
  baseColor?: ThresholdSpec['color'];
  decimals?: number;
  min?: number;
  max?: number;
}

export interface RowSpec {
  title: string;
  panels: readonly PanelSpec[];
}

export interface DashboardSpec {
  /** Grafana uid, also the file name (`<uid>.json`). */
  uid: string;
  title: string;
  description: string;
  tags: readonly string[];
  rows: readonly RowSpec[];
}
