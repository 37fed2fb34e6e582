/**
 * Labelled corpus for the scrubber: realistic log lines built from templates with values from
 * a seeded PRNG, so the corpus is identical on every run and no committed file holds anything
 * that looks like a real credential (token-shaped values exist only at test time).
 *
 * Positive lines carry one secret or piece of PII (`secret` is the substring that must vanish);
 * negative lines carry identifiers that must survive byte-for-byte.
 */

export interface PositiveLine {
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

/** Repository root the corpus is scrubbed with. */
export const CORPUS_REPO_ROOT = '/srv/stellaops';

/** mulberry32: tiny, seedable, good enough to vary test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';

class Gen {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chars(alphabet: string, n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
  /** Random base64 with at least one upper, lower and digit (as real keys have). */
  mixed(alphabet: string, n: number): string {
    for (;;) {
      const s = this.chars(alphabet, n);
      if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s;
    }
  }
  hex(n: number): string {
    return this.chars(HEX, n);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
  b64(bytes: number): string {
    const raw = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) raw[i] = this.int(256);
    return raw.toString('base64');
  }
  b64url(text: string): string {
    return Buffer.from(text).toString('base64url');
  }
  word(): string {
    return this.pick(['alpha', 'bravo', 'delta', 'ember', 'falcon', 'granite', 'harbor', 'indigo', 'juniper', 'kestrel']);
  }
  user(): string {
    return this.pick(['alice', 'bob', 'carol', 'dmitri', 'eve', 'farah', 'gunnar', 'hiro', 'ines', 'jonas']);
  }
  host(): string {
    return `${this.pick(['db', 'cache', 'mq', 'api', 'registry', 'vault'])}-${this.int(9) + 1}.${this.pick(['internal', 'svc.cluster.local', 'stella.example'])}`;
  }
  email(): string {
    const user = this.user();
    return `${this.pick([user, `${user}.${this.word()}`, `${user}+ops`, `${user}${this.int(99)}`])}@${this.pick(['example.com', 'corp.example.org', 'mail.example.net', 'stella-ops.io'])}`;
  }
  password(): string {
    return this.mixed(ALNUM + '!#%^*', 10 + this.int(10));
  }
  ts(): string {
    return `2024-0${this.int(9) + 1}-1${this.int(9)}T${10 + this.int(13)}:${10 + this.int(49)}:${10 + this.int(49)}.${100 + this.int(899)}Z`;
  }
}

