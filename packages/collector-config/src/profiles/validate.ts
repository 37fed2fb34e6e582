/**
 * Validation of a Collector configuration (COL-2, COL-5): components of the pinned distribution
 * only, every pipeline wired to declared components and nothing declared left unused, signals
 * each component handles, TLS beyond loopback, exporters to allowlisted endpoints only — and in
 * sealed mode to loopback or files only. Runs on any config (a rendered profile, a file read
 * back), reports every problem at once, never throws.
 */
import type { CollectorConfig, PipelineConfig } from './collector-config.js';
import {
  COMPONENT_KINDS,
  COMPONENT_SIGNALS,
  PINNED_DISTRIBUTION,
  SIGNALS,
  componentType,
  distributionComponents,
  type ComponentKind,
  type Distribution,
  type Signal,
} from './distribution.js';
import { allowlisted, isLoopbackHost, parseEndpoint } from './endpoints.js';
import type { ProfileIssue, ProfileIssueCode } from './errors.js';

export interface ValidateOptions {
  /** Distribution the config must stay within. Default `PINNED_DISTRIBUTION`. */
  distribution?: Distribution;
  /** Sealed installation: exporters to loopback or files only. Default false. */
  sealed?: boolean;
  /** Non-loopback endpoints exporters may use when not sealed (telemetry policy egress forms). Default none. */
  exporterAllowlist?: readonly string[];
}

export interface ValidationReport {
  /** True when there is no error (warnings allowed). */
  ok: boolean;
  errors: ProfileIssue[];
  warnings: ProfileIssue[];
}

/** Exporters that write on this host and open no connection. */
const LOCAL_EXPORTERS = new Set(['file', 'debug', 'nop']);
/** Fields exporters name their endpoints in. */
const ENDPOINT_FIELDS = ['endpoint', 'traces_endpoint', 'metrics_endpoint', 'logs_endpoint'] as const;

