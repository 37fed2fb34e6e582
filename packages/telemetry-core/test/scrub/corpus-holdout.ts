/**
 * Held-out corpus: lines the rules were not written against. Other carriers than the tuning
 * corpus (YAML and INI dumps, Python and Ruby reprs, HCL, logfmt, escaped JSON, exception
 * text, request dumps), the second documented shape family of each credential where the
 * provider has one (see `corpus-gen.ts`), and other seeds. Its recall is the figure to quote.
 */
import { ALNUM, DIGITS, LOWER, UPPER, jwt, pem, pgpKey, TOKENS as T, type Gen } from './corpus-gen.js';
import { buildNegatives, buildPositives, type NegativeLine, type NegativeTemplate, type PositiveLine, type PositiveTemplate } from './corpus.js';

function tpl(value: (g: Gen) => string, line: (v: string, g: Gen) => string): PositiveTemplate {
  return (g) => {
    const v = value(g);
    return { line: line(v, g), secret: v };
  };
}
/** Family-1 shape of a factory that has one. */
const f1 = (make: (g: Gen, family?: number) => string) => (g: Gen) => make(g, 1);

const POSITIVE: Record<string, PositiveTemplate[]> = {
  'aws-access-key': [
    tpl(f1(T.awsAccessKey), (k) => `aws_access_key_id = ${k}`),
    tpl(T.awsAccessKey, (k, g) => `botocore.exceptions.ClientError: InvalidAccessKeyId: The AWS Access Key Id ${k} does not exist (bucket ${g.word()})`),
  ],
  'aws-secret-key': [
    tpl(T.awsSecretKey, (k) => `[default]\naws_secret_access_key = ${k}`),
    tpl(T.awsSecretKey, (k) => `{'aws_secret_access_key': '${k}', 'region_name': 'eu-central-1'}`),
  ],
  'gcp-api-key': [
    tpl(f1(T.gcpApiKey), (k) => `GOOGLE_API_KEY: "${k}"`),
    tpl(T.gcpApiKey, (k) => `GET https://www.googleapis.com/youtube/v3/videos?part=id&key=${k}&maxResults=5 403`),
  ],
  'azure-key': [
    tpl((g) => g.b64(64), (k, g) => `  connectionString: "AccountName=${g.word()};AccountKey=${k}"`),
  ],
  'azure-sas': [
    tpl((g) => encodeURIComponent(g.b64(32)), (s, g) => `upload https://${g.word()}.blob.core.windows.net/c/x.bin?sp=racwdl&st=2024-01-01&sig=${s}&sr=c failed`),
  ],
  'github-token': [
    tpl(f1(T.github), (t) => `git config http.extraheader "AUTHORIZATION: token ${t}"`),
    tpl(T.github, (t) => `{'token': '${t}', 'scopes': ['repo']}`),
  ],
  'gitlab-token': [
    tpl(f1(T.gitlab), (t) => `CI_JOB_TOKEN set; deploy token ${t} used for registry pull`),
    tpl(f1(T.gitlab), (t, g) => `gitlab: {"token":"${t}","project":"${g.word()}"}`),
  ],
  'slack-token': [
    tpl(f1(T.slack), (t) => `SLACK_APP_TOKEN="${t}"`),
    tpl(T.slack, (t) => `slack_sdk.errors.SlackApiError: invalid_auth (token=${t})`),
  ],
  'slack-webhook': [
    (g) => {
      const path = `T${g.chars(UPPER + DIGITS, 10)}/B${g.chars(UPPER + DIGITS, 11)}/${g.chars(ALNUM, 24)}`;
      return { line: `alertmanager receiver slack_api_url: https://hooks.slack.com/services/${path}`, secret: path };
    },
  ],
  'stripe-key': [
    tpl(f1(T.stripe), (t) => `Stripe::AuthenticationError: Invalid API Key provided: ${t}`),
    tpl(T.stripe, (t) => `stripe.api_key = '${t}'`),
  ],
  'npm-token': [
    tpl(T.npm, (t) => `NPM_TOKEN: ${t}`),
    tpl(T.npm, (t) => `npm ERR! 403 Forbidden - PUT https://registry.npmjs.org/x - token ${t} lacks publish rights`),
  ],
  bearer: [
    tpl((g) => g.mixed(ALNUM + '-._~+/', 44), (t) => `> GET /v2/_catalog HTTP/1.1\n> Authorization: Bearer ${t}\n> User-Agent: curl/8.5.0`),
    tpl((g) => g.mixed(ALNUM, 36), (t) => `headers={'Authorization': 'Bearer ${t}', 'Accept': '*/*'}`),
  ],
  'basic-auth': [
    tpl((g) => Buffer.from(`${g.user()}:${g.password()}`).toString('base64'), (t) => `proxy_set_header Authorization "Basic ${t}";`),
  ],
  jwt: [
    tpl(jwt, (t) => `oidc: exchange ok {"id_token": "${t}", "expires_in": 3600}`),
    tpl(jwt, (t) => `Cookie: theme=dark; auth=${t}`),
  ],
  'private-key': [
    (g) => {
      const k = pem(g, g.pick(['RSA', 'EC', 'OPENSSH']), '\\n');
      return { line: `helm values: tls.key: "${k.text}"`, secret: k.body };
    },
    (g) => {
      const k = pgpKey(g);
      return { line: `{"signing_key": ${JSON.stringify(k.text)}}`, secret: k.body };
    },
    (g) => {
      const lines = Array.from({ length: 4 }, () => g.b64(48));
      const label = 'SSH2 ENCRYPTED PRIVATE KEY';
      return { line: `key:\n---- ${'BEGIN'} ${label} ----\nComment: "${g.user()}"\n${lines.join('\n')}\n---- END ${label} ----`, secret: lines[1]! };
    },
  ],
  'url-credentials': [
    (g) => {
      const pw = g.mixed(ALNUM, 18);
      return { line: `DATABASE_URL=postgresql+asyncpg://${g.user()}:${pw}@${g.host()}/app`, secret: pw };
    },
    (g) => {
      const pw = g.mixed(ALNUM, 12);
      return { line: `git remote set-url origin https://oauth2:${pw}@gitlab.example.com/team/repo.git`, secret: pw };
    },
  ],
  key: [
    tpl((g) => g.password(), (pw) => `redis:\n  host: cache\n  password: ${pw}\n  db: 0`),
    tpl((g) => g.mixed(ALNUM, 30), (s) => `app_secret => "${s}"`),
    tpl((g) => g.mixed(ALNUM, 24), (s) => `level=warn msg="retrying" api_token=${s} attempt=3`),
    tpl((g) => g.password(), (pw) => `jdbc:postgresql://db:5432/app?user=svc&password=${pw}&ssl=true`),
  ],
  email: [
    tpl((g) => g.email(), (e) => `From: "Stella Ops" <${e}>`),
    tpl((g) => g.email(), (e, g) => `{'assignee': '${e}', 'ticket': ${g.int(9999)}}`),
  ],
  path: [
    tpl((g) => `/home/${g.user()}/.aws/credentials`, (p) => `botocore.credentials: Found credentials in shared credentials file: ${p}`),
    tpl((g) => `/Users/${g.user()}/Library/Caches/${g.word()}/state.json`, (p) => `cache dir=${p}`),
  ],
  'sendgrid-key': [
    tpl(T.sendgrid, (k) => `sendgrid:\n  api_key: ${k}`),
    tpl(T.sendgrid, (k) => `python_http_client.exceptions.UnauthorizedError: HTTP Error 401 (key=${k})`),
  ],
  'twilio-key': [
    tpl(T.twilioApiKey, (k, g) => `TWILIO_API_KEY=${k} TWILIO_API_SECRET=${g.mixed(ALNUM, 32)}`),
    tpl(T.twilioAuthToken, (t, g) => `Client('${T.twilioAccountSid(g)}', '${t}')`),
  ],
  'mailgun-key': [
    tpl(f1(T.mailgun), (k) => `mailgun:\n  api_key: ${k}\n  domain: mg.example.com`),
    tpl(f1(T.mailgun), (k) => `requests.post(url, auth=("api", "${k}"))`),
  ],
  'mailchimp-key': [
    tpl(T.mailchimp, (k) => `{'mailchimp_key': '${k}', 'list': 'weekly'}`),
    tpl(T.mailchimp, (k) => `mailchimp3.MailChimp(mc_api='${k}')`),
  ],
  'google-oauth-secret': [
    tpl(T.googleOauthSecret, (s) => `GOOGLE_CLIENT_SECRET=${s}`),
    tpl(T.googleOauthSecret, (s) => `oauth2client: {'client_secret': '${s}', 'token_uri': 'https://oauth2.googleapis.com/token'}`),
  ],
  'azure-ad-secret': [
    tpl(T.azureAdSecret, (s) => `ClientSecretCredential(tenant_id, client_id, "${s}")`),
    tpl(T.azureAdSecret, (s) => `azure:\n  client_secret: ${s}`),
  ],
  'shopify-token': [
    tpl(f1(T.shopify), (t) => `ShopifyAPI::Session.new(domain: "x.myshopify.com", token: "${t}")`),
    tpl(T.shopify, (t) => `SHOPIFY_API_SECRET=${t}`),
  ],
  'square-token': [
    tpl(f1(T.square), (t) => `square.Client(access_token="${t}", environment="production")`),
    tpl(f1(T.square), (t) => `Square-Version: 2024-01-18\nAuthorization: Bearer ${t}`),
  ],
  'pypi-token': [
    tpl(f1(T.pypi), (t) => `[pypi]\n  username = __token__\n  password = ${t}`),
    tpl(f1(T.pypi), (t) => `poetry config pypi-token.pypi ${t}`),
  ],
  'dockerhub-token': [
    tpl(f1(T.dockerhub), (t) => `{"auths":{"https://index.docker.io/v1/":{"identitytoken":"${t}"}}}`),
    tpl(T.dockerhub, (t) => `echo ${t} | docker login --username ci --password-stdin`),
  ],
  'huggingface-token': [
    tpl(f1(T.huggingface), (t) => `huggingface_hub.login(token="${t}")`),
    tpl(T.huggingface, (t) => `401 Client Error: Unauthorized for url: https://huggingface.co/api/whoami-v2 (token ${t})`),
  ],
  'openai-key': [
    tpl(f1(T.openai), (k) => `openai.AuthenticationError: Incorrect API key provided: ${k}.`),
    tpl(f1(T.openai), (k) => `client = OpenAI(api_key="${k}")`),
  ],
  'anthropic-key': [
    tpl(f1(T.anthropic), (k) => `anthropic.Anthropic(api_key='${k}')`),
    tpl(T.anthropic, (k) => `> POST /v1/messages\n> x-api-key: ${k}\n> anthropic-version: 2023-06-01`),
  ],
  'datadog-key': [
    tpl(T.datadogApiKey, (k) => `curl -X POST https://api.datadoghq.eu/api/v2/series -H "DD-API-KEY: ${k}"`),
    tpl(T.datadogAppKey, (k) => `datadog:\n  apiKeyExistingSecret: dd-secret\n  appKey: ${k}`),
  ],
  'newrelic-key': [
    tpl(f1(T.newrelic), (k) => `newrelic.ini: license_key = ${k}`),
    tpl(f1(T.newrelic), (k) => `{"newrelic_insert_key": "${k}"}`),
  ],
  'heroku-key': [
    tpl(T.heroku, (k) => `machine api.heroku.com\n  login ${'ci'}@example.com\n  password ${k}`),
    tpl(T.heroku, (k) => `heroku: {'Authorization': 'Bearer ${k}'}`),
  ],
  'digitalocean-token': [
    tpl(f1(T.digitalocean), (t) => `oauth token exchange: access_token=${t}`),
    tpl(f1(T.digitalocean), (t) => `{"refresh_token": "${t}", "token_type": "bearer"}`),
  ],
  'atlassian-token': [
    tpl(f1(T.atlassian), (t) => `bitbucket app password ${t} rejected for ci-bot`),
    tpl(T.atlassian, (t) => `jira.JIRA(server, basic_auth=("bot", "${t}"))`),
  ],
  'linear-key': [
    tpl(f1(T.linear), (k) => `linear oauth: {"access_token":"${k}","scope":"read"}`),
    tpl(T.linear, (k) => `new LinearClient({ apiKey: "${k}" })`),
  ],
  'postman-key': [
    tpl(T.postman, (k) => `postman:\n  apiKey: ${k}`),
    tpl(T.postman, (k) => `GET https://api.getpostman.com/collections?apikey=${k} 401`),
  ],
  'doppler-token': [
    tpl(f1(T.doppler), (t) => `doppler run --token ${t} -- node server.js`),
    tpl(f1(T.doppler), (t) => `{'DOPPLER_TOKEN': '${t}'}`),
  ],
  'vault-token': [
    tpl(f1(T.vault), (t) => `hvac.Client(url="https://vault:8200", token="${t}")`),
    tpl(f1(T.vault), (t) => `vault: {"auth":{"client_token":"${t}","renewable":true}}`),
  ],
  'terraform-token': [
    tpl(T.terraform, (t) => `{"credentials":{"app.terraform.io":{"token":"${t}"}}}`),
    tpl(T.terraform, (t) => `tfe: 401 unauthorized with ${t}`),
  ],
  'age-secret-key': [
    tpl(T.age, (k) => `# created: 2024-05-01T10:00:00Z\n# public key: age1${'q'.repeat(3)}xyz\n${k}`),
    tpl(T.age, (k) => `sops:\n  age_key: ${k}`),
  ],
  'grafana-token': [
    tpl(f1(T.grafana), (t) => `grafana_cloud:\n  api_key: ${t}`),
    tpl(f1(T.grafana), (t) => `Authorization: Bearer ${t}`),
  ],
  'sentry-token': [
    tpl(f1(T.sentry), (t) => `[auth]\ntoken=${t}`),
    tpl(T.sentry, (t) => `sentry: 401 for https://sentry.io/api/0/organizations/ with ${t}`),
  ],
  'databricks-token': [
    tpl(T.databricks, (t) => `[DEFAULT]\nhost = https://adb-1.azuredatabricks.net\ntoken = ${t}`),
    tpl(T.databricks, (t) => `spark conf spark.databricks.token ${t}`),
  ],
  'pulumi-token': [
    tpl(T.pulumi, (t) => `{'accessToken': '${t}'}`),
    tpl(T.pulumi, (t) => `pulumi: stack export failed (token ${t})`),
  ],
  'supabase-token': [
    tpl(f1(T.supabase), (t) => `SUPABASE_SECRET_KEY=${t}`),
    tpl(f1(T.supabase), (t) => `createClient(url, "${t}")`),
  ],
  'cloudflare-key': [
    tpl(T.cloudflare, (k) => `{"service_key": "${k}"}`),
    tpl(T.cloudflareApiToken, (t) => `CLOUDFLARE_API_TOKEN=${t}`),
  ],
  'dynatrace-token': [
    tpl(T.dynatrace, (t) => `oneagent install --set-api-token=${t}`),
    tpl(T.dynatrace, (t) => `{"dynatrace":{"token":"${t}"}}`),
  ],
  'telegram-bot-token': [
    tpl(T.telegram, (t) => `telegram.error.InvalidToken: bot ${t} was rejected`),
    tpl(T.telegram, (t) => `{"bot_token": "${t}", "chat_id": -100${DIGITS}}`),
  ],
  'discord-webhook': [
    tpl(T.discordWebhookPath, (p) => `DISCORD_WEBHOOK=https://discordapp.com/api/webhooks/${p}`),
  ],
  'teams-webhook': [
    tpl(T.teamsWebhookPath, (p, g) => `{"teams_url":"https://${g.word()}.webhook.office.com/webhookb2/${p}"}`),
  ],
};

