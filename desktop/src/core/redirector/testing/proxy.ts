// Test support: what sits between the desktop and a redirector in the field (a reverse proxy, a firewall, a
// web server at the wrong address), on 127.0.0.1. Each request is forwarded to the target unless a rule
// answers it first. Nothing shipped imports this.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer given instead of the target's: `hang` never answers (a timeout). */
export type ProxyAnswer = { status: number; type: string; body: string } | 'hang';
export type ProxyRule = (method: string, path: string, query: URLSearchParams) => ProxyAnswer | undefined;

export const htmlPage = (status: number, title: string): ProxyAnswer => ({
  status,
  type: 'text/html; charset=utf-8',
  body: `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`,
});

/** The redirector's own error shape, as an older or stricter redirector answers. */
export const redirectorError = (status: number, code: string, message: string): ProxyAnswer => ({
  status,
  type: 'application/json; charset=utf-8',
  body: JSON.stringify({ error: { code, message } }),
});

export interface TestProxy {
  url: string;
  /** The rules, first match answers; change them between calls. */
  rules: ProxyRule[];
  /** Every request seen, as "METHOD /path" (without the query). */
  seen: string[];
  close(): Promise<void>;
}

export async function startProxy(target: string | null): Promise<TestProxy> {
  const hanging = new Set<ServerResponse>();
  const proxy: Omit<TestProxy, 'url' | 'close'> = { rules: [], seen: [] };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    proxy.seen.push(`${method} ${path}`);
    const answer = proxy.rules.map((rule) => rule(method, path, new URLSearchParams(query))).find((a) => a !== undefined) ?? (target ? undefined : htmlPage(200, 'Welcome to our shop'));
    if (answer === 'hang') {
      hanging.add(res);
      req.resume();
      return;
    }
    if (answer) {
      req.resume();
      res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
      return;
    }
    const upstream = request(new URL(req.url ?? '/', target!), { method, headers: { ...req.headers, host: new URL(target!).host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
