import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import type { LambdaResponse } from '@fastify/aws-lambda';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../src/store/embedded';
import { CHROME_UA, testClick } from './support';
import { functionUrlEvent, httpApiEvent, LAMBDA_CONTEXT } from './lambda-events';
import { body, deliveryHeaders, OTHER_SECRET, stripeEvent, WEBHOOK_SECRET } from './stripe-events';

// The Lambda handler as deployed: config from SST's linked resources (SST_RESOURCE_* variables, as SST sets
// them), DynamoDB through the SDK's default client pointed at dynalite by AWS_ENDPOINT_URL_DYNAMODB.
const TOKEN = 'lambda-sync-token-0123456789abcdefghijklmn';
const TABLE = 'revtrail-lambda-test';
const ORIGIN_SECRET = 'lambda-origin-secret-0123456789abcdefghij';
let dynamo: EmbeddedDynamo;
let handler: (event: unknown, context: Context) => Promise<LambdaResponse>;

const context = LAMBDA_CONTEXT;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  const store = new DynamoStore({ tableName: TABLE, retentionDays: 90, client: dynamo.client() });
  await store.ensureTable(Date.now());
  Object.assign(process.env, {
    SST_RESOURCE_App: JSON.stringify({ name: 'revtrail', stage: 'test' }),
    SST_RESOURCE_Table: JSON.stringify({ name: TABLE, type: 'sst.aws.Dynamo' }),
    SST_RESOURCE_SyncToken: JSON.stringify({ value: TOKEN, type: 'sst.sst.Secret' }),
    SST_RESOURCE_EmailHashKey: JSON.stringify({ value: 'lambda-email-key-0123456789abcdefghijklmn', type: 'sst.sst.Secret' }),
    SST_RESOURCE_IpSaltSeed: JSON.stringify({ value: 'lambda-ip-seed-0123456789abcdefghijklmnop', type: 'sst.sst.Secret' }),
    SST_RESOURCE_OriginSecret: JSON.stringify({ value: ORIGIN_SECRET, type: 'sst.sst.Linkable' }),
    SST_RESOURCE_StripeWebhookSecret: JSON.stringify({ value: WEBHOOK_SECRET, type: 'sst.sst.Secret' }),
    REVTRAIL_STAGE: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    REVTRAIL_COOKIE_DOMAIN: 'brand.com',
    REVTRAIL_ALLOWED_ORIGINS: 'https://brand.com',
    REVTRAIL_FEED_SETTLE_MS: '0',
    REVTRAIL_CLICK_WRITE_BUDGET_MS: '3000',
  });
  ({ handler } = await import('../src/lambda'));
});

afterAll(async () => {
  await dynamo.close();
});