const NEGATIVE: Record<string, NegativeTemplate[]> = {
  'yaml-ids': [
    (g) => `image:\n  repository: ghcr.io/stellaops/${g.word()}\n  digest: sha256:${g.hex(64)}\n  tag: ${g.int(9)}.${g.int(9)}.${g.int(9)}`,
    (g) => `metadata:\n  uid: ${g.uuid()}\n  resourceVersion: "${g.chars(DIGITS, 8)}"\n  generation: ${g.int(9)}`,
  ],
  'python-repr': [
    (g) => `{'sha1': '${g.hex(40)}', 'md5': '${g.hex(32)}', 'size': ${g.int(99999)}}`,
    (g) => `Finding(cve='CVE-2024-${1000 + g.int(9000)}', purl='pkg:pypi/${g.word()}@1.${g.int(9)}')`,
  ],
  logfmt: [
    (g) => `level=info trace_id=${g.hex(32)} span_id=${g.hex(16)} route=/api/v1/scans status=200 duration=${g.int(900)}ms`,
    (g) => `level=debug cache_key=${g.hex(40)} hit=true ttl=300s`,
  ],
  'http-dump': [
    (g) => `< HTTP/1.1 200 OK\n< ETag: W/"${g.hex(32)}"\n< X-Request-Id: ${g.uuid()}\n< Content-Type: application/json`,
    (g) => `> GET /v2/${g.word()}/manifests/sha256:${g.hex(64)} HTTP/1.1\n> Accept: application/vnd.oci.image.manifest.v1+json`,
  ],
  sbom: [
    (g) => `{"bom-ref":"pkg:npm/${g.word()}@2.${g.int(9)}.0","hashes":[{"alg":"SHA-256","content":"${g.hex(64)}"}]}`,
    (g) => `SPDXRef-Package-${g.word()}-${g.hex(8)} CHECKSUM: SHA1: ${g.hex(40)}`,
    (g) => `cpe:2.3:a:${g.word()}:${g.word()}:1.${g.int(9)}.${g.int(9)}:*:*:*:*:*:*:*`,
  ],
  sigstore: [
    (g) => `rekor entry ${g.hex(64)} logIndex=${g.chars(DIGITS, 8)} integratedTime=${1700000000 + g.int(1e6)}`,
    (g) => `cosign verify ghcr.io/stellaops/${g.word()}@sha256:${g.hex(64)} --certificate-oidc-issuer https://token.actions.githubusercontent.com`,
  ],
  'provider-ids': [
    (g) => `twilio call ${'CA'}${g.hex(32)} completed after ${g.int(300)}s`,
    (g) => `stripe payment_intent pi_${g.chars(ALNUM, 24)} status=succeeded`,
    (g) => `hugging face revision ${g.hex(40)} of ${g.word()}/${g.word()}-base`,
    (g) => `google client id ${g.chars(DIGITS, 12)}-${g.chars(LOWER + DIGITS, 32)}.apps.googleusercontent.com`,
    (g) => `jira ${g.pick(['ENG', 'OPS', 'SEC'])}-${g.int(9999)} linked, linear issue ${g.pick(['LIN', 'PLAT'])}-${g.int(999)}`,
    (g) => `heroku release v${g.int(400)} of ${g.word()}-${g.chars(LOWER + DIGITS, 6)}.herokuapp.com`,
    (g) => `vault lease database/creds/readonly/${g.uuid()} renewed`,
  ],
  misc: [
    (g) => `ulid 01${g.chars('0123456789ABCDEFGHJKMNPQRSTVWXYZ', 24)} ksuid ${g.chars(ALNUM, 27)}`,
    (g) => `pgp fingerprint ${g.chars('0123456789ABCDEF', 40)} key id 0x${g.chars('0123456789ABCDEF', 16)}`,
    (g) => `wheel ${g.word()}-1.${g.int(9)}.0-py3-none-any.whl sha256=${g.b64(32).replace(/=+$/, '')}`,
    (g) => `BEGIN;\nUPDATE runs SET status='done' WHERE id=${g.int(9999)};\nCOMMIT;`,
    (g) => `base64 payload ${g.b64(24)}`,
  ],
};

/** Positive lines of the held-out corpus (deterministic, seeds apart from the tuning corpus). */
export function holdoutPositives(total = Object.values(POSITIVE).reduce((n, l) => n + l.length, 0) * 4): PositiveLine[] {
  return buildPositives(POSITIVE, total, 0x4f1d);
}

/** Negative lines of the held-out corpus. */
export function holdoutNegatives(total = 600): NegativeLine[] {
  return buildNegatives(NEGATIVE, total, 0x0dd5);
}

