/**
 * Provider credential rules: one per token format, each anchored on what makes the format
 * recognisable — a vendor prefix (`ghp_`, `SG.`, `hvs.`), a fixed length, an embedded marker
 * (`T3BlbkFJ` in OpenAI keys, `AgEIcHlwaS5vcmc` in PyPI macaroons, `NRAL` ending New Relic
 * license keys) or, for formats with no prefix, the identifier that comes with them (a Twilio
 * auth token after its account SID).
 *
 * A rule runs only when the text scan saw one of its gates: `prefixes` are looked up where a
 * word ends in a separator (`_ - . ~ :`), the other gates are checked in `scrub-text.ts` on the
 * few characters they start with. A string without any gate never runs a token regex.
 */
import type { RedactionClass } from './classes.js';

export interface TokenRule {
  readonly cls: RedactionClass;
  /** Global regex; the whole match is redacted unless `keepsContext`. */
  readonly re: RegExp;
  /** Group 1 is context that identified the secret and is kept; group 2 is redacted. */
  readonly keepsContext?: true;
  /** Literal starts of the token, up to and including its first separator or beyond. */
  readonly prefixes: readonly string[];
}

/**
 * Where a token may start: a word boundary, or just after a JSON/C escape (`\n`, `\t`, `\r`),
 * so a token on the next line of JSON-encoded output is found too.
 */
const S = String.raw`(?:\b|(?<=\\[nrt]))`;
/** What may not follow a token whose body may hold `-` and `_`. */
const END = '(?![A-Za-z0-9_-])';

/** A global regex from a raw template: backslashes are written once, `${S}` marks a token start. */
function rx(strings: TemplateStringsArray, ...parts: string[]): RegExp {
  return new RegExp(String.raw({ raw: strings.raw }, ...parts), 'g');
}

