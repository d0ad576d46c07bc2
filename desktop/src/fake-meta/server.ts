/**
 * A fake of Meta's Graph API for the Conversions API, over real HTTP on 127.0.0.1, for the desktop's Meta
 * forwarding and its tests:
 *
 *   const graph = await startFakeGraph();   // graph.url, graph.pixelId, graph.token
 *   POST {graph.url}/v25.0/{pixel id}/events   { data: [...], access_token, test_event_code? }
 *
 * Each request is logged (`graph.log`), then: an injected failure if one is queued, the access token (body, or
 * the query as Meta's curl example sends it; 190 when unknown), the pixel (100 when unknown), then every event
 * (validate.ts). Accepted: `{events_received, messages: [], fbtrace_id}` as Meta's "Send Requests" example
 * answers (https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api); refused: Meta's
 * error object `{error: {message, type, code, error_subcode?, error_user_title?, error_user_msg?, fbtrace_id}}`
 * (https://developers.facebook.com/docs/graph-api/guides/error-handling).
 *
 * Where it differs from Meta: bodies are JSON or form-urlencoded (Meta's curl example posts multipart form
 * fields, which this fake does not parse); the HTTP status of an error is 400, or 500 for codes 1 and 2
 * (Meta's statuses per code are not documented); error texts are the fake's own; no deduplication by
 * event_id (each accepted event is logged, so a test sees a second send).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkEvents } from './validate';

export interface GraphRequestRecord {
  at: number;
  method: string;
  path: string;
  version: string | null;
  pixelId: string | null;
  /** Whether the token was the one this fake knows (the token itself is never logged). */
  tokenOk: boolean;
  tokenIn: 'body' | 'query' | null;
  testEventCode: string | null;
  contentType: string | null;
  data: unknown;
  status: number;
  answer: unknown;
  warnings: string[];
}

export interface InjectedFailure {
  /** Graph error code: 1, 2, 4, 17, 613 (transient), 190 (token), 100 (parameter), ... */
  code?: number;
  subcode?: number;
  userMessage?: string;
  /** The HTTP status; with no code, the body is an HTML page (a gateway's). */
  status?: number;
  /** Hold the answer this long (past the client's 1.5 s timeout, say). */
  delayMs?: number;
}

export interface FakeGraph {
  url: string;
  pixelId: string;
  token: string;
  log: GraphRequestRecord[];
  /** Every event accepted, in order, with the test code of its request. */
  received: { event: Record<string, unknown>; testEventCode: string | null }[];
  /** The next `n` requests to the events edge are answered with this failure. */
  failNext(n: number, failure: InjectedFailure): void;
  close(): Promise<void>;
}

