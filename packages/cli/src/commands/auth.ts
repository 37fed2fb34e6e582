import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { JWK } from 'jose';
import { CliError, EXIT, type CommandResult } from '../output.js';
import type { CommandContext } from '../program.js';
import { joseLib } from '../lazy.js';

/**
 * `stella auth token` — mints a token from the service's DEVELOPMENT authority: the ES256 key
 * an embedded-mode service keeps in `<data-dir>/authority/dev-signing-key.jwk`. It prints only
 * the token, so `TOKEN=$(stella auth token ...)` works. Production tokens come from StellaOps
 * Authority; a service configured with a JWKS URL or file does not trust this key.
 */
const DEV_KEY_FILE = join('authority', 'dev-signing-key.jwk');
const DEV_ISSUER = 'stella-dev-authority';
const TENANT_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SHORT_SCOPE_RE = /^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$/;
const FULL_SCOPE_RE = /^stella:[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*(#tenant\/[A-Za-z0-9][A-Za-z0-9_-]{0,63})?$/;
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

/** Expands `timeline:read` to `stella:timeline:read#tenant/<tenant>`; full scopes pass unchanged. */
export function expandScope(scope: string, tenant: string | undefined): string {
  if (FULL_SCOPE_RE.test(scope)) return scope;
  if (!SHORT_SCOPE_RE.test(scope)) {
    throw new CliError('usage', `--scope "${scope}" is not a scope; write area:action (timeline:read) or stella:area:action#tenant/<id>`);
  }
  if (!tenant) throw new CliError('usage', `--scope "${scope}" is short and needs --tenant (or write stella:${scope}#tenant/<id>)`);
  return `stella:${scope}#tenant/${tenant}`;
}

export function registerAuth(program: Command, ctx: CommandContext): void {
  const auth = program.command('auth').description('tokens for the service');
  ctx.action(
    auth
      .command('token')
      .description("mint a token from the service's development authority (embedded installs); prints only the token")
      .requiredOption('--data-dir <dir>', "the service's data directory (STELLA_DATA_DIR)")
      .option('--tenant <tenant>', 'tenant that short scopes are bound to')
      .requiredOption('--scope <scope...>', 'scopes: timeline:read, or stella:timeline:read#tenant/acme; repeatable')
      .option('--ttl <duration>', 'lifetime: 15m, 1h, 7d (at most 30d)', '1h')
      .option('--subject <sub>', 'the sub claim: who the token speaks for', 'dev-user')
      .option('--audience <aud>', 'the aud claim the service expects', 'stella-observability'),
    async (_args, opts: { dataDir: string; tenant?: string; scope: string[]; ttl: string; subject: string; audience: string }): Promise<CommandResult> => {
      if (opts.tenant !== undefined && !TENANT_RE.test(opts.tenant)) {
        throw new CliError('usage', '--tenant must be 1-64 letters, digits, "_" or "-", starting with a letter or digit');
      }
      const ttl = parseTtl(opts.ttl);
      const scopes = opts.scope.map((s) => expandScope(s, opts.tenant));
      const dataDir = resolve(ctx.io.cwd, opts.dataDir);
      let jwk: JWK;
      try {
        jwk = JSON.parse(await readFile(join(dataDir, DEV_KEY_FILE), 'utf8')) as JWK;
      } catch {
        throw new CliError(
          'authority_missing',
          `no development authority key in ${dataDir}; start the service once with STELLA_DATA_DIR=${opts.dataDir} (it creates the key), or point --data-dir at that directory`,
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
