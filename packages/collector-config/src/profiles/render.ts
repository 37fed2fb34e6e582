/**
 * Rendering a profile to Collector YAML, and reading one back. The YAML carries a comment
 * header with what validation needs to judge the file alone — profile, distribution, sealed
 * mode, exporter allowlist — and the digest of the telemetry policy it enforces.
 */
import { parse } from 'yaml';
import { collectorConfig, type CollectorConfig } from './collector-config.js';
import type { Distribution } from './distribution.js';
import { ProfileError, invalidProfileError, type ProfileIssue } from './errors.js';
import { buildProfile, type CollectorProfile } from './model.js';
import type { ProfileName, ProfileOptions } from './options.js';
import { validateCollectorConfig, type ValidateOptions, type ValidationReport } from './validate.js';
import { canonicalYaml } from './yaml.js';

/** Top-level sections in the order the Collector's documentation writes them. */
const TOP_LEVEL = ['receivers', 'processors', 'exporters', 'connectors', 'extensions', 'service'];

export interface RenderOptions extends ProfileOptions {
  /** Replaces the header's second line (who generated the file and how to regenerate it). */
  generatedBy?: string;
}

export interface RenderedProfile {
  name: ProfileName;
  /** The Collector configuration file: byte-identical for identical input. */
  yaml: string;
  /** The typed model it was rendered from. */
  model: CollectorProfile;
  /** The configuration as data (what `yaml` holds, without the header). */
  config: CollectorConfig;
  /** Validation warnings (a rendered profile has no errors). */
  warnings: ProfileIssue[];
}

/** What a profile's header says, read back. */
export interface ProfileHeader {
  profile?: string;
  distribution?: Distribution;
  sealed?: boolean;
  exporterAllowlist?: string[];
  policyDigest?: string;
}

function header(model: CollectorProfile, generatedBy: string | undefined): string[] {
  return [
    `OpenTelemetry Collector configuration: StellaOps profile "${model.name}" — ${model.description}.`,
    generatedBy ?? 'Rendered by @stellaops/collector-config (renderProfile): change the profile options and render again rather than editing this file.',
    `stellaops.profile: ${model.name}`,
    `stellaops.distribution: ${model.distribution.name} ${model.distribution.version}`,
    `stellaops.sealed: ${model.sealed}`,
    `stellaops.exporter_allowlist: ${JSON.stringify(model.exporterAllowlist)}`,
    `stellaops.policy: ${model.redaction.policyDigest}`,
  ];
}

function validationOptions(model: CollectorProfile): ValidateOptions {
  return { distribution: model.distribution, sealed: model.sealed, exporterAllowlist: model.exporterAllowlist };
}

/**
 * Renders a profile: the typed model, its Collector configuration and the YAML. Throws
 * `ProfileError` — `profile.unknown`, `profile.invalid_option`, `profile.policy_unusable`, or
 * `profile.invalid` with every validation error — so an invalid configuration is never written.
 */
export function renderProfile(name: ProfileName, options: RenderOptions = {}): RenderedProfile {
  const model = buildProfile(name, options);
  const config = collectorConfig(model);
  const report = validateCollectorConfig(config, validationOptions(model));
  if (!report.ok) throw invalidProfileError(`profile "${name}"`, report.errors);
  const yaml = canonicalYaml(config as unknown as Record<string, unknown>, header(model, options.generatedBy), TOP_LEVEL);
  return { name, yaml, model, config, warnings: report.warnings };
}

/** YAML text of any Collector configuration, in the same canonical form. */
export function collectorYaml(config: CollectorConfig, headerLines: readonly string[] = []): string {
  return canonicalYaml(config as unknown as Record<string, unknown>, headerLines, TOP_LEVEL);
}

/**
 * Reads a rendered (or any) Collector YAML file: the configuration and the `stellaops.*`
 * header lines. Throws `ProfileError` `profile.invalid` (issue `collector.invalid`) when the
 * text is not a YAML mapping.
 */
export function parseProfileYaml(text: string): { config: CollectorConfig; header: ProfileHeader } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const issue: ProfileIssue = { code: 'collector.invalid', severity: 'error', path: '', message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` };
    throw invalidProfileError('the Collector configuration', [issue]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw invalidProfileError('the Collector configuration', [{ code: 'collector.invalid', severity: 'error', path: '', message: 'must be a YAML mapping' }]);
  }
  const h: ProfileHeader = {};
  for (const m of text.matchAll(/^# stellaops\.([a-z_]+): (.*)$/gm)) {
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'profile') h.profile = value;
    else if (key === 'distribution') {
      const [dn, dv] = value.split(' ');
      if (dn && dv) h.distribution = { name: dn, version: dv };
    } else if (key === 'sealed') h.sealed = value === 'true';
    else if (key === 'policy') h.policyDigest = value;
    else if (key === 'exporter_allowlist') {
      try {
        const list = JSON.parse(value) as unknown;
        if (Array.isArray(list) && list.every((x) => typeof x === 'string')) h.exporterAllowlist = list;
      } catch {
        // an unreadable list allows nothing beyond loopback
      }
    }
  }
  return { config: doc as CollectorConfig, header: h };
}

/**
 * Validates a profile: a rendered one, a configuration object, or YAML text (whose header
 * supplies the distribution, sealed mode and allowlist unless `options` overrides them).
 * Never throws: unreadable YAML is a `collector.invalid` error in the report.
 */
export function validateProfile(input: RenderedProfile | CollectorConfig | string, options: ValidateOptions = {}): ValidationReport {
  if (typeof input === 'string') {
    let parsed: ReturnType<typeof parseProfileYaml>;
    try {
      parsed = parseProfileYaml(input);
    } catch (err) {
      if (err instanceof ProfileError) return { ok: false, errors: [...err.issues], warnings: [] };
      throw err;
    }
    return validateCollectorConfig(parsed.config, {
      distribution: options.distribution ?? parsed.header.distribution,
      sealed: options.sealed ?? parsed.header.sealed,
      exporterAllowlist: options.exporterAllowlist ?? parsed.header.exporterAllowlist,
    });
  }
  if ('yaml' in input && 'model' in input) {
    const own = validationOptions(input.model);
    return validateCollectorConfig(input.config, {
      distribution: options.distribution ?? own.distribution,
      sealed: options.sealed ?? own.sealed,
      exporterAllowlist: options.exporterAllowlist ?? own.exporterAllowlist,
    });
  }
  return validateCollectorConfig(input, options);
}
