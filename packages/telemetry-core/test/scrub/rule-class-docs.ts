/**
 * One row per redaction class for docs/redaction-and-privacy.md ("Rule classes"): what the
 * class matches, the shape of a value (fake, and cut short with "…" so that no example is a
 * whole token), and what the scrubber writes. `rule-class-docs.test.ts` holds the document to
 * these rows, the rows to `REDACTION_CLASSES`, and each `writes` to the scrubber's real output
 * on the labelled corpus.
 */
export interface RuleClassDoc {
  cls: string;
  matches: string;
  /** A value's shape with fake characters; `‹n›` stands for n more characters of the token's alphabet. */
  example: string;
  /** Text the scrubbed output of a corpus line of this class contains. */
  writes: string;
}

export const RULE_CLASS_DOCS: readonly RuleClassDoc[] = [
  {
    cls: 'key',
    matches:
      'values under sensitive keys (see *Key rules*); in free text `password=…`, `secret: …`, `token=…`, `api_key=…`, `app_key=…`, `license_key=…`, `client_secret=…`, `"password":"…"` (JSON inside strings, also escaped `\\"…\\"`), `key => "…"` and `key := "…"`, query strings `?token=…&`, `Cookie:` / `Set-Cookie:` headers, `--password …` style flags and `password \'…\'`',
    example: 'db_password=hunter2x',
    writes: 'password=[REDACTED:key]',
  },
  { cls: 'jwt', matches: '`eyJ….eyJ….…` tokens, also right after a `\\n` escape in JSON-encoded text', example: 'eyJhbGciOi….eyJzdWIiOi….‹43›', writes: '[REDACTED:jwt]' },
  { cls: 'email', matches: 'e-mail addresses (not `git@host:` remotes)', example: 'alice@example.com', writes: '[REDACTED:email]' },
  {
    cls: 'path',
    matches:
      'absolute paths outside `repoRoot`: POSIX paths under well-known roots (`/home`, `/Users`, `/root`, `/etc`, `/var`, `/tmp`, `/opt`, `/usr`, `/srv`, `/mnt`, `/app`, `/data`, …), Windows drive and UNC paths, `file://` URLs; paths inside `repoRoot` are rewritten repo-relative',
    example: '/home/alice/.ssh/id_ed25519',
    writes: '[REDACTED:path]',
  },
  {
    cls: 'private-key',
    matches:
      'PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8), PGP private key blocks, SSH2 (`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`) and PuTTY key files (`PuTTY-User-Key-File-N:` to `Private-MAC:`); a block cut before its end is redacted to the end of the string; covers the `private_key` of GCP service-account JSON',
    example: '-----BEGIN ‹kind› PRIVATE KEY-----\\nMIIE…',
    writes: '[REDACTED:private-key]',
  },
  {
    cls: 'url-credentials',
    matches: 'userinfo in any `scheme://user:pass@host` URL (postgres, mysql, mongodb+srv, redis, amqp, http, https, …); scheme, host, port and path are kept',
    example: 'postgres://app:pw…@db:5432/app',
    writes: '://[REDACTED:url-credentials]@',
  },
  {
    cls: 'aws-access-key',
    matches: 'AWS access key ids: `AKIA`, `ASIA`, `AROA`, `AIDA`, `AGPA`, `ANPA`, `ANVA`, `APKA`, `ABIA`, `ACCA`, `A3T?` + 16 upper-case letters and digits',
    example: 'AKIA‹16›',
    writes: '[REDACTED:aws-access-key]',
  },
  {
    cls: 'aws-secret-key',
    matches:
      'a free-standing 40-character base64 run with upper case, lower case and a digit or symbol (hex digests and git SHAs do not qualify), and `aws_secret_access_key=` / `SecretAccessKey` assignments',
    example: 'kP3xR/7aBq…‹30›',
    writes: '[REDACTED:aws-secret-key]',
  },
  { cls: 'gcp-api-key', matches: 'Google API keys: `AIza` + 35 characters', example: 'AIzaSyD4…‹31›', writes: '[REDACTED:gcp-api-key]' },
  { cls: 'azure-key', matches: '`AccountKey=` / `SharedAccessKey=` in Azure connection strings', example: 'AccountKey=Zm9vYmFy…==', writes: 'AccountKey=[REDACTED:azure-key]' },
  { cls: 'azure-sas', matches: '`sig=` of SAS URLs, `SharedAccessSignature=`', example: '…&sp=r&sig=abc%2Bdef…', writes: 'sig=[REDACTED:azure-sas]' },
  {
    cls: 'github-token',
    matches: '`ghp_`, `gho_`, `ghs_`, `ghu_`, `ghr_` + 36 or more letters and digits; fine-grained `github_pat_…`',
    example: 'ghp_xK9fQ2…‹30›',
    writes: '[REDACTED:github-token]',
  },
  {
    cls: 'gitlab-token',
    matches: '`glpat-`, `gldt-`, `glrt-`, `glptt-`, `glcbt-`, `glft-`, `glimt-`, `gloas-`, `glsoat-`, `glffct-`, `glagent-` + 20 or more characters; runner registration tokens `GR1348941…`',
    example: 'glpat-Xy12…‹16›',
    writes: '[REDACTED:gitlab-token]',
  },
  {
    cls: 'slack-token',
    matches: '`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxo-`, `xoxe-`, `xoxe.xoxp-` tokens and app tokens `xapp-1-…`',
    example: 'xoxb-1234…-…',
    writes: '[REDACTED:slack-token]',
  },
  {
    cls: 'slack-webhook',
    matches: 'the path of `https://hooks.slack.com/services/…` (also workflows, triggers)',
    example: 'https://hooks.slack.com/services/T0…/B0…/…',
    writes: 'https://hooks.slack.com/services/[REDACTED:slack-webhook]',
  },
  {
    cls: 'stripe-key',
    matches: 'secret and restricted keys `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` (and `_prod_`), webhook secrets `whsec_`; publishable `pk_` keys and object ids (`cus_`, `ch_`, `pi_`) are not secrets and are kept',
    example: 'sk_live_4eC3…‹20›',
    writes: '[REDACTED:stripe-key]',
  },
  { cls: 'npm-token', matches: '`npm_` + 36 letters and digits', example: 'npm_Ab12…‹32›', writes: '[REDACTED:npm-token]' },
  {
    cls: 'bearer',
    matches: '`Bearer …`, `Token …`, `Negotiate …` credentials (credential-shaped values, or any value after `Authorization:`)',
    example: 'Authorization: Bearer abcDEF123…',
    writes: 'Bearer [REDACTED:bearer]',
  },
  { cls: 'basic-auth', matches: '`Basic …` credentials', example: 'Authorization: Basic YWxpY2U6…', writes: 'Basic [REDACTED:basic-auth]' },
  { cls: 'sendgrid-key', matches: 'SendGrid API keys: `SG.` + 22 + `.` + 43 characters', example: 'SG.ngeVfQFY…‹18›.…‹43›', writes: '[REDACTED:sendgrid-key]' },
  {
    cls: 'twilio-key',
    matches: 'API key SIDs `SK` + 32 hex; an auth token (32 hex) when its account SID `AC` + 32 hex comes just before it (`AC…:token`, `Client(\'AC…\', \'…\')`), or under a key naming Twilio',
    example: 'SK2b7f…‹28›',
    writes: '[REDACTED:twilio-key]',
  },
  {
    cls: 'mailgun-key',
    matches: 'Mailgun keys `key-` + 32 hex (and `pubkey-`), and the `<32 hex>-<8 hex>-<8 hex>` private key format',
    example: 'key-3ax6…‹28›',
    writes: '[REDACTED:mailgun-key]',
  },
  { cls: 'mailchimp-key', matches: 'Mailchimp API keys: 32 hex + `-us` + data-centre number', example: '0a1b2c…‹26›-us14', writes: '[REDACTED:mailchimp-key]' },
  { cls: 'google-oauth-secret', matches: 'Google OAuth client secrets: `GOCSPX-` + 28 characters', example: 'GOCSPX-1a2B…‹24›', writes: '[REDACTED:google-oauth-secret]' },
  {
    cls: 'azure-ad-secret',
    matches: 'Azure AD (Entra ID) client secrets: 3 characters, a digit, `Q~`, then 31–34 characters',
    example: 'abc8Q~Xy1…‹28›',
    writes: '[REDACTED:azure-ad-secret]',
  },
  { cls: 'shopify-token', matches: 'Shopify `shpat_`, `shpss_`, `shpca_`, `shppa_` + 32 hex', example: 'shpat_0f1e…‹28›', writes: '[REDACTED:shopify-token]' },
  {
    cls: 'square-token',
    matches: 'Square `sq0atp-` + 22 and `sq0csp-` + 43 characters, access tokens `EAAA` + 60 (not inside base64 text such as `sha512-EAAA…`); application ids `sq0idp-` are kept',
    example: 'sq0atp-Ab1…‹19›',
    writes: '[REDACTED:square-token]',
  },
  { cls: 'pypi-token', matches: 'PyPI API tokens: `pypi-AgEIcHlwaS5vcmc` + 50 or more characters', example: 'pypi-AgEIcHlwaS5vcmc…', writes: '[REDACTED:pypi-token]' },
  { cls: 'dockerhub-token', matches: 'Docker Hub personal and organisation access tokens `dckr_pat_`, `dckr_oat_` + 24 or more characters', example: 'dckr_pat_2bX…', writes: '[REDACTED:dockerhub-token]' },
  { cls: 'huggingface-token', matches: 'Hugging Face `hf_` + 34 letters, organisation tokens `api_org_` + 34 letters', example: 'hf_AbCdEf…‹28›', writes: '[REDACTED:huggingface-token]' },
  {
    cls: 'openai-key',
    matches: 'OpenAI keys carrying `T3BlbkFJ`: `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`, older `sk-…`; and any `sk-` + 32 or more letters and digits (OpenAI-compatible APIs)',
    example: 'sk-proj-Ab3…T3BlbkFJ…',
    writes: '[REDACTED:openai-key]',
  },
  { cls: 'anthropic-key', matches: 'Anthropic keys `sk-ant-api03-…`, `sk-ant-admin01-…`, `sk-ant-oat01-…` (40 or more characters after the type)', example: 'sk-ant-api03-Xy…', writes: '[REDACTED:anthropic-key]' },
  {
    cls: 'datadog-key',
    matches: 'Datadog API keys (32 hex) and application keys (40 hex) under `DD_API_KEY`, `DD_APP_KEY`, `DD-API-KEY:`, `DD-APPLICATION-KEY:`, or any credential key with "datadog" in it or just before it',
    example: 'DD_API_KEY=9f86d0…‹26›',
    writes: 'DD_API_KEY=[REDACTED:datadog-key]',
  },
  { cls: 'newrelic-key', matches: 'New Relic `NRAK-` (user), `NRJS-` (browser), `NRII-` (insert), `NRAA-` keys and license keys ending in `NRAL`', example: 'NRAK-7XQ2…‹23›', writes: '[REDACTED:newrelic-key]' },
  { cls: 'heroku-key', matches: 'Heroku API keys `HRKU-` + 58 or more characters; older UUID keys under a key naming Heroku', example: 'HRKU-AAx1y…‹55›', writes: '[REDACTED:heroku-key]' },
  { cls: 'digitalocean-token', matches: 'DigitalOcean `dop_v1_`, `doo_v1_`, `dor_v1_` + 64 hex', example: 'dop_v1_4f2a…‹60›', writes: '[REDACTED:digitalocean-token]' },
  { cls: 'atlassian-token', matches: 'Atlassian API tokens `ATATT3…` / `ATCTT3…` (150 or more characters), Bitbucket app passwords `ATBB…`', example: 'ATATT3xFfGF0…', writes: '[REDACTED:atlassian-token]' },
  { cls: 'linear-key', matches: 'Linear API keys `lin_api_` + 40 characters, OAuth tokens `lin_oauth_` + 64 hex', example: 'lin_api_Qw3…‹37›', writes: '[REDACTED:linear-key]' },
  { cls: 'postman-key', matches: 'Postman API keys `PMAK-` + 24 hex + `-` + 34 hex, collection keys `PMAT-` + 26', example: 'PMAK-65a1…-…', writes: '[REDACTED:postman-key]' },
  { cls: 'doppler-token', matches: 'Doppler `dp.pt.`, `dp.st.` (optionally `dp.st.<config>.`), `dp.sa.`, `dp.ct.`, `dp.scim.`, `dp.audit.` + 40–44 characters', example: 'dp.st.dev.Xy9…', writes: '[REDACTED:doppler-token]' },
  { cls: 'vault-token', matches: 'HashiCorp Vault service, batch and recovery tokens `hvs.`, `hvb.`, `hvr.` + 24 or more characters', example: 'hvs.CAESI…', writes: '[REDACTED:vault-token]' },
  { cls: 'terraform-token', matches: 'Terraform Cloud / Enterprise API tokens: 14 characters + `.atlasv1.` + 60–70 characters', example: 'x8ab…‹10›.atlasv1.…', writes: '[REDACTED:terraform-token]' },
  { cls: 'age-secret-key', matches: 'age identities `AGE-SECRET-KEY-1` + 58 bech32 characters; `age1…` recipients (public) are kept', example: 'AGE-SECRET-KEY-1QYZ…‹55›', writes: '[REDACTED:age-secret-key]' },
  { cls: 'grafana-token', matches: 'Grafana service-account tokens `glsa_…_<8 hex>`, Grafana Cloud tokens `glc_…`, API keys `eyJrIjoi…`', example: 'glsa_Ab12…_0f1e2d3c', writes: '[REDACTED:grafana-token]' },
  { cls: 'sentry-token', matches: 'Sentry user tokens `sntryu_` + 64 hex, organisation tokens `sntrys_…`', example: 'sntryu_9c1d…‹60›', writes: '[REDACTED:sentry-token]' },
  { cls: 'databricks-token', matches: 'Databricks personal access tokens `dapi` + 32 hex (optionally `-N`)', example: 'dapi1a2b…‹28›', writes: '[REDACTED:databricks-token]' },
  { cls: 'pulumi-token', matches: 'Pulumi access tokens `pul-` + 40 hex', example: 'pul-7d3e…‹36›', writes: '[REDACTED:pulumi-token]' },
  { cls: 'supabase-token', matches: 'Supabase access tokens `sbp_` + 40 hex, secret keys `sb_secret_…`', example: 'sbp_5c2a…‹36›', writes: '[REDACTED:supabase-token]' },
  {
    cls: 'cloudflare-key',
    matches: 'Cloudflare Origin CA keys `v1.0-` + 24 hex + `-` + 146 hex; API tokens under a key naming Cloudflare',
    example: 'v1.0-3ad1…-…',
    writes: '[REDACTED:cloudflare-key]',
  },
  { cls: 'dynatrace-token', matches: 'Dynatrace tokens `dt0c01.` (and `dt0s…`) + 24 + `.` + 64 upper-case characters', example: 'dt0c01.ABC1…‹20›.…‹64›', writes: '[REDACTED:dynatrace-token]' },
  {
    cls: 'telegram-bot-token',
    matches: 'Telegram bot tokens `<bot id>:AA…` (35 characters after the colon), also inside `https://api.telegram.org/bot<token>/…`',
    example: '123456789:AAF1x…‹31›',
    writes: '/bot[REDACTED:telegram-bot-token]/',
  },
  {
    cls: 'discord-webhook',
    matches: 'the id and token of `https://discord.com/api/webhooks/…` (also `discordapp.com`)',
    example: 'https://discord.com/api/webhooks/1234…/…',
    writes: 'https://discord.com/api/webhooks/[REDACTED:discord-webhook]',
  },
  {
    cls: 'teams-webhook',
    matches: 'the path of Microsoft Teams incoming webhooks `https://<tenant>.webhook.office.com/webhookb2/…`',
    example: 'https://acme.webhook.office.com/webhookb2/…',
    writes: '.webhook.office.com/webhookb2/[REDACTED:teams-webhook]',
  },
];

/** The Markdown table the document carries between its rule-class markers. */
export function renderRuleClassTable(rows: readonly RuleClassDoc[] = RULE_CLASS_DOCS): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;
  return [
    '| Class | What it matches | Example shape (fake, cut short) | Written as |',
    '|---|---|---|---|',
    ...rows.map((r) => `| \`${r.cls}\` | ${cell(r.matches)} | ${cell(code(r.example))} | ${cell(code(r.writes))} |`),
  ].join('\n');
}

export const DOC_BEGIN = '<!-- rule-classes:begin (generated from packages/telemetry-core/test/scrub/rule-class-docs.ts; STELLA_WRITE_DOCS=1 npx vitest run packages/telemetry-core/test/scrub/rule-class-docs.test.ts) -->';
export const DOC_END = '<!-- rule-classes:end -->';
