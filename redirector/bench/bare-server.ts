import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BareServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * The reference: the least a redirect can cost in Node on this machine. node:http, a Map lookup of the
 * slug, the same 302 the redirector answered once; no cookie, no click, no parsing of the user agent.
 */
export async function startBareRedirector(locations: ReadonlyMap<string, string>): Promise<BareServer> {
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const q = path.indexOf('?');
    const location = locations.get((q === -1 ? path : path.slice(0, q)).slice(1));
    if (location === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Link not found');
      return;
    }
    res.writeHead(302, { location, 'cache-control': 'private, no-store' }).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
