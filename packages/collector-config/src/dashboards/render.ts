/**
 * Grafana dashboard JSON (schemaVersion 39) from a `DashboardSpec`, byte-stable: the same spec
 * always gives the same text. Only core panels (row, time series, stat); the Prometheus data
 * source is the `datasource` variable, so a dashboard imports into any Grafana offline and
 * picks its default Prometheus.
 */
import type { DashboardSpec, PanelSpec, QuerySpec, ThresholdSpec } from './model.js';

export const SCHEMA_VERSION = 39;
/** Every panel and target names this data source. */
export const DATASOURCE = Object.freeze({ type: 'prometheus', uid: '${datasource}' });
/** Where an exemplar's trace opens: the service's trace view, under the `stella_url` variable. */
export const TRACE_LINK_URL = '${stella_url}/obs/trace/${__value.raw}';
/** Exemplar label holding the trace id (telemetry-core writes `trace_id`). */
export const EXEMPLAR_TRACE_FIELD = 'trace_id';
export const DEFAULT_STELLA_URL = 'http://localhost:8080';

const PANEL_HEIGHT = 8;
const GRID_WIDTH = 24;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const THRESHOLD_COLORS: Record<ThresholdSpec['color'], string> = { green: 'green', yellow: 'yellow', orange: 'orange', red: 'red' };

function thresholds(panel: PanelSpec): Json {
  const base = THRESHOLD_COLORS[panel.baseColor ?? 'green'];
  const steps: Json[] = [{ color: panel.type === 'timeseries' && !panel.baseColor ? 'transparent' : base, value: null }];
  for (const t of panel.thresholds ?? []) steps.push({ color: THRESHOLD_COLORS[t.color], value: t.value });
  return { mode: 'absolute', steps };
}

function target(q: QuerySpec, i: number): Json {
  return {
    datasource: { ...DATASOURCE },
    editorMode: 'code',
    exemplar: q.exemplar === true,
    expr: q.expr,
    instant: false,
    legendFormat: q.legend,
    range: true,
    refId: String.fromCharCode(65 + i),
  };
}

/** Field override that turns an exemplar's trace id into a link to the trace. */
function traceLinkOverride(): Json {
  return {
    matcher: { id: 'byName', options: EXEMPLAR_TRACE_FIELD },
    properties: [{ id: 'links', value: [{ targetBlank: true, title: 'Open trace ${__value.raw}', url: TRACE_LINK_URL }] }],
  };
}

function fieldConfig(panel: PanelSpec): Json {
  const defaults: { [key: string]: Json } = {
    color: { mode: panel.type === 'stat' ? 'thresholds' : 'palette-classic' },
  };
  if (panel.type === 'timeseries') {
    defaults['custom'] = {
      axisBorderShow: false,
      axisPlacement: 'auto',
      drawStyle: 'line',
      fillOpacity: 10,
      lineWidth: 1,
      pointSize: 4,
      showPoints: 'never',
      spanNulls: false,
      thresholdsStyle: { mode: panel.thresholds?.length ? 'dashed' : 'off' },
    };
  }
  if (panel.decimals !== undefined) defaults['decimals'] = panel.decimals;
  if (panel.min !== undefined) defaults['min'] = panel.min;
  if (panel.max !== undefined) defaults['max'] = panel.max;
  defaults['thresholds'] = thresholds(panel);
  defaults['unit'] = panel.unit;
  const exemplars = panel.queries.some((q) => q.exemplar);
  return { defaults, overrides: exemplars ? [traceLinkOverride()] : [] };
}

function options(panel: PanelSpec): Json {
  if (panel.type === 'stat') {
    return {
      colorMode: 'value',
      graphMode: 'area',
      justifyMode: 'auto',
      orientation: 'auto',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      showPercentChange: false,
      textMode: 'auto',
      wideLayout: true,
    };
  }
  return {
    legend: { calcs: [], displayMode: 'list', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
}

/** Places panels left to right, wrapping at 24 columns; returns the next free row. */
function layout(panels: readonly PanelSpec[], y: number, nextId: () => number): { panels: Json[]; y: number } {
  const out: Json[] = [];
  let x = 0;
  for (const panel of panels) {
    const w = panel.width ?? (panel.type === 'stat' ? 6 : 8);
    if (x + w > GRID_WIDTH) {
      x = 0;
      y += PANEL_HEIGHT;
    }
    out.push({
      datasource: { ...DATASOURCE },
      description: panel.description,
      fieldConfig: fieldConfig(panel),
      gridPos: { h: PANEL_HEIGHT, w, x, y },
      id: nextId(),
      options: options(panel),
      targets: panel.queries.map(target),
      title: panel.title,
      type: panel.type,
    });
    x += w;
  }
  return { panels: out, y: y + (x > 0 ? PANEL_HEIGHT : 0) };
}

/** The dashboard as Grafana's JSON model. */
export function renderDashboard(spec: DashboardSpec): Json {
  let id = 0;
  const nextId = (): number => ++id;
  const panels: Json[] = [];
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ collapsed: false, gridPos: { h: 1, w: GRID_WIDTH, x: 0, y }, id: nextId(), panels: [], title: row.title, type: 'row' });
    const placed = layout(row.panels, y + 1, nextId);
    panels.push(...placed.panels);
    y = placed.y;
  }
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: spec.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    // The other StellaOps dashboards, by tag, inside the same Grafana.
    links: [{ asDropdown: true, icon: 'external link', includeVars: true, keepTime: true, tags: ['stellaops'], targetBlank: false, title: 'StellaOps', tooltip: '', type: 'dashboards', url: '' }],
    panels,
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    tags: [...spec.tags],
    templating: {
      list: [
        {
          current: {},
          hide: 0,
          includeAll: false,
          label: 'Prometheus',
          multi: false,
          name: 'datasource',
          options: [],
          query: 'prometheus',
          refresh: 1,
          regex: '',
          skipUrlSync: false,
          type: 'datasource',
        },
        {
          current: { selected: false, text: DEFAULT_STELLA_URL, value: DEFAULT_STELLA_URL },
          description: 'Base URL of the Observability & Forensics service: exemplar points link to its trace view, /obs/trace/<trace id>.',
          hide: 0,
          label: 'Observability service URL',
          name: 'stella_url',
          options: [{ selected: true, text: DEFAULT_STELLA_URL, value: DEFAULT_STELLA_URL }],
          query: DEFAULT_STELLA_URL,
          skipUrlSync: false,
          type: 'textbox',
        },
      ],
    },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'utc',
    title: spec.title,
    uid: spec.uid,
    version: 1,
    weekStart: '',
  };
}

/** The dashboard file's text: two-space JSON with a final newline. */
export function dashboardJson(spec: DashboardSpec): string {
  return `${JSON.stringify(renderDashboard(spec), null, 2)}\n`;
}
