/**
 * Prometheus for a profile: prometheus.yml (scrape jobs for the StellaOps services, the
 * service's /metrics, the Collector and the backends; the SLO and alert rule files; remote
 * write to allowlisted destinations only) and prometheus.args — retention, storage path and
 * listen address are command-line flags of Prometheus, not settings of its file.
 */
import type { YamlMap } from '../profiles/collector-config.js';
import { canonicalYaml } from '../profiles/yaml.js';
import type { BackendsModel } from './model.js';
import { BACKEND_PORTS } from './options.js';

export function prometheusConfig(model: BackendsModel): YamlMap {
  const p = model.prometheus;
  const config: YamlMap = {
    global: { scrape_interval: '15s', evaluation_interval: '15s', external_labels: { stella_profile: model.name } },
    rule_files: [...p.ruleFiles],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...p.alertmanagers] }] }] },
    scrape_configs: p.jobs.map((j) => {
      const job: YamlMap = { job_name: j.job };
      if (j.targets.length > 0) job['static_configs'] = [{ targets: [...j.targets] }];
      // Targets an operator (or a deployment tool) writes; Prometheus follows the file without a restart.
      if (j.fileSd) job['file_sd_configs'] = [{ files: [`targets/${j.job}.json`] }];
      return job;
    }),
    // Exemplars carry trace ids from histograms to traces (jump-to-trace); needs --enable-feature=exemplar-storage.
    storage: { exemplars: { max_exemplars: 100_000 } },
  };
  if (p.remoteWrite.length > 0) {
    config['remote_write'] = p.remoteWrite.map((r) => ({ name: r.name, url: r.url, ...(r.caFile !== undefined ? { tls_config: { ca_file: r.caFile } } : {}) }));
  }
  return config;
}

export function prometheusYaml(model: BackendsModel, header: readonly string[]): string {
  return canonicalYaml(prometheusConfig(model), header, ['global', 'rule_files', 'alerting', 'scrape_configs', 'remote_write', 'storage']);
}

/** The command-line flags of the profile, one per line. */
export function prometheusArgs(model: BackendsModel): string[] {
  const host = model.listenHost.includes(':') ? `[${model.listenHost}]` : model.listenHost;
  return [
    `--storage.tsdb.path=${model.prometheus.dataDir}`,
    `--storage.tsdb.retention.time=${model.retention.prometheus}d`,
    `--web.listen-address=${host}:${BACKEND_PORTS.prometheus}`,
    '--enable-feature=exemplar-storage',
    ...(model.prometheus.remoteWriteReceiver ? ['--web.enable-remote-write-receiver'] : []),
  ];
}
