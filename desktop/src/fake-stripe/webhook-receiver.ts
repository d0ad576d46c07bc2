// Test support: an HTTP server on 127.0.0.1 that records what the fake's webhooks deliver and answers
// with the statuses a test queues. Nothing shipped imports this.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent: what a signature is checked against. */
  body: string;
  /** performance.now() when the request had arrived in full. */
  receivedAt: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Statuses for the next requests, in order; 200 once they run out. */
  answers: number[];
  /** Called for each request before it is answered; a promise holds the answer until it settles. */
  onRequest: ((r: Received) => void | Promise<void>) | null;
  close(): Promise<void>;
}

/** Starts a receiver; `port` reopens one on a port a closed receiver had (a receiver back up). */
export async function startReceiver(port = 0): Promise<Receiver> {
  const receiver: Receiver = { url: '', port: 0, received: [], answers: [], onRequest: null, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: performance.now() };
      receiver.received.push(r);
      const status = receiver.answers.shift() ?? 200;
      void Promise.resolve(receiver.onRequest?.(r)).then(() => {
        // A redirect points back here: a sender that followed it would see a 200 on the next request.
        const location = status >= 300 && status < 400 ? { Location: '/redirected' } : {};
        if (!res.destroyed) res.writeHead(status, { 'Content-Type': 'text/plain', ...location }).end(String(status));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/webhooks/stripe`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}
