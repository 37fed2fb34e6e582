/**
 * Labelled corpus for the scrubber: realistic log lines built from templates with values from
 * a seeded PRNG (see `corpus-gen.ts`), so the corpus is identical on every run and no committed
 * file holds anything that looks like a real credential (token-shaped values exist only at test
 * time).
 *
 * Positive lines carry one secret or piece of PII (`secret` is the substring that must vanish)
 * and are grouped by the redaction class expected to catch it; negative lines carry
 * identifiers that must survive byte-for-byte. This is the tuning corpus: the rules were written
 * against it. `corpus-holdout.ts` holds lines of other shapes, kept apart to measure the rules
 * honestly.
 */
import { ALNUM, B64, B64URL, DIGITS, Gen, HEX, LOWER, UPPER, jwt, pem, pgpKey, puttyKey, TOKENS as T } from './corpus-gen.js';

export interface PositiveLine {
  /** The redaction class expected to catch the secret (its marker's class). */
  kind: string;
  line: string;
  /** Substring that must no longer appear after scrubbing. */
  secret: string;
  /** A documented blind spot: counted in recall, not expected to be caught. */
  knownMiss?: boolean;
}

export interface NegativeLine {
  kind: string;
  line: string;
}

export type PositiveTemplate = (g: Gen) => { line: string; secret: string; knownMiss?: boolean };
export type NegativeTemplate = (g: Gen) => string;

/** Repository root the corpus is scrubbed with. */
export const CORPUS_REPO_ROOT = '/srv/stellaops';

/** A template whose secret is the whole generated value. */
function tpl(value: (g: Gen) => string, line: (v: string, g: Gen) => string): PositiveTemplate {
  return (g) => {
    const v = value(g);
    return { line: line(v, g), secret: v };
  };
}