const PIPELINE_ROLES = ['receivers', 'processors', 'exporters'] as const;
type PipelineRole = (typeof PIPELINE_ROLES)[number];

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function sorted(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

class Issues {
  readonly errors: ProfileIssue[] = [];
  readonly warnings: ProfileIssue[] = [];
  error(code: ProfileIssueCode, path: string, message: string): void {
    this.errors.push({ code, severity: 'error', path, message });
  }
  warn(code: ProfileIssueCode, path: string, message: string): void {
    this.warnings.push({ code, severity: 'warning', path, message });
  }
}

function signalOf(pipelineId: string): Signal | undefined {
  const signal = componentType(pipelineId);
  return (SIGNALS as readonly string[]).includes(signal) ? (signal as Signal) : undefined;
}

/** Where a pipeline role looks for its components; connectors serve as receivers and exporters. */
function kindsFor(role: PipelineRole): ComponentKind[] {
  return role === 'processors' ? ['processors'] : [role, 'connectors'];
}

function checkReceivers(config: Record<string, unknown>, issues: Issues): void {
  const receivers = config['receivers'];
  if (!isMap(receivers)) return;
  for (const id of sorted(Object.keys(receivers))) {
    const receiver = receivers[id];
    const listeners: [string, unknown][] = [];
    if (isMap(receiver) && isMap(receiver['protocols'])) {
      for (const proto of sorted(Object.keys(receiver['protocols']))) listeners.push([`receivers.${id}.protocols.${proto}`, receiver['protocols'][proto]]);
    } else if (isMap(receiver) && typeof receiver['endpoint'] === 'string') {
      listeners.push([`receivers.${id}`, receiver]);
    }
    for (const [path, listener] of listeners) {
      // The Collector's own default for an omitted endpoint is localhost.
      const endpoint = isMap(listener) && typeof listener['endpoint'] === 'string' ? listener['endpoint'] : undefined;
      if (endpoint === undefined) continue;
      const parsed = parseEndpoint(endpoint);
      if (parsed && isLoopbackHost(parsed.host)) continue;
      if (isMap(listener) && isMap(listener['tls']) && typeof listener['tls']['cert_file'] === 'string') continue;
      issues.error(
        'collector.receiver_plaintext',
        path,
        `listens on ${JSON.stringify(endpoint)} without TLS; plaintext is allowed on loopback only: set tls (cert_file, key_file, and client_ca_file for mutual TLS) or listen on 127.0.0.1`,
      );
    }
  }
}

function plaintext(type: string, exporter: Record<string, unknown>, scheme: string | undefined): boolean {
  if (scheme === 'http:') return true;
  const tls = exporter['tls'];
  const insecure = isMap(tls) && tls['insecure'] === true;
  // OTLP/gRPC without a scheme uses TLS unless told `insecure`.
  return type === 'otlp' && scheme === undefined && insecure;
}

function checkExporters(config: Record<string, unknown>, options: Required<ValidateOptions>, issues: Issues): void {
  const exporters = config['exporters'];
  if (!isMap(exporters)) return;
  for (const id of sorted(Object.keys(exporters))) {
    const type = componentType(id);
    const exporter = exporters[id];
    if (LOCAL_EXPORTERS.has(type)) {
      const path = isMap(exporter) ? exporter['path'] : undefined;
      if (options.sealed && type === 'file' && typeof path === 'string' && /^(\/\/|\\\\)/.test(path)) {
        issues.error('collector.sealed_egress', `exporters.${id}.path`, `sealed mode allows local files only, and ${JSON.stringify(path)} is a network share; write to a local directory`);
      }
      continue;
    }
    const fields = isMap(exporter) ? ENDPOINT_FIELDS.filter((f) => typeof exporter[f] === 'string') : [];
    if (fields.length === 0) {
      issues.error(
        'collector.endpoint_invalid',
        `exporters.${id}`,
        `names no endpoint validation can check (${ENDPOINT_FIELDS.join(', ')}); only exporters with an endpoint, file, debug and nop exporters can be shown to send where the allowlist permits`,
      );
      continue;
    }
    for (const field of fields) {
      const raw = (exporter as Record<string, string>)[field]!;
      const path = `exporters.${id}.${field}`;
      const endpoint = parseEndpoint(raw);
      if (!endpoint) {
        issues.error('collector.endpoint_invalid', path, `${JSON.stringify(raw)} is not host:port or a URL`);
        continue;
      }
      const loopback = isLoopbackHost(endpoint.host);
      if (options.sealed) {
        if (!loopback) {
          issues.error(
            'collector.sealed_egress',
            path,
            `sealed mode allows loopback and file exporters only, and ${JSON.stringify(raw)} leaves the host; point the exporter at a loopback endpoint (127.0.0.0/8, ::1, localhost) or use file exporters (the airgap profile)`,
          );
          continue;
        }
      } else if (!loopback && !allowlisted(endpoint, options.exporterAllowlist)) {
        const entry = endpoint.port === undefined ? endpoint.host : `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
        issues.error(
          'collector.exporter_not_allowlisted',
          path,
          `${JSON.stringify(raw)} is not on the exporter allowlist; add ${JSON.stringify(entry)} to the profile's exporterAllowlist or to the telemetry policy's egress.allowlist`,
        );
        continue;
      }
      if (!loopback && plaintext(type, exporter as Record<string, unknown>, endpoint.scheme)) {
        issues.error(
          'collector.exporter_plaintext',
          path,
          `sends to ${JSON.stringify(raw)} without TLS; plaintext is allowed on loopback only: use https (for gRPC, drop tls.insecure) and set tls.ca_file when the backend's CA is private`,
        );
      }
    }
  }
}