describe('Lambda handler', () => {
  it('creates a link, redirects an HTTP API (v2) request with cookies, and serves the click back', async () => {
    const put = await handler(
      httpApiEvent({
        method: 'PUT',
        path: '/api/v1/links/spring',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Newsletter', utm: { utm_source: 'nl' } }),
      }),
      context,
    );
    expect(put.statusCode).toBe(201);

    const res = await handler(
      httpApiEvent({ path: '/spring', query: 'gclid=G-1&utm_campaign=spring,sale', cookies: ['other=1'], headers: { 'x-revtrail-origin-proof': ORIGIN_SECRET, 'cloudfront-viewer-country': 'FR' } }),
      context,
    );
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(location.searchParams.get('utm_campaign')).toBe('spring,sale');
    expect(location.searchParams.get('utm_source')).toBe('nl');
    // Payload v2 returns cookies in their own field, not as a header.
    const cookies = (res as unknown as { cookies?: string[] }).cookies ?? [];
    expect(cookies.find((c) => c.startsWith('rt_vid='))).toMatch(/Domain=brand\.com.*HttpOnly.*Secure.*SameSite=Lax/);

    const feed = await handler(httpApiEvent({ path: '/api/v1/clicks', headers: { authorization: `Bearer ${TOKEN}` } }), context);
    await new Promise((r) => setTimeout(r, 2));
    const cursor = JSON.parse(feed.body).cursor as string;
    const again = await handler(httpApiEvent({ path: '/api/v1/clicks', query: `cursor=${cursor}`, headers: { authorization: `Bearer ${TOKEN}` } }), context);
    const items = [...JSON.parse(feed.body).items, ...JSON.parse(again.body).items];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ slug: 'spring', country: 'FR', clickIds: { gclid: 'G-1' }, utm: { utm_campaign: 'spring,sale' } });
    expect(JSON.stringify(items[0])).not.toContain('198.51.100.23');
  });

  it('serves a function URL event: a returning visitor keeps the id from the cookies array', async () => {
    const vid = 'FunctionUrlVisitor0123';
    const res = await handler(functionUrlEvent({ path: '/spring', cookies: [`rt_vid=${vid}`] }), context);
    expect(res.statusCode).toBe(302);
    const cookies = (res as unknown as { cookies?: string[] }).cookies ?? [];
    expect(cookies[0]).toContain(`rt_vid=${vid};`);
    expect(new URL(res.headers.location as string).searchParams.has('rt_vid')).toBe(false);
  });

  it('believes CloudFront\'s viewer headers on a function URL event only with the origin proof', async () => {
    const vid = 'CloudFrontVisitor01234';
    const cloudFront = {
      'x-forwarded-host': 'go.brand.com',
      'cloudfront-viewer-address': '203.0.113.77:40000',
      'cloudfront-viewer-country': 'JP',
      'user-agent': `${CHROME_UA} proof-test`,
    };
    const since = (await handler(httpApiEvent({ path: '/api/v1/clicks', headers: { authorization: `Bearer ${TOKEN}` } }), context)).body;
    const proven = await handler(functionUrlEvent({ path: '/spring', cookies: [`rt_vid=${vid}`], headers: { ...cloudFront, 'x-revtrail-origin-proof': ORIGIN_SECRET } }), context);
    const forged = await handler(functionUrlEvent({ path: '/spring', cookies: [`rt_vid=${vid}`], headers: cloudFront }), context);
    const plain = await handler(functionUrlEvent({ path: '/spring', cookies: [`rt_vid=${vid}`], headers: { 'user-agent': cloudFront['user-agent'] } }), context);
    expect(plain.statusCode).toBe(302);
    expect(proven.statusCode).toBe(302);
    expect(forged.statusCode).toBe(302);
    // With the proof the cookie is for the viewer's host (go.brand.com, inside brand.com); without it the
    // request is for the function URL's own host, outside the cookie domain: a host-only cookie.
    const cookie = (res: LambdaResponse) => ((res as unknown as { cookies?: string[] }).cookies ?? [])[0] ?? '';
    expect(cookie(proven)).toMatch(/Domain=brand\.com.*Secure/);
    expect(cookie(forged)).not.toContain('Domain=');
    expect(cookie(forged)).toContain('Secure'); // a function URL is HTTPS only

    await new Promise((r) => setTimeout(r, 2));
    const cursor = JSON.parse(since).cursor as string;
    const feed = await handler(httpApiEvent({ path: '/api/v1/clicks', query: `cursor=${cursor}`, headers: { authorization: `Bearer ${TOKEN}` } }), context);
    const items = (JSON.parse(feed.body).items as { visitorId: string; country: string | null; ipHash: string }[]).filter((c) => c.visitorId === vid);
    expect(items.map((c) => c.country)).toEqual(['JP', null, null]);
    // Without the proof the forged headers changed nothing: hashed like a plain request from its sourceIp.
    expect(items[1]!.ipHash).toBe(items[2]!.ipHash);
    expect(items[0]!.ipHash).not.toBe(items[1]!.ipHash);
  });

  it('accepts the pixel collect post with a base64 body, and answers the pixel itself gzip-encoded in base64', async () => {
    const post = await handler(
      functionUrlEvent({
        method: 'POST',
        path: '/api/v1/collect',
        headers: { origin: 'https://brand.com', 'content-type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ t: 'identify', email: 'buyer@example.com', url: 'https://brand.com/checkout' }),
        base64: true,
      }),
      context,
    );
    expect(post.statusCode).toBe(204);
    expect(post.headers['access-control-allow-origin']).toBe('https://brand.com');

    const pixel = await handler(functionUrlEvent({ path: '/p.js', headers: { 'accept-encoding': 'gzip' } }), context);
    expect(pixel.statusCode).toBe(200);
    expect(pixel.headers['content-encoding']).toBe('gzip');
    expect(pixel.isBase64Encoded).toBe(true);
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(Buffer.from(pixel.body, 'base64')).toString()).toContain('identify');
  });

  it('replays spill messages into the table (replay.ts), skipping events already there and failing only the bad message', async () => {
    const { handler: replay } = await import('../src/replay');
    const at = Date.now();
    const click = (n: number) => ({ kind: 'clicks' as const, item: testClick(at, `spill-${n}`, { visitorId: 'SpillVisitor0123456789' }) });
    const clicks = [click(1), click(2), click(3)];
    const message = (id: string, body: unknown) => ({ messageId: id, body: JSON.stringify(body) });
    const event = { Records: [message('m1', clicks.slice(0, 2)), message('m2', [{ kind: 'clicks' }]), message('m3', clicks.slice(1))] };
    // m1 and m3 share a click, and its inline write had landed too: each must be stored once.
    const first = await replay(event as never);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(await replay({ Records: [event.Records[0]] } as never)).toEqual({ batchItemFailures: [] });
    const feed = await handler(httpApiEvent({ path: '/api/v1/clicks', query: 'limit=1000', headers: { authorization: `Bearer ${TOKEN}` } }), context);
    const ids = (JSON.parse(feed.body).items as { id: string }[]).map((c) => c.id).filter((id) => clicks.some((c) => c.item.id === id));
    expect(ids.sort()).toEqual(clicks.map((c) => c.item.id).sort());
  });

  it('turns bad input into 4xx, never a 5xx', async () => {
    const cases = [
      httpApiEvent({ method: 'POST', path: '/spring', body: 'x' }),
      httpApiEvent({ path: '/%FF' }),
      httpApiEvent({ path: `/${'a'.repeat(300)}` }),
      httpApiEvent({ path: '/api/v1/clicks', headers: { authorization: 'Bearer wrong' } }),
      httpApiEvent({ method: 'POST', path: '/api/v1/collect', headers: { origin: 'https://brand.com' }, body: '{"t":"pageview"' }),
    ];
    for (const event of cases) {
      const res = await handler(event, context);
      expect(res.statusCode, event.rawPath).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, event.rawPath).toBeLessThan(500);
    }
  });
});

