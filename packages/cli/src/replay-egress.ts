/**
 * Sealed-mode egress for `stella telemetry replay` (CORE-7, COL-5, OFF-2): on a sealed host
 * (`STELLA_SEALED=true`) a capture may be re-sent to loopback only, or to an endpoint the
 * telemetry policy allowlists (`egress.allowlist` of the file `STELLA_TELEMETRY_POLICY` names —
 * the same file and the same guard the services' exporters obey). The decision is
 * telemetry-core's egress guard, so the CLI and the services cannot disagree on what leaves the
 * host; host names are resolved and must all be loopback. A refusal names the endpoint, why, and
 * the guard's remediation, and is raised before any request is made.
 */
import { checkEgress, sealedFromEnv, type EgressVerdict } from '@stellaops/telemetry-core/egress';
import { CliError } from './output.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The environment variable naming the telemetry policy file (telemetry-core's TELEMETRY_POLICY_ENV). */
const POLICY_ENV = 'STELLA_TELEMETRY_POLICY';

export interface ReplayEgressOptions {
  /** Host name resolution (tests). Default: the guard's (`dns.lookup`, every address). */
  readonly resolve?: (host: string) => Promise<string[]>;
}

/** Why the guard blocked an endpoint, in words. */
function because(verdict: EgressVerdict, host: string): string {
  const addresses = verdict.addresses?.join(', ') ?? '';
  switch (verdict.reason) {
    case 'non_loopback_address':
      return `${host} is not a loopback address`;
    case 'resolves_non_loopback':
      return `${host} resolves to ${addresses}, not to loopback only`;
    case 'unresolvable_host':
      return `${host} does not resolve here, and an unknown host counts as egress`;
    default:
      return verdict.reason;
  }
}

/** The sealed-mode egress allowlist of the telemetry policy file, if `STELLA_TELEMETRY_POLICY` names one. */
async function policyAllowlist(env: Env): Promise<string[]> {
  const file = env[POLICY_ENV];
  if (file === undefined || file.trim() === '') return [];
  // Loaded only on a sealed host that names a policy file: the format module brings `yaml`.
  const { loadTelemetryPolicy } = await import('@stellaops/telemetry-core/policy');
  try {
    return [...loadTelemetryPolicy(file).egress.allowlist];
  } catch (cause) {
    throw new CliError('telemetry_policy_invalid', `${POLICY_ENV}=${file}: ${(cause as Error).message}; nothing was sent`, { cause });
  }
}

/**
 * Decides whether a replay may send to `to` (an http(s) URL, checked here). Resolves with the
 * guard's verdict when it may; throws `sealed_egress_blocked` (exit 2) when the host is sealed
 * and the endpoint is neither loopback nor allowlisted.
 */
export async function clearReplayEndpoint(to: string, env: Env, options: ReplayEgressOptions = {}): Promise<EgressVerdict> {
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw new CliError('usage', `--to "${to}" is not a URL (e.g. http://127.0.0.1:4318)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError('usage', `--to "${to}" is not an OTLP/HTTP URL: use http:// or https:// (e.g. http://127.0.0.1:4318)`);
  const sealed = sealedFromEnv(env);
  const allowlist = sealed ? await policyAllowlist(env) : [];
  const verdict = await checkEgress(to, { sealed, allowlist, ...(options.resolve ? { resolve: options.resolve } : {}) });
  if (verdict.allowed) return verdict;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const policy = env[POLICY_ENV]?.trim() ? `${POLICY_ENV}=${env[POLICY_ENV]} allowlists ${allowlist.length ? allowlist.join(', ') : 'nothing'}` : `no ${POLICY_ENV} file is set, so nothing is allowlisted`;
  throw new CliError(
    'sealed_egress_blocked',
    `sealed installation (STELLA_SEALED=${env['STELLA_SEALED']}): replay to ${verdict.endpoint} refused (${verdict.reason}): ${because(verdict, host)}; nothing was sent`,
    { hint: `${verdict.remediation ?? 'replay to a loopback endpoint'} (${policy}); a replay on a sealed host goes to the local service, e.g. --to http://127.0.0.1:4318` },
  );
}
