/**
 * `stella auth token` — mints a token from the service's DEVELOPMENT authority: the ES256 key
 * an embedded-mode service keeps in `<data-dir>/authority/dev-signing-key.jwk`. It prints only
 * the token, so `export STELLA_TOKEN=$(stella auth token ...)` works. Production tokens come
 * from StellaOps Authority; a service configured with a JWKS URL or file does not trust this key.
 * Only scopes the service knows are minted (telemetry-core's scope grammar and list).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { JWK } from 'jose';
import { KNOWN_SCOPE_BASES, isKnownScopeBase, parseScope, parseShortScope, scopeBase, tenantScope } from '@stellaops/telemetry-core/scopes';
import { resolveTenant, type CommandContext } from '../context.js';
import { joseLib } from '../lazy.js';
import { CliError, EXIT, type CommandResult } from '../output.js';

const DEV_KEY_FILE = join('authority', 'dev-signing-key.jwk');
const DEV_ISSUER = 'stella-dev-authority';
const MAX_TTL_SECONDS = 30 * 86_400;

/** `90s`, `30m`, `1h`, `7d` or plain seconds. */
export function parseTtl(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = m ? Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86_400 } as const)[m[2] as '' | 's' | 'm' | 'h' | 'd'] : NaN;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_TTL_SECONDS) {
    throw new CliError('usage', `--ttl must be a duration such as 15m, 1h or 7d, at most 30d (got "${value}")`);
  }
  return seconds;
}

function unknownScope(scope: string, base: string): CliError {
  return new CliError('scope_unknown', `--scope "${scope}": the service knows no scope ${base}; known scopes: ${KNOWN_SCOPE_BASES.map((b) => b.slice('stella:'.length)).join(', ')}`);
}

/**
 * Expands `timeline:read` to `stella:timeline:read#tenant/<tenant>`; a full scope
 * (`stella:timeline:read#tenant/acme`, or platform-wide `stella:evidence:admin`) passes
 * unchanged. A scope the service does not know is refused, naming the ones it does.
 */
export function expandScope(scope: string, tenant: string | undefined): string {
  const full = parseScope(scope);
  if (full) {
    if (!isKnownScopeBase(scopeBase(full))) throw unknownScope(scope, scopeBase(full));
    return scope;
  }
  const short = parseShortScope(scope);
  if (!short) {
    throw new CliError('usage', `--scope "${scope}" is not a scope; write area:action (timeline:read), stella:area:action#tenant/<id>, or stella:area:action (platform-wide)`);
  }
  if (!isKnownScopeBase(scopeBase(short))) throw unknownScope(scope, scopeBase(short));
  if (!tenant) throw new CliError('usage', `--scope "${scope}" is short and needs --tenant or STELLA_TENANT (or write stella:${scope}#tenant/<id>)`);
  return tenantScope(scopeBase(short), tenant);
}

export function registerAuth(program: Command, ctx: CommandContext): void {
  const auth = program.command('auth').description('tokens for the service');
  ctx.action(
    auth
      .command('token')
      .description("mint a token from the service's development authority (embedded installs); prints only the token")
      .option('--data-dir <dir>', "the service's data directory (default: $STELLA_DATA_DIR)")
      .option('--tenant <tenant>', 'tenant that short scopes are bound to (default: $STELLA_TENANT)')
      .requiredOption('--scope <scope...>', `scopes: timeline:read (bound to the tenant), stella:timeline:read#tenant/acme, or stella:evidence:admin (platform-wide); repeatable. Known: ${KNOWN_SCOPE_BASES.map((b) => b.slice('stella:'.length)).join(', ')}`)
      .option('--ttl <duration>', 'lifetime: 15m, 1h, 7d (at most 30d)', '1h')
      .option('--subject <sub>', 'the sub claim: who the token speaks for', 'dev-user')
      .option('--audience <aud>', 'the aud claim the service expects', 'stella-observability')
      .addHelpText('after', '\nEnvironment:\n  STELLA_DATA_DIR  the service data directory, when --data-dir is not given\n  STELLA_TENANT    the tenant, when --tenant is not given'),
    async (_args, opts: { dataDir?: string; tenant?: string; scope: string[]; ttl: string; subject: string; audience: string }): Promise<CommandResult> => {
      const tenant = resolveTenant(opts.tenant, ctx.io);
      const ttl = parseTtl(opts.ttl);
      const scopes = opts.scope.map((s) => expandScope(s, tenant));
      const given = opts.dataDir ?? ctx.io.env['STELLA_DATA_DIR'];
      if (!given) throw new CliError('usage', "no data directory: pass --data-dir <dir> or set STELLA_DATA_DIR to the service's data directory");
      const dataDir = ctx.path(given);
      let jwk: JWK;
      try {
        jwk = JSON.parse(await readFile(join(dataDir, DEV_KEY_FILE), 'utf8')) as JWK;
      } catch {
        throw new CliError(
          'authority_missing',
          `no development authority key in ${dataDir}; start the service once with STELLA_DATA_DIR=${given} (it creates the key), or point --data-dir or STELLA_DATA_DIR at that directory`,
        );
      }
      if (!jwk.d || !jwk.kid) throw new CliError('authority_invalid', `${join(dataDir, DEV_KEY_FILE)} is not a private signing key`);
      const alg = jwk.alg ?? 'ES256';
      const now = Math.floor(Date.now() / 1000);
      const { importJWK, SignJWT } = await joseLib();
      const token = await new SignJWT({ scope: scopes.join(' ') })
        .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
        .setIssuer(DEV_ISSUER)
        .setAudience(opts.audience)
        .setSubject(opts.subject)
        .setIssuedAt(now)
        .setExpirationTime(now + ttl)
        .sign(await importJWK(jwk, alg));
      return {
        exitCode: EXIT.ok,
        json: { ok: true, token, scopes, expires_at: new Date((now + ttl) * 1000).toISOString(), issuer: DEV_ISSUER },
        human: token,
      };
    },
  );
}