export interface FakeGraphOptions {
  port?: number;
  pixelId?: string;
  token?: string;
  /** Seconds since the epoch; Date.now when absent. */
  nowS?: () => number;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;
const EVENTS_PATH = /^\/(v\d+\.\d+)\/([^/]+)\/events$/;

const NAMES: Record<number, { type: string; message: string }> = {
  1: { type: 'OAuthException', message: 'An unknown error occurred' },
  2: { type: 'OAuthException', message: 'An unexpected error has occurred. Please retry your request later.' },
  4: { type: 'OAuthException', message: 'Application request limit reached' },
  17: { type: 'OAuthException', message: 'User request limit reached' },
  100: { type: 'OAuthException', message: 'Invalid parameter' },
  190: { type: 'OAuthException', message: 'Invalid OAuth access token - Cannot parse access token' },
  613: { type: 'OAuthException', message: 'Calls to this api have exceeded the rate limit.' },
};

export async function startFakeGraph(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  const pixelId = options.pixelId ?? '1234567890123456';
  const token = options.token ?? 'EAAFakeRevtrailConversionsApiToken0123456789';
  const nowS = options.nowS ?? (() => Math.floor(Date.now() / 1000));
  const log: GraphRequestRecord[] = [];
  const received: FakeGraph['received'] = [];
  const failures: InjectedFailure[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let traces = 0;
  const trace = () => `AFakeTrace${String(++traces).padStart(6, '0')}`;
  const error = (code: number, extra: { subcode?: number; title?: string; userMessage?: string } = {}) => ({
    error: {
      message: NAMES[code]?.message ?? `Error ${code}`,
      type: NAMES[code]?.type ?? 'OAuthException',
      code,
      ...(extra.subcode !== undefined ? { error_subcode: extra.subcode } : {}),
      ...(extra.title !== undefined ? { error_user_title: extra.title } : {}),
      ...(extra.userMessage !== undefined ? { error_user_msg: extra.userMessage } : {}),
      fbtrace_id: trace(),
    },
  });

  const handle = (req: IncomingMessage, body: string | null): { status: number; answer: unknown; html?: boolean; delayMs?: number; record: GraphRequestRecord } => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() || null;
    const record: GraphRequestRecord = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      version: null,
      pixelId: null,
      tokenOk: false,
      tokenIn: null,
      testEventCode: null,
      contentType,
      data: null,
      status: 0,
      answer: null,
      warnings: [],
    };
    const done = (status: number, answer: unknown, more: { html?: boolean; delayMs?: number } = {}) => ({ status, answer, record, ...more });
    const match = EVENTS_PATH.exec(url.pathname);
    if (!match) return done(400, error(100, { subcode: 33, userMessage: `Unknown path components: ${url.pathname}` }));
    if (record.method !== 'POST') return done(400, error(100, { userMessage: 'The events edge takes POST.' }));
    record.version = match[1]!;
    record.pixelId = decodeURIComponent(match[2]!);
    if (body === null) return done(400, error(100, { userMessage: 'The request body is too large.' }));

    let fields: Record<string, unknown>;
    if (contentType === 'application/json') {
      try {
        const parsed: unknown = JSON.parse(body);
        fields = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      } catch {
        return done(400, error(100, { userMessage: 'The body is not JSON.' }));
      }
    } else if (contentType === 'application/x-www-form-urlencoded') {
      fields = Object.fromEntries(new URLSearchParams(body));
      if (typeof fields.data === 'string') {
        try {
          fields.data = JSON.parse(fields.data);
        } catch {
          return done(400, error(100, { userMessage: 'data is not a JSON array.' }));
        }
      }
    } else {
      return done(400, error(100, { userMessage: `This fake reads application/json and application/x-www-form-urlencoded bodies, not ${contentType ?? 'none'}.` }));
    }
    record.data = fields.data ?? null;
    record.testEventCode = typeof fields.test_event_code === 'string' ? fields.test_event_code : null;
    const bodyToken = typeof fields.access_token === 'string' ? fields.access_token : null;
    const queryToken = url.searchParams.get('access_token');
    record.tokenIn = bodyToken !== null ? 'body' : queryToken !== null ? 'query' : null;
    record.tokenOk = (bodyToken ?? queryToken) === token;

    const injected = failures.shift();
    if (injected) {
      const status = injected.status ?? (injected.code === 1 || injected.code === 2 ? 500 : 400);
      if (injected.code === undefined) return done(status, `<html><body>${status}</body></html>`, { html: true, delayMs: injected.delayMs });
      return done(status, error(injected.code, { subcode: injected.subcode, userMessage: injected.userMessage, title: injected.userMessage ? 'Injected failure' : undefined }), { delayMs: injected.delayMs });
    }
    if (record.tokenIn === null) return done(400, error(190, { userMessage: 'An access token is required to request this resource.' }));
    if (!record.tokenOk) return done(400, error(190));
    if (record.pixelId !== pixelId) {
      return done(400, error(100, { subcode: 33, userMessage: `Unsupported post request. Object with ID '${record.pixelId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.` }));
    }
    if (fields.test_event_code !== undefined && (typeof fields.test_event_code !== 'string' || fields.test_event_code.length === 0)) {
      return done(400, error(100, { title: 'Invalid test_event_code', userMessage: 'test_event_code must be the code Events Manager shows.' }));
    }
    const invalid = checkEvents(fields.data, nowS(), record.warnings);
    if (invalid) return done(400, error(100, { title: invalid.title, userMessage: invalid.message }));
    const events = fields.data as Record<string, unknown>[];
    for (const event of events) received.push({ event, testEventCode: record.testEventCode });
    return done(200, { events_received: events.length, messages: [], fbtrace_id: trace() });
  };

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      let out: ReturnType<typeof handle>;
      try {
        out = handle(req, body);
      } catch (e) {
        console.error('fake Graph API failed on', req.method, req.url, e);
        out = { status: 500, answer: error(1), record: { at: Date.now(), method: req.method ?? '', path: req.url ?? '', version: null, pixelId: null, tokenOk: false, tokenIn: null, testEventCode: null, contentType: null, data: null, status: 0, answer: null, warnings: [] } };
      }
      out.record.status = out.status;
      out.record.answer = out.answer;
      log.push(out.record);
      const write = () => {
        if (res.destroyed) return;
        const text = out.html ? String(out.answer) : JSON.stringify(out.answer);
        res.writeHead(out.status, { 'content-type': out.html ? 'text/html' : 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (!out.delayMs) return write();
      const t = setTimeout(() => {
        timers.delete(t);
        write();
      }, out.delayMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    pixelId,
    token,
    log,
    received,
    failNext(n, failure) {
      for (let i = 0; i < n; i++) failures.push(failure);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