export const TOKEN_RULES: readonly TokenRule[] = [
  {
    cls: 'aws-access-key',
    re: rx`${S}(?:A3T[A-Z0-9]|A(?:KIA|SIA|BIA|CCA|GPA|IDA|IPA|NPA|NVA|PKA|ROA))[A-Z0-9]{16}(?![A-Za-z0-9])`,
    prefixes: [],
  },
  { cls: 'gcp-api-key', re: rx`${S}AIza[0-9A-Za-z_-]{35}${END}`, prefixes: [] },
  {
    cls: 'github-token',
    re: rx`${S}(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9])`,
    prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  {
    cls: 'gitlab-token',
    re: rx`${S}(?:gl(?:pat|dt|rt|ptt|cbt|ft|imt|oas|soat|ffct|agent)-[A-Za-z0-9_.-]{20,}|GR1348941[A-Za-z0-9_-]{20,})`,
    prefixes: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glcbt-', 'glft-', 'glimt-', 'gloas-', 'glsoat-', 'glffct-', 'glagent-'],
  },
  {
    cls: 'slack-token',
    re: rx`${S}(?:xox[abposre]-[A-Za-z0-9-]{10,}|xoxe\.xox[bp]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})`,
    prefixes: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxs-', 'xoxr-', 'xoxe-', 'xoxe.', 'xapp-'],
  },
  {
    cls: 'stripe-key',
    re: rx`${S}(?:(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})`,
    prefixes: ['sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_', 'whsec_'],
  },
  { cls: 'npm-token', re: rx`${S}npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])`, prefixes: ['npm_'] },
  { cls: 'sendgrid-key', re: rx`${S}SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}${END}`, prefixes: ['SG.'] },
  // Twilio: an API key SID, and an auth token (32 hex, no prefix) when its account SID precedes it.
  { cls: 'twilio-key', re: rx`${S}SK[0-9a-fA-F]{32}(?![A-Za-z0-9])`, prefixes: [] },
  {
    cls: 'twilio-key',
    re: rx`(${S}AC[0-9a-f]{32}\b[^\n]{1,40}?)\b([0-9a-f]{32})(?![A-Za-z0-9])`,
    keepsContext: true,
    prefixes: [],
  },
  {
    cls: 'mailgun-key',
    re: rx`${S}(?:(?:pub)?key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?![A-Za-z0-9])`,
    prefixes: ['key-', 'pubkey-'],
  },
  { cls: 'mailchimp-key', re: rx`${S}[0-9a-f]{32}-us\d{1,2}(?![A-Za-z0-9])`, prefixes: [] },
  { cls: 'google-oauth-secret', re: rx`${S}GOCSPX-[A-Za-z0-9_-]{28}${END}`, prefixes: ['GOCSPX-'] },
  {
    cls: 'azure-ad-secret',
    re: rx`(?:(?<![A-Za-z0-9_~.-])|(?<=\\[nrt]))[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])`,
    prefixes: [],
  },
  {
    cls: 'shopify-token',
    re: rx`${S}shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}(?![A-Za-z0-9])`,
    prefixes: ['shpat_', 'shpss_', 'shpca_', 'shppa_'],
  },
  {
    cls: 'square-token',
    // EAAA tokens must not be read out of base64 text (an SRI hash "sha512-EAAA…").
    re: rx`${S}sq0(?:atp-[A-Za-z0-9_-]{22}|csp-[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])|(?:(?<![A-Za-z0-9_+/-])|(?<=\\[nrt]))EAAA[A-Za-z0-9_-]{60}(?![A-Za-z0-9_+/=-])`,
    prefixes: ['sq0atp-', 'sq0csp-'],
  },
  { cls: 'pypi-token', re: rx`${S}pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}`, prefixes: ['pypi-AgEIcHlwaS5vcmc'] },
  { cls: 'dockerhub-token', re: rx`${S}dckr_(?:pat|oat)_[A-Za-z0-9_-]{24,}`, prefixes: ['dckr_pat_', 'dckr_oat_'] },
  {
    cls: 'huggingface-token',
    re: rx`${S}(?:hf|api_org)_[A-Za-z]{34}(?![A-Za-z0-9])`,
    prefixes: ['hf_', 'api_org_'],
  },
  {
    cls: 'anthropic-key',
    re: rx`${S}sk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_-]{40,}`,
    prefixes: ['sk-ant-'],
  },
  {
    // Project, service-account and admin keys, and the older sk- keys: all carry "T3BlbkFJ"
    // (base64 of "OpenAI"); an sk- run of 32+ without it is still taken as a key.
    cls: 'openai-key',
    re: rx`${S}sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|${S}sk-(?!ant-)[A-Za-z0-9]{32,}(?![A-Za-z0-9_-])`,
    prefixes: ['sk-'],
  },
  {
    cls: 'newrelic-key',
    re: rx`${S}(?:NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9_-]{32}|NRAA-[a-f0-9]{27}|[a-f0-9]{36}NRAL)(?![A-Za-z0-9])`,
    prefixes: ['NRAK-', 'NRJS-', 'NRII-', 'NRAA-'],
  },
  { cls: 'heroku-key', re: rx`${S}HRKU-[A-Za-z0-9_-]{58,}`, prefixes: ['HRKU-'] },
  {
    cls: 'digitalocean-token',
    re: rx`${S}do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9])`,
    prefixes: ['dop_v1_', 'doo_v1_', 'dor_v1_'],
  },
  {
    cls: 'atlassian-token',
    re: rx`${S}(?:ATATT3[A-Za-z0-9_=-]{150,}|ATCTT3[A-Za-z0-9_=-]{150,}|ATBB[A-Za-z0-9]{32,})(?![A-Za-z0-9_=-])`,
    prefixes: [],
  },
  {
    cls: 'linear-key',
    re: rx`${S}lin_(?:api_[A-Za-z0-9]{40}|oauth_[a-f0-9]{64})(?![A-Za-z0-9])`,
    prefixes: ['lin_api_', 'lin_oauth_'],
  },
  {
    cls: 'postman-key',
    re: rx`${S}(?:PMAK-[a-f0-9]{24}-[a-f0-9]{34}|PMAT-[A-Za-z0-9]{26})(?![A-Za-z0-9])`,
    prefixes: ['PMAK-', 'PMAT-'],
  },
  {
    cls: 'doppler-token',
    re: rx`${S}dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_-]{1,40}\.)?[A-Za-z0-9]{40,44}(?![A-Za-z0-9])`,
    prefixes: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
  },
  {
    cls: 'vault-token',
    re: rx`${S}hv[sbr]\.[A-Za-z0-9_-]{24,}${END}`,
    prefixes: ['hvs.', 'hvb.', 'hvr.'],
  },
  {
    cls: 'terraform-token',
    re: rx`${S}[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}(?![A-Za-z0-9_=-])`,
    prefixes: ['atlasv1.'],
  },
  {
    cls: 'age-secret-key',
    re: rx`${S}AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}(?![A-Za-z0-9])`,
    prefixes: ['AGE-SECRET-KEY-1'],
  },
  {
    cls: 'grafana-token',
    re: rx`${S}(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,3}|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})(?![A-Za-z0-9+/=])`,
    prefixes: ['glsa_', 'glc_'],
  },
  {
    cls: 'sentry-token',
    re: rx`${S}(?:sntryu_[a-f0-9]{64}|sntrys_[A-Za-z0-9+/=_-]{60,})(?![A-Za-z0-9+/=_-])`,
    prefixes: ['sntryu_', 'sntrys_'],
  },
  { cls: 'databricks-token', re: rx`${S}dapi[a-f0-9]{32}(?:-\d)?(?![A-Za-z0-9])`, prefixes: [] },
  { cls: 'pulumi-token', re: rx`${S}pul-[a-f0-9]{40}(?![A-Za-z0-9])`, prefixes: ['pul-'] },
  {
    cls: 'supabase-token',
    re: rx`${S}(?:sbp_[a-f0-9]{40}(?![A-Za-z0-9])|sb_secret_[A-Za-z0-9_-]{20,}${END})`,
    prefixes: ['sbp_', 'sb_secret_'],
  },
  { cls: 'cloudflare-key', re: rx`${S}v1\.0-[a-f0-9]{24}-[a-f0-9]{146}(?![A-Za-z0-9])`, prefixes: ['v1.0-'] },
  {
    cls: 'dynatrace-token',
    re: rx`${S}dt0[a-z]\d{2}\.[A-Z0-9]{24}\.[A-Z0-9]{64}(?![A-Za-z0-9])`,
    prefixes: ['dt0c01.', 'dt0s01.', 'dt0s02.', 'dt0s08.', 'dt0s16.'],
  },
  {
    // A bot token (`<bot id>:<35 characters>`), also inside https://api.telegram.org/bot<token>/.
    cls: 'telegram-bot-token',
    re: rx`(?<![0-9])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])`,
    prefixes: [],
  },
  {
    // PuTTY key files: from the header to the MAC (or the end of the text, if cut).
    cls: 'private-key',
    re: rx`${S}PuTTY-User-Key-File-\d+:[\s\S]*?(?:Private-MAC:[ \t]*[0-9a-fA-F]+|$)`,
    prefixes: ['PuTTY-User-Key-File-'],
  },
];

/** The rule index for a class (its first rule); the scan gates refer to rules by index. */
export function tokenRuleIndex(cls: RedactionClass, nth = 0): number {
  let seen = 0;
  for (let i = 0; i < TOKEN_RULES.length; i++) {
    if (TOKEN_RULES[i]!.cls === cls && seen++ === nth) return i;
  }
  throw new Error(`no token rule for ${cls}`);
}
