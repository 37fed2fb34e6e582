import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function openssl(args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return run('openssl', args, { cwd, encoding: 'utf8' });
}

export interface TestTsa {
  readonly dir: string;
  /** PEM of the TSA root CA (the trust anchor). */
  readonly caPem: string;
  readonly caPath: string;
  readonly tsaCertPath: string;
  /** Stamps `data` with `openssl ts -reply`; returns the DER TimeStampResp. */
  stamp(data: Uint8Array): Promise<Buffer>;
  /** Answers a DER TimeStampReq with `openssl ts -reply`. */
  reply(query: Uint8Array): Promise<Buffer>;
  /** Serves RFC 3161 over HTTP on 127.0.0.1; resolves to its URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real RFC 3161 TSA: a throwaway root CA and TSA certificate made by openssl at test time,
 * answering with `openssl ts -reply`.
 */
export async function startTestTsa(options: { name?: string } = {}): Promise<TestTsa> {
  const dir = await mkdtemp(join(tmpdir(), 'stella-tsa-'));
  const name = options.name ?? 'StellaOps Test TSA';
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-days', '3', '-subj', `/CN=${name} Root`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', `/CN=${name}`], dir);
  await writeFile(
    join(dir, 'ext.cnf'),
    'extendedKeyUsage=critical,timeStamping\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n',
  );
  await openssl(['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tsa.pem', '-days', '2', '-extfile', 'ext.cnf'], dir);
  await writeFile(join(dir, 'serial'), '01\n');
  await writeFile(
    join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${join(dir, 'serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${join(dir, 'tsa.pem')}`,
      `certs = ${join(dir, 'ca.pem')}`,
      `signer_key = ${join(dir, 'tsa.key')}`,
      'signer_digest = sha256',
      'default_policy = 1.3.6.1.4.1.55555.1',
      'digests = sha256',
      'accuracy = secs:1',
      'ordering = yes',
      'tsa_name = yes',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  const caPem = await readFile(join(dir, 'ca.pem'), 'utf8');
  let counter = 0;
  let server: Server | undefined;

  const reply = async (query: Uint8Array): Promise<Buffer> => {
    const n = counter++;
    const q = join(dir, `q${n}.tsq`);
    const r = join(dir, `r${n}.tsr`);
    await writeFile(q, query);
    await openssl(['ts', '-reply', '-config', join(dir, 'tsa.cnf'), '-queryfile', q, '-out', r], dir);
    return readFile(r);
  };

  return {
    dir,
    caPem,
    caPath: join(dir, 'ca.pem'),
    tsaCertPath: join(dir, 'tsa.pem'),
    reply,
    async stamp(data) {
      const n = counter++;
      const d = join(dir, `d${n}.bin`);
      const q = join(dir, `d${n}.tsq`);
      await writeFile(d, data);
      await openssl(['ts', '-query', '-data', d, '-sha256', '-cert', '-out', q], dir);
      return reply(await readFile(q));
    },
    async listen() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          reply(Buffer.concat(chunks)).then(
            (body) => {
              res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
              res.end(body);
            },
            () => {
              res.writeHead(500);
              res.end();
            },
          );
        });
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const addr = server.address();
      if (!addr || typeof addr === 'string') throw new Error('no address');
      return `http://127.0.0.1:${addr.port}/tsa`;
    },
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
