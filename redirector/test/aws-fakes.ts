import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * A TCP proxy in front of dynalite that can add latency to every chunk, or refuse connections. It notes the
 * operation of each DynamoDB request passing through (its X-Amz-Target header, as the SDK sends it) and the
 * index each names, so a test can list what a function called.
 */
export async function slowProxy(target: number): Promise<{ port: number; delayMs: number; operations: string[]; indexes: string[]; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { delayMs: 0 };
  const operations: string[] = [];
  const indexes: string[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    const pipe = (from: Socket, to: Socket, note: boolean) =>
      from.on('data', (chunk: Buffer) => {
        if (note) for (const m of chunk.toString('latin1').matchAll(/^x-amz-target:\s*DynamoDB_\d+\.(\w+)\r$/gim)) operations.push(m[1]!);
        if (note) for (const m of chunk.toString('latin1').matchAll(/"IndexName":"([\w.-]+)"/g)) indexes.push(m[1]!);
        const d = state.delayMs;
        if (d === 0) to.write(chunk);
        else setTimeout(() => to.writable && to.write(chunk), d);
      });
    pipe(client, upstream, true);
    pipe(upstream, client, false);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as { port: number }).port,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    operations,
    indexes,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

export interface FakeSqs {
  url: string;
  queueUrl: string;
  /** Every message body sent, in order. */
  bodies: string[];
  /** The operation of each request (X-Amz-Target: AmazonSQS.SendMessage, the JSON protocol the SDK speaks). */
  operations: string[];
  /** Answer after this long; Infinity: never answer (a queue that hangs). */
  delayMs: number;
  client: SQSClient;
  close(): Promise<void>;
}

/** An SQS endpoint (AWS JSON 1.0 protocol, as the SDK speaks it) keeping every message body it is sent. */
export async function fakeSqs(): Promise<FakeSqs> {
  const bodies: string[] = [];
  const operations: string[] = [];
  const state = { delayMs: 0 };
  const server = createHttpServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      operations.push(String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, ''));
      const answer = () => {
        const body = (JSON.parse(raw) as { MessageBody: string }).MessageBody;
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ MessageId: String(bodies.length), MD5OfMessageBody: createHash('md5').update(body).digest('hex') }));
      };
      if (state.delayMs === 0) answer();
      else if (Number.isFinite(state.delayMs)) setTimeout(answer, state.delayMs);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const client = new SQSClient({ endpoint: url, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  return {
    url,
    queueUrl: `${url}/123456789012/spill`,
    bodies,
    operations,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    client,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
