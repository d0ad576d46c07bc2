// What the same-origin tests put in front of the redirector: Debian's nginx, run from a temporary directory
// with the recipe of docs/same-origin/nginx.conf; a self-signed certificate for the shop's host; and an
// adapter that serves a fetch-style handler (the Cloudflare Worker and Netlify recipes) from node:https.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';

export const RECIPES = join(import.meta.dirname, '..', 'docs', 'same-origin');
export const recipe = (name: string): string => readFileSync(join(RECIPES, name), 'utf8');

/** The command that installs nginx, for a person to run. */
export const NGINX_INSTALL = 'sudo apt-get install -y nginx';

/** Debian's nginx: on PATH, or in the sbin directories a non-root PATH leaves out. */
export function findNginx(env: Record<string, string | undefined> = process.env): string | null {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin'].filter(Boolean);
  return dirs.map((d) => join(d, 'nginx')).find((p) => existsSync(p)) ?? null;
}

export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise((ok) => server.close(ok));
  return port;
}

async function accepting(port: number, deadline: number, why: () => string): Promise<void> {
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((ok) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        ok(true);
      }).on('error', () => ok(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}: ${why()}`);
}

/** A certificate for `hosts`, made with openssl for this run (valid one day). */
export function selfSignedCert(dir: string, hosts: string[]): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  return { cert, key };
}

export interface Nginx {
  stop(): Promise<void>;
  errors(): string;
}

/**
 * nginx in the foreground from `dir`, with `servers` as its http block's server blocks. Checked with -t first, so
 * a recipe nginx refuses fails with nginx's own words; resolves once every port in `ports` accepts connections.
 */
export async function startNginx(nginx: string, dir: string, servers: string, ports: number[]): Promise<Nginx> {
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'error.log');
  writeFileSync(
    conf,
    [
      // As root, nginx's workers would run as nobody, who cannot read this 0700 directory.
      process.getuid?.() === 0 ? 'user root root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      '  default_type text/html;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
      servers,
      '}',
    ].join('\n'),
  );
  const args = ['-p', dir, '-e', errorLog, '-c', conf];
  const test = spawnSync(nginx, ['-t', ...args], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx refused the configuration:\n${test.stderr}`);
  const child: ChildProcess = spawn(nginx, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const errors = () => `${stderr}${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`;
  const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
  for (const port of ports) await accepting(port, Date.now() + 10_000, errors);
  return {
    errors,
    async stop() {
      child.kill('SIGQUIT'); // graceful: the master waits for its workers
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export type FetchHandler = (request: Request, socket: { remoteAddress: string }) => Promise<Response>;

/** Serves a fetch-style handler over node:https as a platform would: the visitor's address beside the request. */
export function serveFetch(tls: { cert: string; key: string }, handler: FetchHandler) {
  return createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        for (const v of Array.isArray(value) ? value : [value ?? '']) headers.append(name, v);
      }
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
      const request = new Request(`https://${req.headers.host}${req.url}`, { method: req.method, headers, body });
      handler(request, { remoteAddress: req.socket.remoteAddress ?? '' })
        .then(async (response) => {
          const out: Record<string, string | string[]> = {};
          // Node's fetch has already decoded the body: its encoding and length no longer apply.
          response.headers.forEach((value, name) => {
            if (!['set-cookie', 'content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(name)) out[name] = value;
          });
          const cookies = response.headers.getSetCookie();
          if (cookies.length > 0) out['set-cookie'] = cookies;
          res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()));
        })
        .catch((e: unknown) => res.writeHead(502).end(String(e)));
    });
  });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request as a visitor's browser would send it to `url` (https: the test certificate is accepted), from
 * `localAddress` so that the proxy sees a visitor address other than its own.
 */
export function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string; host?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  const call = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = call(
      {
        hostname: '127.0.0.1',
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        localAddress: opts.localAddress,
        headers: { host: opts.host ?? u.host, ...opts.headers },
        rejectUnauthorized: false,
        servername: u.hostname,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