describe('Lambda handler: the request as the visitor sent it, errors never cached', () => {
  it('passes repeated query keys to the destination as sent (rawQueryString, not the comma-joined queryStringParameters)', async () => {
    const res = await handler(functionUrlEvent({ path: '/spring', query: 'tag=a&tag=b&utm_campaign=spring,sale&q=a%20b' }), context);
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(location.searchParams.getAll('tag')).toEqual(['a', 'b']);
    expect(location.search).toContain('tag=a&tag=b');
    expect(location.searchParams.get('utm_campaign')).toBe('spring,sale');
    expect(location.searchParams.get('q')).toBe('a b');
  });

  it('answers every error with Cache-Control: no-store, and leaves successes alone', async () => {
    const errors = [
      functionUrlEvent({ path: '/api/v1/clicks', headers: { authorization: 'Bearer wrong' } }),
      functionUrlEvent({ path: '/api/v1/nothing-here' }),
      functionUrlEvent({ method: 'POST', path: '/spring', body: 'x' }),
      functionUrlEvent({ path: '/no-such-link' }),
    ];
    for (const event of errors) {
      const res = await handler(event, context);
      expect(res.statusCode, event.rawPath).toBeGreaterThanOrEqual(400);
      expect(res.headers['cache-control'], event.rawPath).toMatch(/no-store/);
    }
    const pixel = await handler(functionUrlEvent({ path: '/p.js' }), context);
    expect(pixel.statusCode).toBe(200);
    expect(pixel.headers['cache-control']).toBe('public, max-age=3600');
  });
});