function jwt(g: Gen): string {
  const header = g.b64url(JSON.stringify({ alg: g.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
  const payload = g.b64url(
    JSON.stringify({ sub: g.uuid(), tenant: g.word(), iat: 1700000000 + g.int(1e6), exp: 1700003600 + g.int(1e6) }),
  );
  return `${header}.${payload}.${g.chars(B64URL, 43)}`;
}

function pem(g: Gen, kind: string): { text: string; body: string } {
  const label = kind === '' ? 'PRIVATE KEY' : `${kind} PRIVATE KEY`;
  const lines = Array.from({ length: 3 + g.int(4) }, () => g.b64(48));
  const body = lines.join('\n');
  return { text: `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`, body: lines[0]! };
}

type PositiveTemplate = (g: Gen) => { line: string; secret: string; knownMiss?: boolean };

const POSITIVE: Record<string, PositiveTemplate[]> = {
  'aws-access-key': [
    (g) => {
      const k = 'AK' + 'IA' + g.chars(UPPER + DIGITS, 16);
      return { line: `s3 upload failed for bucket ${g.word()}-artifacts using access key ${k}`, secret: k };
    },
    (g) => {
      const k = 'AS' + 'IA' + g.chars(UPPER + DIGITS, 16);
      return { line: `env AWS_ACCESS_KEY_ID=${k} AWS_REGION=eu-west-1`, secret: k };
    },
    (g) => {
      const k = 'AK' + 'IA' + g.chars(UPPER + DIGITS, 16);
      return { line: `{"Credentials":{"AccessKeyId":"${k}","Expiration":"${g.ts()}"}}`, secret: k };
    },
  ],
  'aws-secret-key': [
    (g) => {
      const k = g.mixed(B64, 40);
      return { line: `aws_secret_access_key=${k}`, secret: k };
    },
    (g) => {
      const k = g.mixed(ALNUM, 40);
      return { line: `loaded static credentials from profile ${g.word()}: secret key ${k}`, secret: k };
    },
    (g) => {
      const k = g.mixed(B64, 40);
      return { line: `{"SecretAccessKey": "${k}", "SessionToken": null}`, secret: k };
    },
  ],
  gcp: [
    (g) => {
      const k = 'AI' + 'za' + g.chars(ALNUM + '-_', 35);
      return { line: `maps geocode request https://maps.googleapis.com/maps/api/geocode/json?address=x&key=${k}`, secret: k };
    },
    (g) => {
      const k = 'AI' + 'za' + g.chars(ALNUM, 35);
      return { line: `firebase init with apiKey ${k} project ${g.word()}-prod`, secret: k };
    },
    (g) => {
      const p = pem(g, '');
      const json = JSON.stringify({ type: 'service_account', project_id: `${g.word()}-prod`, private_key: p.text });
      return { line: `loaded service account ${json}`, secret: p.body };
    },
  ],
  azure: [
    (g) => {
      const k = g.b64(64);
      return {
        line: `DefaultEndpointsProtocol=https;AccountName=${g.word()}store;AccountKey=${k};EndpointSuffix=core.windows.net`,
        secret: k,
      };
    },
    (g) => {
      const sig = encodeURIComponent(g.b64(32));
      return {
        line: `GET https://${g.word()}.blob.core.windows.net/sbom/${g.uuid()}.json?sv=2022-11-02&ss=b&srt=o&sp=r&se=2024-12-31T00:00:00Z&sig=${sig} 403`,
        secret: sig,
      };
    },
    (g) => {
      const k = g.b64(32);
      return {
        line: `Endpoint=sb://${g.word()}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${k}`,
        secret: k,
      };
    },
  ],
  github: [
    (g) => {
      const t = `gh${g.pick(['p', 'o', 's', 'u', 'r'])}_${g.chars(ALNUM, 36)}`;
      return { line: `git clone https://github.com/stellaops/${g.word()}.git with token ${t}`, secret: t };
    },
    (g) => {
      const t = `github_${'pat'}_${g.chars(ALNUM, 22)}_${g.chars(ALNUM, 59)}`;
      return { line: `GITHUB_TOKEN=${t}`, secret: t };
    },
    (g) => {
      const t = `gh${g.pick(['p', 's'])}_${g.chars(ALNUM, 36)}`;
      return { line: `webhook delivery failed: remote rejected credential ${t} (401)`, secret: t };
    },
  ],
  gitlab: [
    (g) => {
      const t = `gl${'pat'}-${g.chars(ALNUM + '_-', 20)}`;
      return { line: `gitlab api ${g.host()} PRIVATE-TOKEN ${t} rejected`, secret: t };
    },
    (g) => {
      const t = `gl${'pat'}-${g.chars(ALNUM, 20)}`;
      return { line: `registry login -u ci -p ${t} registry.gitlab.com`, secret: t };
    },
  ],
  slack: [
    (g) => {
      const t = `xo${'x'}${g.pick(['b', 'p', 'a'])}-${g.chars(DIGITS, 12)}-${g.chars(DIGITS, 13)}-${g.chars(ALNUM, 24)}`;
      return { line: `notify: slack client initialised with ${t}`, secret: t };
    },
    (g) => {
      const path = `T${g.chars(UPPER + DIGITS, 8)}/B${g.chars(UPPER + DIGITS, 10)}/${g.chars(ALNUM, 24)}`;
      return { line: `POST https://hooks.slack.com/services/${path} -> 200`, secret: path };
    },
  ],
  stripe: [
    (g) => {
      const t = `${g.pick(['sk', 'rk'])}_${'live'}_${g.chars(ALNUM, 24)}`;
      return { line: `billing: charge failed with key ${t}`, secret: t };
    },
    (g) => {
      const t = `sk_${'test'}_${g.chars(ALNUM, 24)}`;
      return { line: `STRIPE_KEY=${t} ./run-billing`, secret: t };
    },
  ],
  npm: [
    (g) => {
      const t = `npm_${g.chars(ALNUM, 36)}`;
      return { line: `//registry.npmjs.org/:_authToken=${t}`, secret: t };
    },
    (g) => {
      const t = `npm_${g.chars(ALNUM, 36)}`;
      return { line: `publish @stellaops/${g.word()} using automation token ${t}`, secret: t };
    },
  ],
  bearer: [
    (g) => {
      const t = g.mixed(ALNUM + '-._~', 32);
      return { line: `outgoing request GET https://${g.host()}/v1/findings headers Authorization: Bearer ${t}`, secret: t };
    },
    (g) => {
      const t = g.mixed(ALNUM, 40);
      return { line: `curl -H "Authorization: Bearer ${t}" https://${g.host()}/api`, secret: t };
    },
    (g) => {
      const t = g.mixed(ALNUM, 28);
      return { line: `{"headers":{"authorization":"Bearer ${t}","accept":"application/json"}}`, secret: t };
    },
  ],
  basic: [
    (g) => {
      const t = Buffer.from(`${g.user()}:${g.password()}`).toString('base64');
      return { line: `proxy auth header: Basic ${t}`, secret: t };
    },
    (g) => {
      const t = Buffer.from(`ci:${g.password()}`).toString('base64');
      return { line: `Authorization: Basic ${t}`, secret: t };
    },
  ],
  jwt: [
    (g) => {
      const t = jwt(g);
      return { line: `validated id_token ${t} for client ${g.word()}`, secret: t };
    },
    (g) => {
      const t = jwt(g);
      return { line: `ws upgrade /stream?access_token=${t}&v=2`, secret: t };
    },
    (g) => {
      const t = jwt(g);
      return { line: `refresh failed for session cookie stella_session=${t}; Path=/; HttpOnly`, secret: t };
    },
  ],
  'private-key': [
    (g) => {
      const p = pem(g, g.pick(['RSA', 'EC', 'OPENSSH', 'ENCRYPTED', '']));
      return { line: `loaded signing key:\n${p.text}\n`, secret: p.body };
    },
    (g) => {
      const p = pem(g, 'RSA');
      return { line: `config dump {"tls":{"key":${JSON.stringify(p.text)}}}`, secret: p.body };
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
  assignment: [
    (g) => {
      const pw = g.password();
      return { line: `db connect user=${g.user()} password=${pw} host=${g.host()}`, secret: pw };
    },
    (g) => {
      const pw = g.password();
      return { line: `payload {"username":"${g.user()}","password":"${pw}","remember":true}`, secret: pw };
    },
    (g) => {
      const t = g.mixed(ALNUM, 24);
      return { line: `GET /api/v1/export?tenant=${g.word()}&token=${t}&format=spdx 200`, secret: t };
    },
    (g) => {
      const t = g.mixed(ALNUM, 32);
      return { line: `client registered client_id=${g.word()} client_secret=${t}`, secret: t };
    },
    (g) => {
      const t = g.mixed(ALNUM, 32);
      return { line: `calling feed with api_key=${t} page=${g.int(9)}`, secret: t };
    },
    (g) => {
      const s = g.password();
      return { line: `vault: wrote secret: ${s} to kv/${g.word()}`, secret: s };
    },
    (g) => {
      const s = g.password();
      return { line: `smtp relay passwd: ${s}`, secret: s };
    },
    (g) => {
      const s = g.mixed(ALNUM, 20);
      return { line: `message body {\\"apiKey\\":\\"${s}\\",\\"region\\":\\"eu\\"}`, secret: s };
    },
  ],
  'cli-and-headers': [
    (g) => {
      const pw = g.password();
      return { line: `export DB_PASS=${pw}`, secret: pw };
    },
    (g) => {
      const pw = g.mixed(ALNUM, 16);
      return { line: `exec: stella-migrate --db-password ${pw} --host ${g.host()}`, secret: pw };
    },
    (g) => {
      const t = g.mixed(ALNUM, 32);
      return { line: `request headers X-Api-Key: ${t} Accept: */*`, secret: t };
    },
    (g) => {
      const t = g.mixed(ALNUM, 26);
      return { line: `Set-Cookie: session=${t}; Path=/; Secure; HttpOnly`, secret: t };
    },
    (g) => {
      const pw = g.password();
      return { line: `login failed: wrong password '${pw}' for ${g.user()}`, secret: pw };
    },
    // A known blind spot, kept so the recall figure stays honest: a password glued to a
    // one-letter flag cannot be told from other flags without knowing the command.
    (g) => {
      const pw = g.mixed(ALNUM, 12);
      return { line: `exec: mysql -u root -p${pw} ${g.word()}`, secret: pw, knownMiss: true };
    },
  ],
  email: [
    (g) => {
      const e = g.email();
      return { line: `user ${e} signed in from ${g.host()}`, secret: e };
    },
    (g) => {
      const e = g.email();
      return { line: `notify: sending digest to <${e}> for tenant ${g.word()}`, secret: e };
    },
    (g) => {
      const e = g.email();
      return { line: `{"actor":"${e}","action":"policy.publish","policy_version":"v${g.int(9)}"}`, secret: e };
    },
  ],
  path: [
    (g) => {
      const p = `/home/${g.user()}/.ssh/id_${g.pick(['rsa', 'ed25519'])}`;
      return { line: `reading deploy key from ${p}`, secret: p };
    },
    (g) => {
      const p = `/Users/${g.user()}/work/${g.word()}/config.yaml`;
      return { line: `config loaded from ${p}`, secret: p };
    },
    (g) => {
      const p = `C:\\Users\\${g.user()}\\AppData\\Local\\stella\\cache.db`;
      return { line: `cache open failed: ${p}`, secret: p };
    },
    (g) => {
      const p = `/var/lib/${g.word()}/${g.uuid()}.lock`;
      return { line: `Error: EACCES: permission denied, open '${p}'`, secret: p };
    },
    (g) => {
      const p = `/opt/${g.word()}/node_modules/pg/lib/client.js`;
      return { line: `    at Client._handleErrorMessage (${p}:335:17)`, secret: p };
    },
  ],
};

type NegativeTemplate = (g: Gen) => string;

const NEGATIVE: Record<string, NegativeTemplate[]> = {
  digest: [
    (g) => `sbom stored digest=sha256:${g.hex(64)} size=${g.int(99999)}`,
    (g) => `layer sha512:${g.hex(128)} verified`,
    (g) => `attestation subject ${g.hex(64)} matched`,
  ],
  purl: [
    (g) => `component pkg:npm/${g.word()}@${g.int(9)}.${g.int(20)}.${g.int(30)} resolved`,
    (g) => `vulnerable pkg:maven/org.${g.word()}/${g.word()}-core@2.${g.int(9)}.${g.int(9)}?type=jar found`,
    (g) => `pkg:npm/%40stellaops/${g.word()}@1.${g.int(9)}.0 linked to advisory`,
    (g) => `pkg:golang/github.com/${g.word()}/${g.word()}@v0.${g.int(30)}.${g.int(9)} pinned`,
  ],
  uuid: [(g) => `sbom ${g.uuid()} ingested for project ${g.uuid()}`, (g) => `job ${g.uuid()} finished in ${g.int(900)}ms`],
  trace: [
    (g) => `traceparent 00-${g.hex(32)}-${g.hex(16)}-01 continued`,
    (g) => `span ${g.hex(16)} parent ${g.hex(16)} trace ${g.hex(32)}`,
  ],
  base64hash: [
    (g) => `integrity sha512-${g.b64(64)} ok`,
    (g) => `lockfile entry integrity "sha256-${g.b64(32)}"`,
    (g) => `etag "${g.b64(20)}" unchanged`,
  ],
  advisory: [
    (g) => `advisory CVE-20${20 + g.int(5)}-${1000 + g.int(40000)} affects ${g.word()}`,
    (g) => `linked GHSA-${g.chars('23456789cfghjmpqrvwx', 4)}-${g.chars('23456789cfghjmpqrvwx', 4)}-${g.chars('23456789cfghjmpqrvwx', 4)} to VEX statement`,
  ],
  semver: [
    (g) => `upgraded ${g.word()} from ${g.int(5)}.${g.int(20)}.${g.int(9)} to ${g.int(5) + 1}.0.0-rc.${g.int(5)}`,
    (g) => `policy engine v${g.int(3)}.${g.int(9)}.${g.int(9)}+build.${g.int(999)} started`,
  ],
  timestamp: [(g) => `window ${g.ts()} .. ${g.ts()} compacted`, (g) => `retention cutoff=${g.ts()} tier=warm`],
  git: [
    (g) => `built from commit ${g.hex(40)} on branch main`,
    (g) => `git rev-parse HEAD -> ${g.hex(40)}`,
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

/** Positive lines (deterministic). */
export function positiveCorpus(total = 240): PositiveLine[] {
  const out: PositiveLine[] = [];
  build(POSITIVE, total, 0x5eed, (kind, t, g) => out.push({ kind, ...t(g) }));
  return out;
}

/** One positive line per template (every shape of every class once), blind spots excluded. */
export function positiveSamples(): PositiveLine[] {
  const templates = Object.values(POSITIVE).reduce((n, list) => n + list.length, 0);
  return positiveCorpus(templates).filter((p) => !p.knownMiss);
}

/** Negative lines (deterministic). */
export function negativeCorpus(total = 240): NegativeLine[] {
  const out: NegativeLine[] = [];
  build(NEGATIVE, total, 0xbeef, (kind, t, g) => out.push({ kind, line: t(g) }));
  return out;
}
