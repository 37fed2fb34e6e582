/**
 * Reading the key material commands are given. Where a flag documents a public key, a private
 * key is refused — never silently reduced to its public half: a private key passed around as a
 * verification key is a key that has leaked into the wrong place, and the user should know.
 */
import { readFile } from 'node:fs/promises';
import type { Keyring, Signer } from '@stellaops/forensics';
import { forensicsLib } from './lazy.js';
import { CliError } from './output.js';

/** Any PEM private key label: PKCS#8 (plain or encrypted), PKCS#1, SEC1, OpenSSH. */
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** The text of a file the command needs (exit 2 when it cannot be read). */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new CliError('not_found', `cannot read ${what} ${path}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * A trusted public key (SPKI PEM) for `flag`: a private key is refused with a clear error, and
 * anything else that is not a public key fails here rather than inside a verification.
 */
export async function readPublicKeyPem(path: string, flag: string): Promise<string> {
  const pem = await readText(path, `${flag}`);
  if (PRIVATE_KEY_PEM.test(pem)) {
    throw new CliError('private_key_given', `${flag} ${path} is a private key; ${flag} takes a public key (SPKI PEM, "BEGIN PUBLIC KEY")`, {
      hint: 'pass the public half: signing.pub.pem from stella forensic keygen, or the service capture key from stella telemetry signing-key --out capture.pub.pem',
    });
  }
  try {
    (await forensicsLib()).loadPublicKey(pem);
  } catch (cause) {
    throw new CliError('invalid_key', `${flag} ${path} is not a public key: ${(cause as Error).message}`, { cause });
  }
  return pem;
}

/** A signer over the private key in `path` (for the flags that document a private key). */
export async function readSigner(path: string): Promise<Signer> {
  return (await forensicsLib()).createKeySigner(await readText(path, 'private key'));
}

export async function loadKeyring(path: string): Promise<Keyring> {
  return (await forensicsLib()).Keyring.fromJSON(await readText(path, 'key ring'));
}
