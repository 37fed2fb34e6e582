/**
 * Storage backends per profile (STO-1): Prometheus (with its retention flags), Tempo and Loki
 * configs, rendered deterministically beside the Collector profile they receive from.
 */
import { invalidProfileError } from '../profiles/errors.js';
import type { ProfileName } from '../profiles/options.js';
import { lokiYaml } from './loki.js';
import { buildBackends, validateBackends, type BackendsModel } from './model.js';
import type { BackendOptions } from './options.js';
import { prometheusArgs, prometheusYaml } from './prometheus.js';
import { tempoYaml } from './tempo.js';

export { BACKEND_PORTS, RETENTION_DAYS, STELLAOPS_SCRAPE_JOBS } from './options.js';
export type { BackendOptions, ObjectStorage, RemoteWriteTarget, RetentionDays } from './options.js';
export { buildBackends, DEFAULT_RULE_FILES, validateBackends } from './model.js';
export type { BackendsModel } from './model.js';
export { prometheusArgs, prometheusConfig } from './prometheus.js';
export { tempoConfig } from './tempo.js';
export { LOKI_TIER_ATTRIBUTE, lokiConfig } from './loki.js';

/** One generated file, by its path relative to the profile's backend directory. */
export interface BackendFile {
  path: string;
  content: string;
}

export interface RenderedBackends {
  name: ProfileName;
  model: BackendsModel;
  /** prometheus/prometheus.yml, prometheus/prometheus.args, tempo/tempo.yaml, loki/loki.yaml. */
  files: BackendFile[];
}

export interface RenderBackendsOptions extends BackendOptions {
  /** Replaces the headers' second line (who generated the files and how to regenerate them). */
  generatedBy?: string;
}

/**
 * Renders the backend configs of a profile. Throws `ProfileError` (`profile.unknown`,
 * `profile.invalid_option`, or `profile.invalid` with every validation error).
 */
export function renderBackends(name: ProfileName, options: RenderBackendsOptions = {}): RenderedBackends {
  const model = buildBackends(name, options);
  const issues = validateBackends(model);
  if (issues.length > 0) throw invalidProfileError(`backends of profile "${name}"`, issues);
  const by = options.generatedBy ?? 'Rendered by @stellaops/collector-config (renderBackends): change the options and render again rather than editing this file.';
  const header = (what: string): string[] => [`${what} for the StellaOps "${name}" profile.`, by];
  const args = prometheusArgs(model);
  return {
    name,
    model,
    files: [
      { path: 'prometheus/prometheus.yml', content: prometheusYaml(model, header(`Prometheus configuration (retention ${model.retention.prometheus} days: see prometheus.args)`)) },
      {
        path: 'prometheus/prometheus.args',
        content: `${args.join('\n')}\n`,
      },
      { path: 'tempo/tempo.yaml', content: tempoYaml(model, header(`Tempo configuration (block retention ${model.retention.tempo} days)`)) },
      {
        path: 'loki/loki.yaml',
        content: lokiYaml(model, header(`Loki configuration (retention: ${model.retention.lokiHot} days hot, ${model.retention.loki} warm, ${model.retention.lokiCold} cold)`)),
      },
    ],
  };
}
