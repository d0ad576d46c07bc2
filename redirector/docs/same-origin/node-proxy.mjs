// Revtrail same-origin mode for a Node server (node:http, Express, Koa...): docs/same-origin.md.
// No dependency. Mount it before any body parser:
//   const revtrail = revtrailProxy({ target: 'https://go.brand.com', secret: process.env.REVTRAIL_PROXY_SECRET });
//   app.use((req, res, next) => revtrail(req, res) || next());          // Express
//   http.createServer((req, res) => revtrail(req, res) || site(req, res)); // node:http
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are not forwarded. */
const HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/**
 * A handler that forwards every request under `prefix` to Revtrail and answers with its response; it
 * returns false, touching nothing, for any other path. `clientIp`: the visitor's address; the socket's
 * by default, which behind a load balancer or CDN is theirs: give their header instead.
 */
export function revtrailProxy({ target, secret, prefix = '/_rt/', clientIp = (req) => req.socket.remoteAddress }) {
  if (!secret) throw new Error('revtrailProxy: secret is empty; set REVTRAIL_PROXY_SECRET');
  const upstream = new URL(target);
  const send = upstream.protocol === 'https:' ? httpsRequest : httpRequest;
  return (req, res) => {
    if (!req.url || !req.url.startsWith(prefix)) return false;
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP.includes(name) && name !== 'host' && !name.startsWith('x-revtrail-')) headers[name] = value;
    }
    headers.host = upstream.host;
    headers['x-revtrail-proxy-proof'] = secret;
    headers['x-revtrail-host'] = req.headers.host ?? '';
    headers['x-revtrail-client-ip'] = clientIp(req) ?? '';
    headers['x-revtrail-proto'] = req.socket.encrypted ? 'https' : 'http';
    const path = `${upstream.pathname.replace(/\/$/, '')}/${req.url.slice(prefix.length)}`;
    const out = send({ hostname: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (answer) => {
      const back = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP.includes(name)) back[name] = value;
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
    });
    out.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(out);
    return true;
  };
}
