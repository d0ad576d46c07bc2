import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkInput } from '@revtrail/shared';
import { RedirectorClient, RedirectorError } from './client';
import { htmlPage, redirectorError, startProxy, type ProxyAnswer, type TestProxy } from './testing/proxy';

// Every message the redirector client makes, for every call and every way a call fails, over real HTTP.
// In the app they say what was being done in the user's words: no HTTP method, API path or status code
// (the "refused PUT /api/v1/links/hello: 400" the Links screen showed), no CLI command. Those go to the log.

const TOKEN = 'client-test-token-0123456789abcdef';
const LINK: LinkInput = { destination: 'https://shop.example/', channel: 'Newsletter' };

const ANSWERS: Record<string, ProxyAnswer> = {
  'refused token': redirectorError(401, 'unauthorized', 'Bad token.'),
  busy: redirectorError(429, 'rate_limited', 'Too many requests.'),
  'server error': { status: 503, type: 'text/plain', body: 'Service Unavailable' },
  refused: redirectorError(400, 'invalid_input', 'destination: must be an http(s) address'),
  'older redirector': redirectorError(404, 'not_found', 'No such route.'),
  'proxy page': htmlPage(403, 'Forbidden'),
  'a shop page': htmlPage(200, 'Welcome'),
  'foreign JSON': { status: 200, type: 'application/json', body: '{"hello":"world"}' },
  timeout: 'hang',
};

/** Each call of the client, by name. */
const CALLS: Record<string, (c: RedirectorClient) => Promise<unknown>> = {
  status: (c) => c.status(),
  emailHashKey: (c) => c.emailHashKey(),
  links: (c) => c.links(),
  putLink: (c) => c.putLink('hello', LINK),
  'feed clicks': (c) => c.feed('clicks', 'cursor-1', 100),
  'feed identities': (c) => c.feed('identities', null, 100),
  'feed stripe-hints': (c) => c.feed('stripe-hints', null, 100),
  people: (c) => c.people({ emailHash: 'abc' }),
  erase: (c) => c.erase({ visitorId: 'v1' }),
  eraseStripeHints: (c) => c.eraseStripeHints(['cus_1']),
  webhookStatus: (c) => c.webhookStatus(),
  putWebhookSecrets: (c) => c.putWebhookSecrets(['whsec_x']),
  settings: (c) => c.settings(),
  putSettings: (c) => c.putSettings({ retentionDays: 30 }),
};

const HTTP_WORDS = /\b(GET|PUT|POST|PATCH|DELETE|HEAD)\b|\/api\/|\bHTTP\b|\b[1-5]\d\d\b|revtrail [a-z]|--[a-z]/;

let proxy: TestProxy;
let closedPort: string;
beforeAll(async () => {
  proxy = await startProxy(null);
  const gone = await startProxy(null);
  closedPort = gone.url;
  await gone.close();
});
afterAll(() => proxy?.close());

async function failureOf(client: RedirectorClient, call: (c: RedirectorClient) => Promise<unknown>): Promise<RedirectorError> {
  try {
    await call(client);
  } catch (e) {
    if (e instanceof RedirectorError) return e;
    throw e;
  }
  throw new Error('the call did not fail');
}

describe('redirector client messages', () => {
  it('in the app name what was being done, never an HTTP method, path, status or CLI command; the log has those', async () => {
    const logged: Record<string, unknown>[] = [];
    const log = { info: (o: object) => void logged.push(o as Record<string, unknown>), warn: () => undefined, error: () => undefined };
    const client = new RedirectorClient(proxy.url, TOKEN, { surface: 'app', log, timeoutMs: 300 });
    const unreachable = new RedirectorClient(closedPort, TOKEN, { surface: 'app', log, timeoutMs: 300 });
    const messages: string[] = [];
    for (const [name, call] of Object.entries(CALLS)) {
      for (const [situation, answer] of Object.entries(ANSWERS)) {
        proxy.rules = [() => answer];
        const e = await failureOf(client, call);
        messages.push(`${name} / ${situation}: ${e.message.replaceAll(proxy.url, 'ADDRESS')}`);
      }
      messages.push(`${name} / nothing listening: ${(await failureOf(unreachable, call)).message.replaceAll(closedPort, 'ADDRESS')}`);
    }
    expect(messages.filter((m) => HTTP_WORDS.test(m))).toEqual([]);
    // Each says what it was about, e.g. the link by its slug.
    expect(messages.find((m) => m.startsWith('putLink / refused:'))).toBe(
      'putLink / refused: The redirector at ADDRESS refused to save link hello: destination: must be an http(s) address.',
    );
    expect(messages.find((m) => m.startsWith('feed clicks / nothing listening:'))).toBe(
      'feed clicks / nothing listening: The redirector at ADDRESS did not answer when asked to send new clicks (nothing answers at that address: is the redirector running?). Try again in a few minutes.',
    );
    expect(messages.find((m) => m.startsWith('status / refused token:'))).toContain('paste its current sync token on the Set up screen');
    // The technical detail is in the log: method, path (never the query) and status.
    expect(logged).toContainEqual(expect.objectContaining({ request: 'PUT /api/v1/links/hello', status: 400, kind: 'rejected' }));
    expect(logged).toContainEqual(expect.objectContaining({ request: 'GET /api/v1/clicks', status: null, kind: 'unavailable', reason: 'ECONNREFUSED' }));
    expect(logged.every((o) => !JSON.stringify(o).includes(TOKEN) && !JSON.stringify(o).includes('cursor-1'))).toBe(true);
  }, 60_000);

  it('the webhook endpoint probe says what answered without its status in the app', async () => {
    proxy.rules = [() => htmlPage(502, 'Bad gateway')];
    const app = await new RedirectorClient(proxy.url, TOKEN, { surface: 'app' }).probeWebhookEndpoint(`${proxy.url}/webhooks/stripe`);
    expect(app).toMatchObject({ answered: 'foreign', status: 502 });
    expect(app.message.replaceAll(proxy.url, 'ADDRESS')).not.toMatch(HTTP_WORDS);
  });

  it('in the CLI keep the request and status, for the terminal', async () => {
    proxy.rules = [() => ANSWERS.refused!];
    const e = await failureOf(new RedirectorClient(proxy.url, TOKEN), (c) => c.putLink('hello', LINK));
    expect(e.message).toBe('The redirector refused PUT /api/v1/links/hello: 400 destination: must be an http(s) address.');
  });
});