describe('Lambda handler: Stripe webhook', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  /** A delivery as a function URL event: Stripe's body, signed now, as text or base64 as Lambda may pass it. */
  const delivery = (payload: string, opts: { base64?: boolean; secret?: string; signed?: string } = {}) =>
    functionUrlEvent({
      method: 'POST',
      path: '/webhooks/stripe',
      headers: deliveryHeaders(opts.signed ?? payload, Date.now(), { secret: opts.secret }),
      body: payload,
      base64: opts.base64,
    });

  it('keeps signed deliveries, text or base64, once each, and serves them in the stripe-hints feed', async () => {
    const a = stripeEvent({ type: 'invoice.paid', object: { id: 'in_1Pgc6tB7WZ01zgkWu9fdqL6I', object: 'invoice', customer_email: 'jenny.rosen@example.com' } });
    const b = stripeEvent({ type: 'charge.dispute.created', object: { id: 'dp_1Pgc71B7WZ01zgkWMevJiAUx', object: 'dispute', charge: 'ch_1' } });
    const first = await handler(delivery(body(a)), context);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ received: true, duplicate: false });
    const encoded = await handler(delivery(body(b), { base64: true }), context);
    expect(encoded.statusCode).toBe(200);
    expect(JSON.parse((await handler(delivery(body(a), { base64: true }), context)).body)).toEqual({ received: true, duplicate: true });

    await new Promise((r) => setTimeout(r, 2));
    const feed = await handler(httpApiEvent({ path: '/api/v1/stripe-hints', headers: auth }), context);
    const items = JSON.parse(feed.body).items as { eventId: string; objectType: string; objectId: string }[];
    expect(items.map((h) => [h.eventId, h.objectType, h.objectId])).toEqual([
      [a.id, 'invoice', 'in_1Pgc6tB7WZ01zgkWu9fdqL6I'],
      [b.id, 'dispute', 'dp_1Pgc71B7WZ01zgkWMevJiAUx'],
    ]);
    expect(feed.body).not.toContain('jenny');
  });

  it('refuses a forged, changed or oversized delivery with a 4xx and stores nothing', async () => {
    const since = JSON.parse((await handler(httpApiEvent({ path: '/api/v1/stripe-hints', headers: auth }), context)).body).cursor as string;
    const e = body(stripeEvent());
    const cases: [ReturnType<typeof delivery>, number, string][] = [
      [delivery(e, { secret: OTHER_SECRET }), 400, 'bad_signature'],
      [delivery(e.replace('charge.succeeded', 'charge.refunded'), { base64: true, signed: e }), 400, 'bad_signature'],
      [delivery(JSON.stringify({ padding: 'x'.repeat(10 * 1024 * 1024) }), { base64: true }), 413, 'too_large'],
    ];
    for (const [event, status, reason] of cases) {
      const res = await handler(event, context);
      expect(res.statusCode, reason).toBe(status);
      expect(JSON.parse(res.body).error.reason).toBe(reason);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    await new Promise((r) => setTimeout(r, 2));
    const after = await handler(httpApiEvent({ path: '/api/v1/stripe-hints', query: `cursor=${since}`, headers: auth }), context);
    expect(JSON.parse(after.body).items).toEqual([]);
  });

  it('says the secret is an SST secret set by a deploy: the status\'s command, and 409 on the secrets API', async () => {
    const status = JSON.parse((await handler(httpApiEvent({ path: '/api/v1/webhooks/stripe', headers: auth }), context)).body);
    expect(status).toMatchObject({ secrets: 1, settable: false, secretProblem: null });
    expect(status.setCommand).toBe('printf %s "whsec_..." | npm run -s sst -w redirector -- secret set StripeWebhookSecret --stage test && npm run deploy -- --stage test');
    const put = await handler(
      httpApiEvent({ method: 'PUT', path: '/api/v1/webhooks/stripe/secrets', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ secrets: [OTHER_SECRET] }) }),
      context,
    );
    expect(put.statusCode).toBe(409);
    expect(JSON.parse(put.body).error.message).toContain('SST secret StripeWebhookSecret');
    expect(JSON.parse(put.body).error.message).toContain('--stage test');
  });
});