const POSITIVE: Record<string, PositiveTemplate[]> = {
  'aws-access-key': [
    tpl(T.awsAccessKey, (k, g) => `s3 upload failed for bucket ${g.word()}-artifacts using access key ${k}`),
    tpl(T.awsAccessKey, (k) => `env AWS_ACCESS_KEY_ID=${k} AWS_REGION=eu-west-1`),
    tpl(T.awsAccessKey, (k, g) => `{"Credentials":{"AccessKeyId":"${k}","Expiration":"${g.ts()}"}}`),
  ],
  'aws-secret-key': [
    tpl(T.awsSecretKey, (k) => `aws_secret_access_key=${k}`),
    tpl((g) => g.mixed(ALNUM, 40), (k, g) => `loaded static credentials from profile ${g.word()}: secret key ${k}`),
    tpl(T.awsSecretKey, (k) => `{"SecretAccessKey": "${k}", "SessionToken": null}`),
  ],
  'gcp-api-key': [
    tpl(T.gcpApiKey, (k) => `maps geocode request https://maps.googleapis.com/maps/api/geocode/json?address=x&key=${k}`),
    tpl(T.gcpApiKey, (k, g) => `firebase init with apiKey ${k} project ${g.word()}-prod`),
    tpl(T.gcpApiKey, (k) => `youtube quota exceeded for ${k}`),
  ],
  'azure-key': [
    tpl(
      (g) => g.b64(64),
      (k, g) => `DefaultEndpointsProtocol=https;AccountName=${g.word()}store;AccountKey=${k};EndpointSuffix=core.windows.net`,
    ),
    tpl(
      (g) => g.b64(32),
      (k, g) => `Endpoint=sb://${g.word()}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${k}`,
    ),
  ],
  'azure-sas': [
    tpl(
      (g) => encodeURIComponent(g.b64(32)),
      (sig, g) =>
        `GET https://${g.word()}.blob.core.windows.net/sbom/${g.uuid()}.json?sv=2022-11-02&ss=b&srt=o&sp=r&se=2024-12-31T00:00:00Z&sig=${sig} 403`,
    ),
  ],
  'github-token': [
    tpl(T.github, (t, g) => `git clone https://github.com/stellaops/${g.word()}.git with token ${t}`),
    tpl((g) => T.github(g, 1), (t) => `GITHUB_TOKEN=${t}`),
    tpl(T.github, (t) => `webhook delivery failed: remote rejected credential ${t} (401)`),
  ],
  'gitlab-token': [
    tpl(T.gitlab, (t, g) => `gitlab api ${g.host()} PRIVATE-TOKEN ${t} rejected`),
    tpl(T.gitlab, (t) => `registry login -u ci -p ${t} registry.gitlab.com`),
    tpl(T.gitlabRunnerRegistration, (t) => `gitlab-runner register --non-interactive --registration-token ${t}`),
  ],
  'slack-token': [tpl(T.slack, (t) => `notify: slack client initialised with ${t}`), tpl(T.slack, (t) => `{"ok":false,"error":"invalid_auth","token":"${t}"}`)],
  'slack-webhook': [
    (g) => {
      const path = `T${g.chars(UPPER + DIGITS, 8)}/B${g.chars(UPPER + DIGITS, 10)}/${g.chars(ALNUM, 24)}`;
      return { line: `POST https://hooks.slack.com/services/${path} -> 200`, secret: path };
    },
  ],
  'stripe-key': [
    tpl(T.stripe, (t) => `billing: charge failed with key ${t}`),
    tpl(T.stripe, (t) => `STRIPE_KEY=${t} ./run-billing`),
    tpl(T.stripeWebhook, (t) => `stripe webhook signature check using ${t} failed`),
  ],
  'npm-token': [
    tpl(T.npm, (t) => `//registry.npmjs.org/:_authToken=${t}`),
    tpl(T.npm, (t, g) => `publish @stellaops/${g.word()} using automation token ${t}`),
  ],
  bearer: [
    tpl((g) => g.mixed(ALNUM + '-._~', 32), (t, g) => `outgoing request GET https://${g.host()}/v1/findings headers Authorization: Bearer ${t}`),
    tpl((g) => g.mixed(ALNUM, 40), (t, g) => `curl -H "Authorization: Bearer ${t}" https://${g.host()}/api`),
    tpl((g) => g.mixed(ALNUM, 28), (t) => `{"headers":{"authorization":"Bearer ${t}","accept":"application/json"}}`),
  ],
  'basic-auth': [
    tpl((g) => Buffer.from(`${g.user()}:${g.password()}`).toString('base64'), (t) => `proxy auth header: Basic ${t}`),
    tpl((g) => Buffer.from(`ci:${g.password()}`).toString('base64'), (t) => `Authorization: Basic ${t}`),
  ],
  jwt: [
    tpl(jwt, (t, g) => `validated id_token ${t} for client ${g.word()}`),
    tpl(jwt, (t) => `ws upgrade /stream?access_token=${t}&v=2`),
    tpl(jwt, (t) => `refresh failed for session cookie stella_session=${t}; Path=/; HttpOnly`),
  ],
  'private-key': [
    (g) => {
      const k = pem(g, g.pick(['RSA', 'EC', 'OPENSSH', 'ENCRYPTED', 'DSA', '']));
      return { line: `loaded signing key:\n${k.text}\n`, secret: k.body };
    },
    (g) => {
      const k = pem(g, 'RSA');
      return { line: `config dump {"tls":{"key":${JSON.stringify(k.text)}}}`, secret: k.body };
    },
    (g) => {
      const k = pem(g, '');
      const json = JSON.stringify({ type: 'service_account', project_id: `${g.word()}-prod`, private_key: k.text });
      return { line: `loaded service account ${json}`, secret: k.body };
    },
    (g) => {
      const k = pgpKey(g);
      return { line: `gpg import:\n${k.text}`, secret: k.body };
    },
    (g) => {
      const k = puttyKey(g);
      return { line: `deploy key file contents:\n${k.text}`, secret: k.body };
    },
  ],
  'url-credentials': [
    (g) => {
      const pw = g.password().replace(/[#%^!*]/g, 'x');
      const scheme = g.pick(['postgres', 'postgresql', 'mysql', 'mongodb', 'redis', 'rediss', 'amqp', 'amqps']);
      return { line: `connecting to ${scheme}://${g.user()}:${pw}@${g.host()}:5432/${g.word()}`, secret: pw };
    },
    (g) => {
      const pw = g.mixed(ALNUM, 16);
      return { line: `mongo uri mongodb+srv://svc_${g.word()}:${pw}@cluster0.${g.word()}.mongodb.net/app?retryWrites=true`, secret: pw };
    },
    (g) => {
      const pw = g.mixed(ALNUM, 14);
      return { line: `fetch ${g.pick(['https', 'http'])}://deploy:${pw}@${g.host()}/artifacts/${g.word()}.tgz failed: ECONNRESET`, secret: pw };
    },
  ],
  key: [
    tpl((g) => g.password(), (pw, g) => `db connect user=${g.user()} password=${pw} host=${g.host()}`),
    tpl((g) => g.password(), (pw, g) => `payload {"username":"${g.user()}","password":"${pw}","remember":true}`),
    tpl((g) => g.mixed(ALNUM, 24), (t, g) => `GET /api/v1/export?tenant=${g.word()}&token=${t}&format=spdx 200`),
    tpl((g) => g.mixed(ALNUM, 32), (t, g) => `client registered client_id=${g.word()} client_secret=${t}`),
    tpl((g) => g.mixed(ALNUM, 32), (t, g) => `calling feed with api_key=${t} page=${g.int(9)}`),
    tpl((g) => g.password(), (s, g) => `vault: wrote secret: ${s} to kv/${g.word()}`),
    tpl((g) => g.password(), (s) => `smtp relay passwd: ${s}`),
    tpl((g) => g.mixed(ALNUM, 20), (s) => `message body {\\"apiKey\\":\\"${s}\\",\\"region\\":\\"eu\\"}`),
    tpl((g) => g.password(), (pw) => `export DB_PASS=${pw}`),
    tpl((g) => g.mixed(ALNUM, 16), (pw, g) => `exec: stella-migrate --db-password ${pw} --host ${g.host()}`),
    tpl((g) => g.mixed(ALNUM, 32), (t) => `request headers X-Api-Key: ${t} Accept: */*`),
    tpl((g) => g.mixed(ALNUM, 26), (t) => `Set-Cookie: session=${t}; Path=/; Secure; HttpOnly`),
    tpl((g) => g.password(), (pw, g) => `login failed: wrong password '${pw}' for ${g.user()}`),
    // A known blind spot, kept so the recall figure stays honest: a password glued to a
    // one-letter flag cannot be told from other flags without knowing the command.
    (g) => {
      const pw = g.mixed(ALNUM, 12);
      return { line: `exec: mysql -u root -p${pw} ${g.word()}`, secret: pw, knownMiss: true };
    },
  ],
  email: [
    tpl((g) => g.email(), (e, g) => `user ${e} signed in from ${g.host()}`),
    tpl((g) => g.email(), (e, g) => `notify: sending digest to <${e}> for tenant ${g.word()}`),
    tpl((g) => g.email(), (e, g) => `{"actor":"${e}","action":"policy.publish","policy_version":"v${g.int(9)}"}`),
  ],
  path: [
    tpl((g) => `/home/${g.user()}/.ssh/id_${g.pick(['rsa', 'ed25519'])}`, (p) => `reading deploy key from ${p}`),
    tpl((g) => `/Users/${g.user()}/work/${g.word()}/config.yaml`, (p) => `config loaded from ${p}`),
    tpl((g) => `C:\\Users\\${g.user()}\\AppData\\Local\\stella\\cache.db`, (p) => `cache open failed: ${p}`),
    tpl((g) => `/var/lib/${g.word()}/${g.uuid()}.lock`, (p) => `Error: EACCES: permission denied, open '${p}'`),
    tpl((g) => `/opt/${g.word()}/node_modules/pg/lib/client.js`, (p) => `    at Client._handleErrorMessage (${p}:335:17)`),
  ],
  // Provider credentials.
  'sendgrid-key': [
    tpl(T.sendgrid, (k) => `SENDGRID_API_KEY=${k}`),
    tpl(T.sendgrid, (k, g) => `mail: sendgrid rejected key ${k} for template ${g.word()}`),
    tpl(T.sendgrid, (k) => `{"provider":"sendgrid","apiKey":"${k}"}`),
  ],
  'twilio-key': [
    tpl(T.twilioApiKey, (k, g) => `sms: twilio client created with api key ${k} for ${g.word()}`),
    tpl(T.twilioAuthToken, (t, g) => `twilio: account ${T.twilioAccountSid(g)} auth token ${t}`),
    tpl(T.twilioAuthToken, (t) => `TWILIO_AUTH_TOKEN=${t}`),
    tpl(T.twilioAuthToken, (t, g) => `POST https://api.twilio.com/2010-04-01/Accounts using ${T.twilioAccountSid(g)}:${t}`),
  ],
  'mailgun-key': [
    tpl(T.mailgun, (k) => `mailgun send failed with ${k}: 401 Forbidden`),
    tpl(T.mailgun, (k) => `MAILGUN_API_KEY=${k}`),
    tpl(T.mailgun, (k, g) => `mail: using api:${k} for domain mg.${g.word()}.example`),
  ],
  'mailchimp-key': [
    tpl(T.mailchimp, (k) => `mailchimp list sync failed: key ${k} revoked`),
    tpl(T.mailchimp, (k) => `MAILCHIMP_API_KEY=${k}`),
  ],
  'google-oauth-secret': [
    tpl(T.googleOauthSecret, (s, g) => `oauth: google client ${g.chars(DIGITS, 12)}-${g.chars(LOWER + DIGITS, 32)}.apps.googleusercontent.com secret ${s}`),
    tpl(T.googleOauthSecret, (s) => `{"web":{"client_secret":"${s}","redirect_uris":["https://app.example/cb"]}}`),
    tpl(T.googleOauthSecret, (s) => `token exchange failed for ${s}: invalid_client`),
  ],
  'azure-ad-secret': [
    tpl(T.azureAdSecret, (s, g) => `msal: acquiring token for app ${g.uuid()} with secret ${s}`),
    tpl(T.azureAdSecret, (s) => `AZURE_CLIENT_SECRET=${s}`),
    tpl(T.azureAdSecret, (s) => `{"clientSecret": "${s}", "tenant": "common"}`),
  ],
  'shopify-token': [
    tpl(T.shopify, (t, g) => `shopify admin api ${g.word()}.myshopify.com token ${t} denied`),
    tpl(T.shopify, (t) => `X-Shopify-Access-Token: ${t}`),
  ],
  'square-token': [
    tpl(T.square, (t) => `square payments: using credential ${t}`),
    tpl(T.square, (t) => `SQUARE_ACCESS_TOKEN=${t}`),
  ],
  'pypi-token': [
    tpl(T.pypi, (t) => `twine upload --username __token__ --password ${t} dist/*`),
    tpl(T.pypi, (t) => `pip config: index-url token ${t}`),
  ],
  'dockerhub-token': [
    tpl(T.dockerhub, (t, g) => `docker login -u ${g.user()} -p ${t} docker.io`),
    tpl(T.dockerhub, (t) => `registry auth with ${t} failed: unauthorized`),
  ],
  'huggingface-token': [
    tpl(T.huggingface, (t, g) => `model download ${g.word()}/${g.word()}-7b with ${t}`),
    tpl(T.huggingface, (t) => `HF_TOKEN=${t}`),
  ],
  'openai-key': [
    tpl(T.openai, (k) => `OPENAI_API_KEY=${k}`),
    tpl(T.openai, (k) => `llm: openai request failed (401) for key ${k}`),
  ],
  'anthropic-key': [
    tpl(T.anthropic, (k) => `ANTHROPIC_API_KEY=${k}`),
    tpl(T.anthropic, (k) => `llm: anthropic client x-api-key ${k} rejected`),
  ],
  'datadog-key': [
    tpl(T.datadogApiKey, (k) => `DD_API_KEY=${k}`),
    tpl(T.datadogAppKey, (k) => `DD_APP_KEY=${k}`),
    tpl(T.datadogApiKey, (k) => `datadog_api_key: ${k}`),
    tpl(T.datadogAppKey, (k) => `{"datadog":{"application_key":"${k}"}}`),
  ],
  'newrelic-key': [
    tpl(T.newrelic, (k) => `NEW_RELIC_API_KEY=${k}`),
    tpl(T.newrelic, (k) => `newrelic: graphql query denied for ${k}`),
  ],
  'heroku-key': [tpl(T.heroku, (k) => `HEROKU_API_KEY=${k}`), tpl(T.heroku, (k) => `heroku releases: authenticated with ${k}`)],
  'digitalocean-token': [
    tpl(T.digitalocean, (t) => `doctl auth init --access-token ${t}`),
    tpl(T.digitalocean, (t) => `DIGITALOCEAN_TOKEN=${t}`),
  ],
  'atlassian-token': [
    tpl(T.atlassian, (t, g) => `jira client for ${g.email()} using api token ${t}`),
    tpl(T.atlassian, (t) => `CONFLUENCE_TOKEN=${t}`),
  ],
  'linear-key': [tpl(T.linear, (k) => `LINEAR_API_KEY=${k}`), tpl(T.linear, (k) => `linear graphql: Authorization ${k}`)],
  'postman-key': [tpl(T.postman, (k) => `newman run collection.json --postman-api-key ${k}`), tpl(T.postman, (k) => `X-Api-Key: ${k}`)],
  'doppler-token': [tpl(T.doppler, (t) => `DOPPLER_TOKEN=${t}`), tpl(T.doppler, (t) => `doppler secrets download using ${t}`)],
  'vault-token': [
    tpl(T.vault, (t) => `VAULT_TOKEN=${t}`),
    tpl(T.vault, (t, g) => `vault login ${t} -address=https://${g.host()}:8200`),
    tpl(T.vault, (t) => `X-Vault-Token: ${t}`),
  ],
  'terraform-token': [
    tpl(T.terraform, (t) => `TF_TOKEN_app_terraform_io=${t}`),
    tpl(T.terraform, (t) => `credentials "app.terraform.io" { token = "${t}" }`),
  ],
  'age-secret-key': [
    tpl(T.age, (k) => `sops: age identity ${k}`),
    tpl(T.age, (k) => `SOPS_AGE_KEY=${k}`),
  ],
  'grafana-token': [
    tpl(T.grafana, (t) => `GRAFANA_SERVICE_ACCOUNT_TOKEN=${t}`),
    tpl(T.grafana, (t) => `grafana dashboard sync: token ${t} expired`),
  ],
  'sentry-token': [tpl(T.sentry, (t) => `SENTRY_AUTH_TOKEN=${t}`), tpl(T.sentry, (t) => `sentry-cli releases new using ${t}`)],
  'databricks-token': [tpl(T.databricks, (t) => `DATABRICKS_TOKEN=${t}`), tpl(T.databricks, (t, g) => `jobs api ${g.host()} with ${t}`)],
  'pulumi-token': [tpl(T.pulumi, (t) => `PULUMI_ACCESS_TOKEN=${t}`), tpl(T.pulumi, (t) => `pulumi login failed for ${t}`)],
  'supabase-token': [tpl(T.supabase, (t) => `supabase link --project-ref ${LOWER.slice(0, 20)} using ${t}`), tpl(T.supabase, (t) => `SUPABASE_ACCESS_TOKEN=${t}`)],
  'cloudflare-key': [tpl(T.cloudflare, (k) => `origin ca issue with key ${k}`), tpl(T.cloudflare, (k) => `CF_ORIGIN_CA_KEY=${k}`)],
  'dynatrace-token': [tpl(T.dynatrace, (t) => `DT_API_TOKEN=${t}`), tpl(T.dynatrace, (t) => `Authorization: Api-Token ${t}`)],
  'telegram-bot-token': [
    tpl(T.telegram, (t) => `POST https://api.telegram.org/bot${t}/sendMessage 200`),
    tpl(T.telegram, (t) => `TELEGRAM_BOT_TOKEN=${t}`),
  ],
  'discord-webhook': [
    tpl(T.discordWebhookPath, (p) => `alert sent to https://discord.com/api/webhooks/${p} (204)`),
  ],
  'teams-webhook': [
    tpl(T.teamsWebhookPath, (p, g) => `notify teams https://${g.word()}.webhook.office.com/webhookb2/${p} failed: 400`),
  ],
};

const NEGATIVE: Record<string, NegativeTemplate[]> = {
  digest: [
    (g) => `sbom stored digest=sha256:${g.hex(64)} size=${g.int(99999)}`,
    (g) => `layer sha512:${g.hex(128)} verified`,
    (g) => `attestation subject ${g.hex(64)} matched`,
    (g) => `file checksums md5=${g.hex(32)} sha1=${g.hex(40)}`,
    (g) => `${g.hex(64)}  dist/${g.word()}-linux-amd64.tar.gz`,
  ],
  purl: [
    (g) => `component pkg:npm/${g.word()}@${g.int(9)}.${g.int(20)}.${g.int(30)} resolved`,
    (g) => `vulnerable pkg:maven/org.${g.word()}/${g.word()}-core@2.${g.int(9)}.${g.int(9)}?type=jar found`,
    (g) => `pkg:npm/%40stellaops/${g.word()}@1.${g.int(9)}.0 linked to advisory`,
    (g) => `pkg:golang/github.com/${g.word()}/${g.word()}@v0.${g.int(30)}.${g.int(9)} pinned`,
    (g) => `pkg:pypi/${g.pick(['requests', 'hf-transfer', 'sk-video', 'pypi-simple'])}@2.${g.int(32)}.0 scanned`,
    (g) => `pkg:oci/${g.word()}@sha256%3A${g.hex(64)}?repository_url=ghcr.io/stellaops`,
  ],
  uuid: [
    (g) => `sbom ${g.uuid()} ingested for project ${g.uuid()}`,
    (g) => `job ${g.uuid()} finished in ${g.int(900)}ms`,
    (g) => `request-id: ${g.uuid().toUpperCase()}`,
  ],
  trace: [
    (g) => `traceparent 00-${g.hex(32)}-${g.hex(16)}-01 continued`,
    (g) => `span ${g.hex(16)} parent ${g.hex(16)} trace ${g.hex(32)}`,
    (g) => `dd.trace_id=${g.chars(DIGITS, 19)} dd.span_id=${g.chars(DIGITS, 19)} dd.service=${g.word()}`,
    (g) => `X-Amzn-Trace-Id: Root=1-${g.hex(8)}-${g.hex(24)};Parent=${g.hex(16)};Sampled=1`,
  ],
  base64hash: [
    (g) => `integrity sha512-${g.b64(64)} ok`,
    (g) => `lockfile entry integrity "sha256-${g.b64(32)}"`,
    (g) => `etag "${g.b64(20)}" unchanged`,
    (g) => `go.sum github.com/${g.word()}/${g.word()} v1.${g.int(9)}.0 h1:${g.b64(32)}`,
  ],
  advisory: [
    (g) => `advisory CVE-20${20 + g.int(5)}-${1000 + g.int(40000)} affects ${g.word()}`,
    (g) =>
      `linked GHSA-${g.chars('23456789cfghjmpqrvwx', 4)}-${g.chars('23456789cfghjmpqrvwx', 4)}-${g.chars('23456789cfghjmpqrvwx', 4)} to VEX statement`,
  ],
  semver: [
    (g) => `upgraded ${g.word()} from ${g.int(5)}.${g.int(20)}.${g.int(9)} to ${g.int(5) + 1}.0.0-rc.${g.int(5)}`,
    (g) => `policy engine v${g.int(3)}.${g.int(9)}.${g.int(9)}+build.${g.int(999)} started`,
  ],
  timestamp: [(g) => `window ${g.ts()} .. ${g.ts()} compacted`, (g) => `retention cutoff=${g.ts()} tier=warm`],
  git: [
    (g) => `built from commit ${g.hex(40)} on branch main`,
    (g) => `git rev-parse HEAD -> ${g.hex(40)}`,
    (g) => `merge ${g.hex(7)}..${g.hex(7)} fast-forward`,
  ],
  relpath: [
    (g) => `reading fixtures from test/fixtures/${g.word()}.json`,
    (g) => `compiled src/${g.word()}/${g.word()}.ts in ${g.int(99)}ms`,
  ],
  url: [
    (g) => `fetched https://registry.npmjs.org/${g.word()}/-/${g.word()}-1.${g.int(9)}.0.tgz in ${g.int(500)}ms`,
    (g) => `exporting to http://${g.host()}:4318/v1/traces`,
    (g) => `GET /api/v1/tenants/${g.word()}/findings?page=${g.int(9)}&limit=50 200`,
  ],
  host: [(g) => `resolved ${g.host()} to 10.${g.int(255)}.${g.int(255)}.${g.int(255)}`],
  k8s: [
    (g) => `pod ${g.word()}-worker-${g.hex(10)}-${g.chars(LOWER + DIGITS, 5)} restarted in namespace stella-${g.word()}`,
    (g) => `label app.kubernetes.io/name=${g.word()} app.kubernetes.io/version=${g.int(9)}.${g.int(9)}`,
  ],
  image: [
    (g) => `pulled ghcr.io/stellaops/${g.word()}@sha256:${g.hex(64)}`,
    (g) => `image registry.example.com:5000/${g.word()}/${g.word()}:${g.int(9)}.${g.int(9)}@sha256:${g.hex(64)}`,
  ],
  'provider-ids': [
    (g) => `twilio message ${'SM'}${g.hex(32)} delivered to +1555${g.chars(DIGITS, 7)}`,
    (g) => `stripe charge ${'ch'}_${g.chars(ALNUM, 24)} for customer cus_${g.chars(ALNUM, 14)} succeeded`,
    (g) => `openai response ${'chatcmpl'}-${g.chars(ALNUM, 29)} model gpt-4o-mini tokens=${g.int(4000)}`,
    (g) => `anthropic message msg_01${g.chars(ALNUM, 22)} stop_reason=end_turn`,
    (g) => `slack channel C0${g.chars(UPPER + DIGITS, 8)} ts=${g.chars(DIGITS, 10)}.${g.chars(DIGITS, 6)}`,
    (g) => `terraform run run-${g.chars(ALNUM, 16)} in workspace ws-${g.chars(ALNUM, 16)} applied`,
  ],
  prose: [
    (g) => `password reset requested for user id ${g.int(99999)}`,
    (g) => `token refresh scheduled in ${g.int(600)}s`,
    (g) => `Basic plan quota reached for tenant ${g.word()}`,
    (g) => `tokenizer=${g.word()} max_tokens=${g.int(8192)} author=${g.user()} design=${g.word()}`,
    (g) => `sessions=${g.int(99)} active, keys rotated: ${g.int(9)}`,
    (g) => `bearer token missing on request ${g.uuid()}`,
    (g) => `cloning git@github.com:stellaops/${g.word()}.git`,
  ],
  tricky: [
    (g) => `mounted secretName=${g.word()}-registry-creds into pod`,
    (g) => `token_type=Bearer expires_in=${g.int(3600)} scope=read`,
    (g) => `Authorization header missing for /api/v1/${g.word()}`,
    (g) => `assumed arn:aws:iam::${g.chars(DIGITS, 12)}:role/stella-${g.word()}`,
    (g) => `event id 01${g.chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 24)} appended`,
    (g) => `auth: ok, password_policy=strong, secret_rotation=${g.int(90)}d`,
    (g) => `docker login --password-stdin registry.${g.word()}.example`,
    (g) => `integrity sha512-${'EAAA'}${g.chars(B64, 82)}== verified`,
    (g) => `HF_HUB_ENABLE_HF_TRANSFER=1 hf_hub_download(${g.word()}) task-scheduler disk-pressure=false`,
    (g) => `cache key ${g.hex(32)}-us-east-1 warmed`,
    (g) => `-----${'BEGIN'} CERTIFICATE-----\n${g.b64(48)}\n${g.b64(48)}\n-----END CERTIFICATE-----`,
    (g) => `-----${'BEGIN'} PUBLIC KEY-----\n${g.b64(48)}\n-----END PUBLIC KEY-----`,
    (g) => `ssh-ed25519 ${'AAAAC3NzaC1lZDI1NTE5AAAA'}I${g.chars(B64, 43)} ${g.user()}@${g.word()}`,
    (g) => `square application id sq0idp-${g.chars(B64URL, 22)} registered`,
    (g) => `age recipient age1${g.chars('qpzry9x8gf2tvdw0s3jn54khce6mua7l', 58)} added`,
    (g) => `key fingerprint SHA256:${g.chars(B64.replace('+', ''), 43)} accepted`,
    (g) => `${'HEX'.toLowerCase()} dump ${g.chars(HEX, 32)} ${g.chars(HEX, 32)}`,
  ],
};

function build<T>(templates: Record<string, T[]>, total: number, seed: number, make: (kind: string, t: T, g: Gen) => void): void {
  const g = new Gen(seed);
  const kinds = Object.keys(templates).sort();
  let produced = 0;
  // Round-robin over every template of every kind, so each shape is represented evenly.
  while (produced < total) {
    for (const kind of kinds) {
      for (const t of templates[kind]!) {
        if (produced >= total) return;
        make(kind, t, g);
        produced++;
      }
    }
  }
}

/** Builds `total` positive lines from `templates` (round-robin, deterministic for a seed). */
export function buildPositives(templates: Record<string, PositiveTemplate[]>, total: number, seed: number): PositiveLine[] {
  const out: PositiveLine[] = [];
  build(templates, total, seed, (kind, t, g) => out.push({ kind, ...t(g) }));
  return out;
}

/** Builds `total` negative lines from `templates` (round-robin, deterministic for a seed). */
export function buildNegatives(templates: Record<string, NegativeTemplate[]>, total: number, seed: number): NegativeLine[] {
  const out: NegativeLine[] = [];
  build(templates, total, seed, (kind, t, g) => out.push({ kind, line: t(g) }));
  return out;
}

/** Number of positive templates: a corpus of this size has every shape of every class once. */
const POSITIVE_TEMPLATES = Object.values(POSITIVE).reduce((n, list) => n + list.length, 0);

/** Positive lines of the tuning corpus (deterministic). */
export function positiveCorpus(total = POSITIVE_TEMPLATES * 5): PositiveLine[] {
  return buildPositives(POSITIVE, total, 0x5eed);
}

/** One positive line per template (every shape of every class once), blind spots excluded. */
export function positiveSamples(): PositiveLine[] {
  return positiveCorpus(POSITIVE_TEMPLATES).filter((p) => !p.knownMiss);
}

/** Negative lines of the tuning corpus (deterministic). */
export function negativeCorpus(total = 1200): NegativeLine[] {
  return buildNegatives(NEGATIVE, total, 0xbeef);
}

/** The classes the tuning corpus has positives for. */
export const CORPUS_CLASSES: readonly string[] = Object.keys(POSITIVE).sort();

