/**
 * A stateful fake of Stripe's read API over real HTTP on 127.0.0.1, for the desktop's Stripe sync and its
 * tests, driven through the official `stripe` client:
 *
 *   const fake = await startFakeStripe({ seed: 'default' });
 *   const stripe = new Stripe(fake.keys.restricted, { host: '127.0.0.1', port: fake.port, protocol: 'http' });
 *
 * Each request goes: record it, take an injected fault if one is queued, authenticate the Bearer key (401
 * unknown, 401 api_key_expired when revoked), pick the account from `Stripe-Account` (403 when the key
 * cannot reach it), match the route (404 otherwise, and for an endpoint made absent), check the key's permission (403 naming the rak_
 * permission), then answer in the `Stripe-Version` the request pins (the account's default otherwise).
 *
 * Writes: webhook endpoints only (create, update, delete; webhook-endpoints.ts), for a secret key or one
 * with rak_webhook_write. Any other write answers what Stripe answers a read-only restricted key, 403
 * naming the rak_..._write permission; with a secret key it answers 405, as this fake implements no
 * other writes. Each event the state emits is delivered to the endpoints that want it (webhooks.ts).
 *
 * The fake's own test controls live under /_fake/ (controls.ts): a purchase, a refund, the delivery log.
 * They are not Stripe's API, take any key of the fake that is not revoked, and stay out of the request log.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import type { AccountData } from './account';
import type { KeyRecord } from './control';
import { answerControl, CONTROL_PREFIX } from './controls';
import { stripeErrors, type Reply } from './errors';
import { allows, READ_PERMISSIONS, requiredPermission, type Resource } from './permissions';
import { parseQuery } from './query';
import { handleRead, matchRoute } from './routes';
import { defaultSeed, type FakeStripeSeed } from './seed';
import { FakeStripeState } from './state';
import { handleWebhookEndpointWrite } from './webhook-endpoints';
import type { WebhookOptions } from './webhooks';

/** Larger request bodies are refused; the fake's writes are a few hundred bytes. */
const MAX_BODY_BYTES = 1_000_000;

export interface FakeStripeOptions {
  /** 0 or absent: any free port. */
  port?: number;
  /** Data to start with: 'default' for the fixed seed, or a seed function (bulkSeed, your own). */
  seed?: FakeStripeSeed | 'default';
  /** Epoch milliseconds; Date.now when absent. */
  clock?: () => number;
  /** Endpoints this server lacks, as an older API or another Stripe-compatible server may (see EndpointControl). */
  lacking?: Resource[];
  /** Webhook retry schedule and delivery timeout (DEFAULT_RETRY_DELAYS_MS and 20 s when absent). */
  webhooks?: WebhookOptions;
}

/**
 * The secret key of every server startFakeStripe starts (keys are issued in a fixed order): what the
 * command line's purchase and refund use unless told otherwise.
 */
export const STANDARD_SECRET_KEY = standardKeys(new FakeStripeState()).secret;

/** Keys every fake server accepts (the state can issue more). */
export interface FakeStripeKeys {
  /** rk_test_ with every read permission the product asks for. */
  restricted: string;
  /** sk_test_: Stripe accepts it; the product must refuse it itself. */
  secret: string;
  withoutCharges: string;
  withoutBalance: string;
  withoutEvents: string;
  /** Revoked: answers 401 api_key_expired. */
  revoked: string;
}