/** Validates a Collector configuration object. */
export function validateCollectorConfig(input: CollectorConfig | Record<string, unknown>, options: ValidateOptions = {}): ValidationReport {
  const opts: Required<ValidateOptions> = {
    distribution: options.distribution ?? PINNED_DISTRIBUTION,
    sealed: options.sealed ?? false,
    exporterAllowlist: options.exporterAllowlist ?? [],
  };
  const issues = new Issues();
  const config = input as Record<string, unknown>;
  const dist = distributionComponents(opts.distribution);
  if (!dist) {
    issues.error(
      'collector.unknown_distribution',
      'distribution',
      `no component list for ${opts.distribution.name} ${opts.distribution.version} (known: ${PINNED_DISTRIBUTION.name} ${PINNED_DISTRIBUTION.version}); pin a known version or add its component list beside otelcol-contrib-${PINNED_DISTRIBUTION.version}.ts`,
    );
  }

  // Declared components, by kind.
  const declared = new Map<ComponentKind, Set<string>>();
  for (const kind of COMPONENT_KINDS) {
    const section = config[kind];
    declared.set(kind, new Set());
    if (section === undefined || section === null) continue;
    if (!isMap(section)) {
      issues.error('collector.invalid', kind, `must be a mapping of component ids to their settings`);
      continue;
    }
    for (const id of sorted(Object.keys(section))) {
      declared.get(kind)!.add(id);
      const type = componentType(id);
      if (dist && !(type in dist[kind])) {
        issues.error(
          'collector.unknown_component',
          `${kind}.${id}`,
          `component type ${JSON.stringify(type)} is not in ${dist.distribution} ${dist.version}; use a component the distribution ships (src/profiles/otelcol-contrib-${dist.version}.ts)`,
        );
      }
    }
  }

  const used = new Map<ComponentKind, Set<string>>(COMPONENT_KINDS.map((k) => [k, new Set<string>()]));
  const service = config['service'];
  const pipelines = isMap(service) ? service['pipelines'] : undefined;
  if (!isMap(service) || !isMap(pipelines)) {
    issues.error('collector.invalid', 'service.pipelines', 'must be a mapping of pipelines (traces, metrics, logs)');
  } else {
    for (const pipelineId of sorted(Object.keys(pipelines))) {
      const path = `service.pipelines.${pipelineId}`;
      const pipeline: unknown = pipelines[pipelineId];
      const signal = signalOf(pipelineId);
      if (!signal) {
        issues.error('collector.pipeline_incomplete', path, 'is not named for a signal: name pipelines traces, metrics or logs (optionally followed by /name)');
      }
      if (!isMap(pipeline)) {
        issues.error('collector.invalid', path, 'must be a mapping with receivers, processors and exporters');
        continue;
      }
      for (const role of PIPELINE_ROLES) {
        const list: unknown = pipeline[role];
        if (list === undefined) continue;
        if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
          issues.error('collector.invalid', `${path}.${role}`, 'must be a list of component ids');
          continue;
        }
        for (const id of list as string[]) {
          const kind = kindsFor(role).find((k) => declared.get(k)!.has(id));
          if (!kind) {
            issues.error('collector.undeclared_component', `${path}.${role}`, `${JSON.stringify(id)} is not declared under ${role}; declare it or remove it from the pipeline`);
            continue;
          }
          used.get(kind)!.add(id);
          const handles = COMPONENT_SIGNALS[kind]?.[componentType(id)];
          if (signal && handles && !handles.includes(signal)) {
            issues.error('collector.signal_unsupported', `${path}.${role}`, `${JSON.stringify(id)} handles ${handles.join(', ')} only, not ${signal}; use it in a ${handles.join(' or ')} pipeline`);
          }
        }
      }
      const p = pipeline as PipelineConfig;
      for (const role of ['receivers', 'exporters'] as const) {
        if (!Array.isArray(p[role]) || p[role]!.length === 0) {
          issues.error('collector.pipeline_incomplete', path, `has no ${role}; a pipeline needs at least one receiver and one exporter`);
        }
      }
      if (!(p.processors ?? []).some((id) => componentType(id) === 'redaction')) {
        issues.warn('collector.redaction_missing', path, 'applies no redaction processor: the telemetry policy is enforced in the services only');
      }
    }
    const extensions = service['extensions'];
    if (extensions !== undefined) {
      if (!Array.isArray(extensions) || extensions.some((x) => typeof x !== 'string')) {
        issues.error('collector.invalid', 'service.extensions', 'must be a list of extension ids');
      } else {
        for (const id of extensions as string[]) {
          if (!declared.get('extensions')!.has(id)) {
            issues.error('collector.undeclared_component', 'service.extensions', `${JSON.stringify(id)} is not declared under extensions; declare it or remove it from service.extensions`);
          } else used.get('extensions')!.add(id);
        }
      }
    }
  }

  // A profile holds nothing it does not run: an unused exporter is unreviewed egress one edit away.
  for (const kind of COMPONENT_KINDS) {
    for (const id of declared.get(kind)!) {
      if (used.get(kind)!.has(id)) continue;
      const where = kind === 'extensions' ? 'service.extensions' : 'a pipeline';
      issues.error('collector.unused_component', `${kind}.${id}`, `is declared but not used; remove it or add it to ${where}`);
    }
  }

  checkReceivers(config, issues);
  checkExporters(config, opts, issues);
  return { ok: issues.errors.length === 0, errors: issues.errors, warnings: issues.warnings };
}
