/**
 * Deterministic generators for the scrubber's labelled corpora: a seeded PRNG and, per
 * redaction class, factories of synthetic values in the provider's documented shape.
 *
 * No value here is a credential: each is random text that merely has a format. Every vendor
 * prefix is assembled from pieces at run time (`'gh' + 'p_'`), so no literal in the repository
 * looks like a live token to a secret scanner.
 *
 * Shape families: family 0 is the shape the rules were written against; family 1 is a second
 * documented shape of the same credential (another token type, length or encoding) used only by
 * the held-out corpus.
 */

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

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
export const HEX = '0123456789abcdef';
export const B64 = ALNUM + '+/';
export const B64URL = ALNUM + '-_';
/** The bech32 data alphabet (age keys). */
export const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

export class Gen {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chars(alphabet: string, n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }
  /** Random text with at least one upper, lower and digit (as real keys have). */
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

/** Joins pieces: keeps vendor prefixes out of the source as whole literals. */
const p = (...parts: string[]): string => parts.join('');

export function jwt(g: Gen): string {
  const header = g.b64url(JSON.stringify({ alg: g.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
  const payload = g.b64url(
    JSON.stringify({ sub: g.uuid(), tenant: g.word(), iat: 1700000000 + g.int(1e6), exp: 1700003600 + g.int(1e6) }),
  );
  return `${header}.${payload}.${g.chars(B64URL, 43)}`;
}

/** A PEM private key block; `body` is one line of it (what must not survive). */
export function pem(g: Gen, kind: string, lineBreak = '\n'): { text: string; body: string } {
  const label = kind === '' ? 'PRIVATE KEY' : `${kind} PRIVATE KEY`;
  const lines = Array.from({ length: 3 + g.int(4) }, () => g.b64(48));
  const body = lines.join(lineBreak);
  return { text: `-----${'BEGIN'} ${label}-----${lineBreak}${body}${lineBreak}-----END ${label}-----`, body: lines[0]! };
}

/** An armored PGP private key block. */
export function pgpKey(g: Gen): { text: string; body: string } {
  const lines = Array.from({ length: 4 + g.int(4) }, () => g.b64(48));
  const label = p('PGP PRIVATE', ' KEY BLOCK');
  return {
    text: `-----${'BEGIN'} ${label}-----\nComment: ${g.user()}\n\n${lines.join('\n')}\n=${g.chars(B64, 4)}\n-----END ${label}-----`,
    body: lines[1]!,
  };
}

/** A PuTTY private key file (`.ppk`), whose private part follows `Private-Lines:`. */
export function puttyKey(g: Gen): { text: string; body: string } {
  const pub = Array.from({ length: 2 }, () => g.b64(48));
  const priv = Array.from({ length: 3 + g.int(3) }, () => g.b64(48));
  const text = [
    `${p('PuTTY-User-Key', '-File-3')}: ssh-ed25519`,
    'Encryption: none',
    `Comment: ${g.user()}@${g.word()}`,
    `Public-Lines: ${pub.length}`,
    ...pub,
    `${p('Private', '-Lines')}: ${priv.length}`,
    ...priv,
    `Private-MAC: ${g.hex(64)}`,
  ].join('\n');
  return { text, body: priv[0]! };
}

/** Value factories per redaction class; `family` selects the shape family (see file comment). */
export const TOKENS = {
  awsAccessKey: (g: Gen, family = 0): string =>
    (family === 0 ? p(g.pick(['AK', 'AS']), 'IA') : p('A', g.pick(['ROA', 'GPA', 'NPA', 'NVA', 'IDA', 'IPA', 'PKA']))) +
    g.chars(UPPER + '234567', 16),
  awsSecretKey: (g: Gen): string => g.mixed(B64, 40),
  gcpApiKey: (g: Gen, family = 0): string => p('AI', 'za') + (family === 0 ? 'Sy' : '') + g.chars(B64URL, family === 0 ? 33 : 35),
  github: (g: Gen, family = 0): string =>
    family === 0
      ? p('gh', g.pick(['p', 'o', 's', 'u', 'r']), '_') + g.chars(ALNUM, 36)
      : p('github', '_pat_') + g.chars(ALNUM, 22) + '_' + g.chars(ALNUM, 59),
  gitlab: (g: Gen, family = 0): string =>
    family === 0
      ? p('gl', 'pat-') + g.chars(B64URL, 20)
      : p(g.pick(['gl', 'gl', 'gl']), g.pick(['dt-', 'rt-', 'cbt-', 'soat-', 'ft-'])) + g.chars(ALNUM, 20),
  gitlabRunnerRegistration: (g: Gen): string => p('GR13', '48941') + g.chars(B64URL, 20),
  slack: (g: Gen, family = 0): string =>
    family === 0
      ? p('xo', 'x', g.pick(['b', 'p']), '-') + `${g.chars(DIGITS, 12)}-${g.chars(DIGITS, 13)}-${g.chars(ALNUM, 24)}`
      : p('xa', 'pp-') + `1-A${g.chars(UPPER + DIGITS, 10)}-${g.chars(DIGITS, 13)}-${g.hex(64)}`,
  stripe: (g: Gen, family = 0): string =>
    family === 0
      ? p(g.pick(['sk', 'rk']), '_', g.pick(['live', 'test']), '_') + g.chars(ALNUM, 24)
      : p('sk', '_live_') + g.chars(ALNUM, 99),
  stripeWebhook: (g: Gen): string => p('wh', 'sec_') + g.chars(ALNUM, 32),
  npm: (g: Gen): string => p('np', 'm_') + g.chars(ALNUM, 36),
  sendgrid: (g: Gen): string => p('S', 'G.') + g.chars(B64URL, 22) + '.' + g.chars(B64URL, 43),
  twilioApiKey: (g: Gen): string => p('S', 'K') + g.hex(32),
  twilioAccountSid: (g: Gen): string => p('A', 'C') + g.hex(32),
  twilioAuthToken: (g: Gen): string => g.hex(32),
  mailgun: (g: Gen, family = 0): string =>
    family === 0 ? p('ke', 'y-') + g.hex(32) : `${g.hex(32)}-${g.hex(8)}-${g.hex(8)}`,
  mailchimp: (g: Gen): string => `${g.hex(32)}-${'us'}${g.between(1, 21)}`,
  googleOauthSecret: (g: Gen): string => p('GOC', 'SPX-') + g.chars(B64URL, 28),
  azureAdSecret: (g: Gen): string =>
    g.chars(ALNUM + '_~.', 3) + g.chars(DIGITS, 1) + p('Q', '~') + g.chars(ALNUM + '_~.-', g.between(31, 34)),
  shopify: (g: Gen, family = 0): string =>
    p('sh', family === 0 ? g.pick(['pat', 'pss']) : g.pick(['pca', 'ppa']), '_') + g.chars(family === 0 ? HEX : 'ABCDEF0123456789', 32),
  square: (g: Gen, family = 0): string =>
    family === 0
      ? g.pick([p('sq0', 'atp-') + g.chars(B64URL, 22), p('sq0', 'csp-') + g.chars(B64URL, 43)])
      : p('EA', 'AA') + g.chars(B64URL, 60),
  pypi: (g: Gen, family = 0): string =>
    p('py', 'pi-', 'AgEIcHlwaS5vcmc') + g.chars(B64URL, family === 0 ? g.between(60, 120) : g.between(150, 220)),
  dockerhub: (g: Gen, family = 0): string => p('dc', 'kr_', family === 0 ? 'pat' : 'oat', '_') + g.chars(B64URL, 27),
  huggingface: (g: Gen, family = 0): string =>
    family === 0 ? p('h', 'f_') + g.chars(UPPER + LOWER, 34) : p('api', '_org_') + g.chars(UPPER + LOWER, 34),
  openai: (g: Gen, family = 0): string => {
    const marker = p('T3Blbk', 'FJ');
    if (family === 0) return p('sk', '-proj-') + g.chars(B64URL, 74) + marker + g.chars(B64URL, 74);
    return g.pick([
      p('sk', '-') + g.chars(ALNUM, 20) + marker + g.chars(ALNUM, 20),
      p('sk', '-svcacct-') + g.chars(B64URL, 58) + marker + g.chars(B64URL, 58),
      p('sk', '-admin-') + g.chars(B64URL, 58) + marker + g.chars(B64URL, 58),
    ]);
  },
  anthropic: (g: Gen, family = 0): string =>
    p('sk', '-ant-', family === 0 ? 'api03' : g.pick(['admin01', 'oat01']), '-') + g.chars(B64URL, 93) + 'AA',
  datadogApiKey: (g: Gen): string => g.hex(32),
  datadogAppKey: (g: Gen): string => g.hex(40),
  newrelic: (g: Gen, family = 0): string =>
    family === 0
      ? g.pick([p('NR', 'AK-') + g.chars(UPPER + DIGITS, 27), p('NR', 'JS-') + g.hex(19)])
      : g.pick([p('NR', 'II-') + g.chars(ALNUM + '-', 32), g.hex(36) + p('NR', 'AL')]),
  heroku: (g: Gen): string => p('HR', 'KU-', 'AA') + g.chars(B64URL, 58),
  digitalocean: (g: Gen, family = 0): string =>
    p('do', family === 0 ? 'p' : g.pick(['o', 'r']), '_v1_') + g.hex(64),
  atlassian: (g: Gen, family = 0): string =>
    family === 0
      ? p('ATA', 'TT3') + g.chars(B64URL, 178) + '=' + g.chars('0123456789ABCDEF', 8)
      : p('AT', 'BB') + g.chars(ALNUM, 32) + g.chars('0123456789ABCDEF', 8),
  linear: (g: Gen, family = 0): string =>
    family === 0 ? p('lin', '_api_') + g.chars(ALNUM, 40) : p('lin', '_oauth_') + g.hex(64),
  postman: (g: Gen): string => p('PM', 'AK-') + g.hex(24) + '-' + g.hex(34),
  doppler: (g: Gen, family = 0): string =>
    family === 0
      ? p('dp', '.pt.') + g.chars(ALNUM, 43)
      : p('dp', '.', g.pick(['st', 'sa', 'ct', 'scim', 'audit']), '.') + (g.int(2) === 0 ? `${g.pick(['dev', 'stg', 'prd'])}.` : '') + g.chars(ALNUM, 43),
  vault: (g: Gen, family = 0): string =>
    family === 0
      ? p('hv', 's.') + g.chars(ALNUM, 24)
      : g.pick([p('hv', 's.', 'CAESI') + g.chars(B64URL, 90), p('hv', 'b.', 'AAAAAQ') + g.chars(B64URL, 150), p('hv', 'r.') + g.chars(ALNUM, 24)]),
  terraform: (g: Gen): string => g.chars(LOWER + DIGITS, 14) + p('.atlas', 'v1.') + g.chars(ALNUM + '-_', 67),
  age: (g: Gen): string => p('AGE-SECRET', '-KEY-1') + g.chars(BECH32.toUpperCase(), 58),
  grafana: (g: Gen, family = 0): string =>
    family === 0
      ? p('gl', 'sa_') + g.chars(ALNUM, 32) + '_' + g.hex(8)
      : g.pick([p('gl', 'c_') + g.chars(B64, 80) + '=', p('eyJr', 'Ijoi') + g.chars(ALNUM, 80)]),
  sentry: (g: Gen, family = 0): string =>
    family === 0
      ? p('sntr', 'yu_') + g.hex(64)
      : p('sntr', 'ys_') + g.b64url(JSON.stringify({ iat: 1700000000 + g.int(1e6), url: 'https://sentry.io', region_url: 'https://us.sentry.io', org: g.word() })) + '_' + g.chars(B64, 43),
  databricks: (g: Gen): string => p('da', 'pi') + g.hex(32) + (g.int(2) === 0 ? `-${g.int(9)}` : ''),
  pulumi: (g: Gen): string => p('pu', 'l-') + g.hex(40),
  supabase: (g: Gen, family = 0): string =>
    family === 0 ? p('sb', 'p_') + g.hex(40) : p('sb', '_secret_') + g.chars(B64URL, 31),
  cloudflare: (g: Gen): string => p('v1', '.0-') + g.hex(24) + '-' + g.hex(146),
  cloudflareApiToken: (g: Gen): string => g.chars(B64URL, 40),
  dynatrace: (g: Gen): string => p('dt0', 'c01.') + g.chars(UPPER + DIGITS, 24) + '.' + g.chars(UPPER + DIGITS, 64),
  telegram: (g: Gen): string => `${g.between(100000000, 7999999999)}:${p('A', 'A')}${g.chars(B64URL, 33)}`,
  discordWebhookPath: (g: Gen): string => `${g.chars(DIGITS, 19)}/${g.chars(B64URL, 68)}`,
  teamsWebhookPath: (g: Gen): string => `${g.uuid()}@${g.uuid()}/IncomingWebhook/${g.hex(32)}/${g.uuid()}`,
} as const;