export interface FakeStripe {
  url: string;
  port: number;
  state: FakeStripeState;
  keys: FakeStripeKeys;
  close(): Promise<void>;
}

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const state = new FakeStripeState({
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
  });
  const keys = standardKeys(state);
  const seed = options.seed === 'default' ? defaultSeed : options.seed;
  if (seed) seed(state);
  for (const resource of options.lacking ?? []) state.endpoints.remove(resource);
  const pending = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    void text(req).then((body) => {
      if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
        return send(res, stripeErrors.invalidParam('body', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`), null);
      }
      const resource = matchRoute(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)?.resource;
      const delayMs = resource ? state.endpoints.delayOf(resource) : 0;
      if (delayMs === 0) return answer(state, req, res, body);
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (!res.destroyed) answer(state, req, res, body);
      }, delayMs);
      pending.add(timer);
    }, () => res.destroy()); // the client went away mid-body: nothing to answer
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    keys,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of pending) clearTimeout(timer);
        state.webhooks.stop();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function standardKeys(state: FakeStripeState): FakeStripeKeys {
  const without = (missing: string) => READ_PERMISSIONS.filter((p) => p !== missing);
  const revoked = state.addRestrictedKey(READ_PERMISSIONS);
  state.revoke(revoked);
  return {
    restricted: state.addRestrictedKey(READ_PERMISSIONS),
    secret: state.addSecretKey(),
    withoutCharges: state.addRestrictedKey(without('rak_charge_read')),
    withoutBalance: state.addRestrictedKey(without('rak_balance_read')),
    withoutEvents: state.addRestrictedKey(without('rak_event_read')),
    revoked,
  };
}

function answer(state: FakeStripeState, req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const accountHeader = headerOf(req, 'stripe-account');
  const versionHeader = headerOf(req, 'stripe-version');
  const authorization = headerOf(req, 'authorization');
  let reply: Reply;
  if (url.pathname.startsWith(CONTROL_PREFIX)) {
    try {
      reply = answerControl(state, { method, url, body, authorization, account: accountHeader });
    } catch (error) {
      console.error('fake Stripe control failed on', method, url.pathname, error);
      reply = stripeErrors.server(500, {});
    }
    return send(res, reply, null);
  }
  try {
    reply = decide(state, method, url, accountHeader, versionHeader, authorization, body);
  } catch (error) {
    // A bug in the fake, not a Stripe answer: say so loudly, answer as Stripe answers its own failures.
    console.error('fake Stripe failed on', method, url.pathname, error);
    reply = stripeErrors.server(500, {});
  }
  state.log.add({
    method,
    path: url.pathname,
    query: url.search,
    account: accountHeader,
    apiVersion: versionHeader,
    status: reply.status,
    at: state.nowMs(),
  });
  send(
    res,
    reply,
    `req_fake${String(state.log.count()).padStart(10, '0')}`,
    versionHeader ?? state.findAccount(accountHeader)?.defaultApiVersion ?? state.platform.defaultApiVersion,
  );
}

function send(res: ServerResponse, reply: Reply, requestId: string | null, apiVersion?: string): void {
  const body = JSON.stringify(reply.body, null, 2);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...(requestId === null ? {} : { 'Request-Id': requestId }),
    ...(apiVersion === undefined ? {} : { 'Stripe-Version': apiVersion }),
    ...reply.headers,
  });
  res.end(body);
}

function decide(
  state: FakeStripeState,
  method: string,
  url: URL,
  accountHeader: string | null,
  versionHeader: string | null,
  authorization: string | null,
  body: string,
): Reply {
  const fault = state.faults.take(url.pathname);
  if (fault) {
    const headers: Record<string, string> = {};
    if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
    if (fault.shouldRetry !== undefined) headers['Stripe-Should-Retry'] = String(fault.shouldRetry);
    return fault.status === 429 ? stripeErrors.rateLimited(headers) : stripeErrors.server(fault.status, headers);
  }

  const key = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!key) return stripeErrors.missingKey();
  const record = state.keyRing.get(key);
  if (!record) return stripeErrors.invalidKey(key);
  if (record.revoked) return stripeErrors.expiredKey(key);

  const account = state.findAccount(accountHeader);
  if (!account) return stripeErrors.noAccessToAccount(key, accountHeader ?? '');

  const route = matchRoute(url.pathname);
  if (!route || state.endpoints.lacks(route.resource)) return stripeErrors.unrecognizedUrl(method, url.pathname);

  if (method !== 'GET') {
    if (!can(record, route.resource, 'write')) {
      return stripeErrors.missingPermission(key, account.id, requiredPermission(route.resource, 'write'));
    }
    if (route.resource === 'webhook_endpoints') {
      // The stripe client sends writes form-encoded, as Stripe takes them; query parameters count too.
      return handleWebhookEndpointWrite(state, account, method, route.id, { ...parseQuery(url.search), ...parseQuery(body) });
    }
    return stripeErrors.readOnly(method, url.pathname);
  }
  if (!can(record, route.resource, 'read')) {
    return stripeErrors.missingPermission(key, account.id, requiredPermission(route.resource, 'read'));
  }
  return handleRead(route, parseQuery(url.search), renderContext(account, record, versionHeader), state.now());
}

function renderContext(account: AccountData, record: KeyRecord, versionHeader: string | null) {
  return {
    account,
    apiVersion: versionHeader ?? account.defaultApiVersion,
    canRead: (resource: Resource) => can(record, resource, 'read'),
    key: record.key,
  };
}

function can(record: KeyRecord, resource: Resource, access: 'read' | 'write'): boolean {
  return record.kind === 'secret' || allows(record.permissions, resource, access);
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}
