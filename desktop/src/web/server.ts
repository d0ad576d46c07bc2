import { createHash, timingSafeEqual } from 'node:crypto';
import { internalError } from '@revtrail/shared';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { CoreLogger } from '../core/context';
import type { CoreLike } from '../host/host';
import { CORE_EVENTS, createDispatch, isMethodName, type ShellHandlers } from '../transport/contract';
import { CONTENT_SECURITY_POLICY } from '../transport/csp';

export interface WebServerOptions {
  /** The core, or the host's whole dispatch (shell methods included) in the core process. */
  core: CoreLike;
  /** Always 127.0.0.1: the server refuses any other address. */
  host: '127.0.0.1';
  /** 0: any free port. */
  port: number;
  /** The secret carried in the fragment of the URL the user opens; every RPC and event stream must present it. */
  token: string;
  /** The built renderer (index.html + assets). */
  staticDir: string;
  shell?: ShellHandlers;
  log?: CoreLogger & { readonly file?: string };
}

export interface WebServer {
  /** The address to open: the token rides in its fragment, which browsers never send to any server. */
  url: string;
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** The largest RPC body accepted; a larger one is answered 413. */
export const RPC_BODY_LIMIT = 1_048_576;
const HEARTBEAT_MS = 25_000;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const digest = (s: string) => createHash('sha256').update(s).digest();
const silent: CoreLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Browser mode: the built renderer and the core's RPC on 127.0.0.1. What a web page elsewhere cannot do
 * to it: call it without the token, reach it through a DNS name it rebinds to 127.0.0.1 (the Host header
 * must be 127.0.0.1:port or localhost:port), or post to it cross-origin (Origin, when sent, must be this
 * server). The token travels only in `Authorization: Bearer`, never in a cookie: cookies are not isolated
 * by port (RFC 6265 section 8.5), so one set here would reach every other service on 127.0.0.1, the
 * embedded redirector included. The page and its assets hold no data and are served without it.
 */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  if (opts.host !== '127.0.0.1') throw new Error('The web server listens on 127.0.0.1 only.');
  if (opts.token.length < 16) throw new Error('The web server token must be at least 16 characters.');
  const log: CoreLogger & { readonly file?: string } = opts.log ?? silent;
  const dispatch = createDispatch(opts.core, opts.shell ?? {}, log);
  const tokenDigest = digest(opts.token);
  const staticRoot = resolve(opts.staticDir);
  const streams = new Set<ServerResponse>();
  let port = 0;

  // Digests of equal length, so the comparison takes the same time whatever the candidate's length.
  const tokenMatches = (candidate: string | undefined) => candidate !== undefined && timingSafeEqual(digest(candidate), tokenDigest);
  // RFC 9110 section 11.1: the auth-scheme is case-insensitive.
  const bearerToken = (req: IncomingMessage) => /^bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    res.end(text);
  };
  const failure = (res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { ok: false, error: { code, message } }, headers);

  /**
   * The body, or null as soon as it passes the limit. The rest of an oversized body is read and dropped,
   * never cut off: closing the socket while the client still sends makes it see a reset, not the 413.
   */
  const readBody = (req: IncomingMessage) =>
    new Promise<string | null>((done, fail) => {
      if (Number(req.headers['content-length'] ?? 0) > RPC_BODY_LIMIT) return done(null);
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= RPC_BODY_LIMIT) chunks.push(c);
        else {
          chunks.length = 0;
          done(null);
        }
      });
      req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
      req.on('error', fail);
    });

  const rpc = async (req: IncomingMessage, res: ServerResponse, method: string) => {
    if (req.method !== 'POST') return failure(res, 405, 'invalid_input', 'Call methods with POST /rpc/<method> and a JSON body.');
    if (!isMethodName(method)) return failure(res, 404, 'not_found', `No method "${String(method).slice(0, 60)}".`);
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) return failure(res, 415, 'invalid_input', 'Send the arguments as JSON (Content-Type: application/json).');
    const raw = await readBody(req);
    if (raw === null) {
      return failure(res, 413, 'invalid_input', `This request is larger than Revtrail accepts (${RPC_BODY_LIMIT / 1_048_576} MiB): send it in smaller parts.`, { connection: 'close' });
    }
    let args: unknown = {};
    if (raw.trim() !== '') {
      try {
        args = JSON.parse(raw);
      } catch (e) {
        return failure(res, 400, 'invalid_input', `The request body is not valid JSON (${(e as Error).message}); send one JSON object with the method's arguments.`);
      }
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      return failure(res, 400, 'invalid_input', `${method} takes one JSON object as its arguments.`);
    }
    // Expected failures are Results in the body (200); HTTP statuses are for the transport's own refusals.
    send(res, 200, await dispatch(method, args));
  };

  const events = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const offs = CORE_EVENTS.map((name) => opts.core.on(name, (payload) => res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`)));
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    beat.unref();
    streams.add(res);
    const stop = () => {
      clearInterval(beat);
      for (const off of offs) off();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  };

  const serveStatic = (req: IncomingMessage, res: ServerResponse, pathname: string) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return failure(res, 405, 'invalid_input', 'Only GET here.');
    const index = join(staticRoot, 'index.html');
    if (!existsSync(index)) return send(res, 503, `The app is not built yet (${index} is missing): run \`npm run build --workspace desktop\`, or \`npm start\`, which builds it.`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return send(res, 400, 'Bad path.');
    }
    const file = decoded === '/' ? index : normalize(join(staticRoot, decoded));
    if (file !== index && !file.startsWith(staticRoot + sep)) return send(res, 404, 'Not found.');
    if (!existsSync(file) || !statSync(file).isFile()) return send(res, 404, 'Not found.');
    const hashed = file.startsWith(join(staticRoot, 'assets') + sep);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': MEDIA_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(statSync(file).size),
      // Vite names built assets by content hash; the page itself must always be fresh.
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts().has(req.headers.host ?? '')) {
      return send(res, 403, 'This server answers only at 127.0.0.1 or localhost, on its own port.');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return failure(res, 403, 'forbidden', 'Requests from other sites are refused.');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const guarded = url.pathname.startsWith('/rpc/') || url.pathname === '/events';
    if (!guarded) return serveStatic(req, res, url.pathname);
    if (!tokenMatches(bearerToken(req))) {
      return failure(res, 401, 'unauthorized', 'Missing or wrong access key: open the address Revtrail printed in the terminal (it carries the key).', {
        'www-authenticate': 'Bearer realm="revtrail"',
      });
    }
    if (url.pathname.startsWith('/rpc/')) return rpc(req, res, url.pathname.slice('/rpc/'.length));
    if (req.method !== 'GET') return failure(res, 405, 'invalid_input', 'Subscribe with GET /events.');
    return events(req, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e, path: req.url?.split('?')[0] }, 'web request failed');
      if (!res.headersSent) send(res, 500, internalError(log.file));
      else res.end();
    });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => ready());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/#token=${encodeURIComponent(opts.token)}`,
    origin,
    port,
    close: () =>
      new Promise<void>((done, fail) => {
        for (const s of streams) s.end();
        server.close((e) => (e ? fail(e) : done()));
        server.closeAllConnections();
      }),
  };
}
