/**
 * The Lambda's direct redirect path (lambda-redirect.ts: a function URL event answered by redirect.ts without
 * Fastify) against the way it replaced (the full Fastify app behind @fastify/aws-lambda, with lambda.ts's
 * asSent and uncachedErrors): the same table of events through both, on two contexts over one table and one
 * clock, must give the same responses and record the same clicks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import awsLambdaFastify, { type LambdaResponse } from '@fastify/aws-lambda';
import { stringifySetCookie } from 'cookie';
import type pino from 'pino';
import type { Click } from '@revtrail/shared';
import { buildAppOn, type RevtrailApp } from '../src/app';
import { createContext, startContext } from '../src/app-context';
import type { Config } from '../src/config';
import type { AppContext } from '../src/context';
import { asSent, directRedirect, redirectFacts, uncachedErrors } from '../src/lambda-redirect';
import { silentLogger } from '../src/log';
import { DynamoStore } from '../src/store/dynamo';
import { trackingCookieHeader } from '../src/visitor-cookie';
import { IPHONE_UA, ManualClock, MemorySpill, sharedDynamo, testConfig, TOKEN } from './support';
import { functionUrlEvent, LAMBDA_CONTEXT, type EventInput } from './lambda-events';

const ORIGIN_SECRET = 'direct-origin-secret-0123456789abcdefghij';
const PROXY_SECRET = 'direct-proxy-secret-0123456789abcdefghijk';
const RETURNING = 'PQuHR2QBAxndBGF76YK6rQ';
const context = LAMBDA_CONTEXT;

/** A Lambda function URL event as the Router's CloudFront or a caller sends it, Host the tracking domain. */
const event = (over: Omit<EventInput, 'body' | 'base64'>) => functionUrlEvent({ ...over, host: 'go.brand.com' });

const viaCloudFront = { 'x-revtrail-origin-proof': ORIGIN_SECRET, 'cloudfront-viewer-address': '203.0.113.9:51234', 'cloudfront-viewer-country': 'DE', 'x-forwarded-host': 'go.brand.com' };
const viaMerchant = { 'x-revtrail-proxy-proof': PROXY_SECRET, 'x-revtrail-host': 'www.merchant.example', 'x-revtrail-client-ip': '192.0.2.44', 'x-revtrail-proto': 'https', 'x-revtrail-country': 'fr' };

/** The table of requests: [what, event]. Run in order through both paths (duplicates depend on it). */
const requests: [string, ReturnType<typeof event>][] = [
  ['new visitor, link on the cookie domain', event({ path: '/spring' })],
  ['new visitor, destination elsewhere (rt_vid in the URL)', event({ path: '/away' })],
  ['returning visitor, cookies array with others', event({ path: '/away', cookies: [`rt_vid=${RETURNING}`, 'theme=dark', 'x=%E2%9C%93'] })],
  ['the same visitor again: a duplicate', event({ path: '/away', cookies: [`rt_vid=${RETURNING}`] })],
  ['repeated keys, commas and UTF-8, passed through as sent', event({ path: '/away', query: 'tag=a&tag=b&utm_campaign=spring,sale&q=caf%C3%A9&name=Jos%C3%A9+M&empty=&flag' })],
  ['UTF-8 sent unencoded', event({ path: '/away', query: 'q=café&x=✓' })],
  ['click ids and UTM', event({ path: '/away', query: 'gclid=Cj0KCQiA_abc&fbclid=IwAR123&utm_source=google&utm_medium=cpc' })],
  ['a click id too long', event({ path: '/away', query: `gclid=${'x'.repeat(600)}` })],
  ['a bot', event({ path: '/away', headers: { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' } })],
  ['a prefetch', event({ path: '/away', headers: { 'sec-purpose': 'prefetch' } })],
  ['a phone', event({ path: '/spring', headers: { 'user-agent': IPHONE_UA, referer: 'https://news.example/story?id=1' } })],
  ['opted out, with a visitor cookie: cleared', event({ path: '/spring', cookies: ['rt_optout=1', `rt_vid=${RETURNING}`] })],
  ['opted out, no visitor cookie', event({ path: '/spring', cookies: ['rt_optout=1'] })],
  ['consent withdrawn', event({ path: '/away', cookies: ['rt_consent=0', `rt_vid=${RETURNING}`] })],
  ['Global Privacy Control', event({ path: '/away', headers: { 'sec-gpc': '1' }, cookies: [`rt_vid=${RETURNING}`] })],
  ['HEAD', event({ method: 'HEAD', path: '/spring' })],
  ['HEAD of a disabled link', event({ method: 'HEAD', path: '/off' })],
  ['a disabled link', event({ path: '/off' })],
  ['an unknown link', event({ path: '/no-such-link' })],
  ['a Telegram bot link', event({ path: '/tg-ads', query: 'utm_source=ads' })],
  ['through CloudFront with the origin proof', event({ path: '/away', headers: viaCloudFront })],
  ['CloudFront\'s headers forged (no proof)', event({ path: '/away', headers: { ...viaCloudFront, 'x-revtrail-origin-proof': 'wrong' } })],
  ['same-origin proxy with its proof', event({ path: '/spring', headers: { ...viaCloudFront, ...viaMerchant } })],
  ['same-origin proxy, its proof wrong', event({ path: '/spring', headers: { ...viaMerchant, 'x-revtrail-proxy-proof': 'wrong' } })],
  ['same-origin proxy over http, no client address', event({ path: '/away', headers: { ...viaMerchant, 'x-revtrail-proto': 'http', 'x-revtrail-client-ip': '' } })],
  ['a host with a port, no X-Forwarded-Proto', event({ path: '/spring', headers: { host: 'go.brand.com:8443', 'x-forwarded-proto': '' } })],
  ['an IPv6 caller', event({ path: '/spring', sourceIp: '2001:db8::7' })],
];

let config: Config;
let store: DynamoStore;
let app: RevtrailApp;
let direct: AppContext;
let viaFastify: (e: unknown) => Promise<LambdaResponse>;
const recorded = new Map<AppContext, Click[]>();

/** Keeps each click a context's recorder is given, then records it as before. */
function capture(ctx: AppContext): void {
  const clicks: Click[] = [];
  recorded.set(ctx, clicks);
  const record = ctx.recorder.record.bind(ctx.recorder);
  ctx.recorder.record = (events) => {
    for (const e of events) if (e.kind === 'clicks') clicks.push(structuredClone(e.item as Click));
    return record(events);
  };
}

beforeAll(async () => {
  const dynamo = await sharedDynamo();
  const clock = new ManualClock();
  // On Lambda: every request reached us over HTTPS.
  config = { ...testConfig({ REVTRAIL_COOKIE_DOMAIN: 'brand.com', REVTRAIL_ORIGIN_SECRET: ORIGIN_SECRET, REVTRAIL_PROXY_SECRET: PROXY_SECRET, REVTRAIL_HONOR_GPC: 'true' }), httpsOnly: true };
  store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, client: dynamo.client(), clock });
  await store.ensureTable(clock.now());
  const deps = () => ({ store, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline' as const, spill: new MemorySpill() } });
  const fastifyCtx = createContext(deps());
  app = await buildAppOn(fastifyCtx);
  startContext(fastifyCtx);
  const proxy = awsLambdaFastify(app, { parseCommaSeparatedQueryParams: false, callbackWaitsForEmptyEventLoop: false });
  const auth = { authorization: `Bearer ${TOKEN}` };
  for (const [slug, body] of [
    ['spring', { destination: 'https://brand.com/pricing', channel: 'Newsletter', utm: { utm_source: 'nl' } }],
    ['away', { destination: 'https://shop.example/p?ref=rt', channel: 'Ads', campaign: 'spring' }],
    ['off', { destination: 'https://brand.com/old', channel: 'Old', enabled: false }],
    ['tg-ads', { telegramBot: 'shop_bot', channel: 'Telegram ads' }],
  ] as const) {
    const res = await app.inject({ method: 'PUT', url: `/api/v1/links/${slug}`, headers: auth, payload: body });
    expect(res.statusCode, res.body).toBeLessThan(300);
  }
  direct = createContext(deps());
  startContext(direct);
  viaFastify = async (e) => uncachedErrors(await proxy(asSent(e), { ...context }));
  capture(app.revtrail);
  capture(direct);
});
afterAll(async () => {
  await app?.close();
});

/** A new visitor's id differs by path: the same answer otherwise. Telegram's start token is new at each click. */
const normal = (s: string | undefined) => s?.replace(/rt_vid=[\w-]{22}/g, 'rt_vid=<id>').replace(/start=[\w-]+/g, 'start=<token>');

describe('the direct redirect path', () => {
  it('answers every request of the table as the Fastify app behind @fastify/aws-lambda did, recording the same clicks', async () => {
    for (const [what, e] of requests) {
      const a = (await viaFastify(structuredClone(e))) as LambdaResponse & { cookies?: string[] };
      const answer = directRedirect(direct, structuredClone(e));
      expect(answer, what).not.toBeNull();
      const b = uncachedErrors(await answer!);
      expect(b.statusCode, what).toBe(a.statusCode);
      // Date: the same format, its second may differ.
      const headers = (r: { headers?: Record<string, unknown> }) => Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, k === 'date' ? /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/.test(String(v)) : normal(String(v))]));
      expect(headers(b), what).toEqual(headers(a));
      expect((b.cookies ?? []).map(normal), what).toEqual((a.cookies ?? []).map(normal));
      expect(b.isBase64Encoded, what).toBe(a.isBase64Encoded ?? false);
      expect(b.body, what).toBe(a.body);
    }
    const clicks = (ctx: AppContext) =>
      recorded.get(ctx)!.map((c) => ({ ...c, id: c.id.length, visitorId: c.visitorId === RETURNING || c.visitorId === null ? c.visitorId : '<new>', telegramStart: c.telegramStart ? '<digest>' : c.telegramStart }));
    expect(recorded.get(direct)!.length).toBeGreaterThan(15);
    expect(clicks(direct)).toEqual(clicks(app.revtrail));
    // The table covers what it says: duplicates, a country, a cleared cookie, an anonymous click.
    expect(recorded.get(direct)!.some((c) => c.duplicate)).toBe(true);
    expect(recorded.get(direct)!.map((c) => c.country)).toEqual(expect.arrayContaining(['DE', 'FR']));
    expect(recorded.get(direct)!.some((c) => c.visitorId === null && !c.bot)).toBe(true);
  });

  it('writes the cleared cookie as @fastify/cookie did', () => {
    for (const [host, secure] of [['go.brand.com', true], ['localhost', false]] as const) {
      const domain = host === 'go.brand.com' ? { domain: 'brand.com' } : {};
      expect(trackingCookieHeader(host, secure, config, 'rt_vid', '', 0)).toBe(
        stringifySetCookie({ name: 'rt_vid', value: '', sameSite: 'lax', path: '/', httpOnly: true, secure, maxAge: 0, ...domain }),
      );
    }
  });

  it('takes only GET and HEAD of a link\'s path; the rest goes to the apps', () => {
    const not = [
      event({ method: 'POST', path: '/spring' }),
      event({ path: '/health' }),
      event({ path: '/p.js' }),
      event({ path: '/robots.txt' }),
      event({ path: '/' }),
      event({ path: '/optout' }),
      event({ path: '/proxy-check' }),
      event({ path: '/api/v1/status' }),
      event({ path: '/%73pring' }),
      event({ path: `/${'a'.repeat(65)}` }),
      { ...event({ path: '/spring' }), version: '1.0' },
    ];
    for (const e of not) expect(redirectFacts(e, direct), `${e.requestContext.http.method} ${e.rawPath} ${e.version}`).toBeNull();
    expect(redirectFacts(event({ method: 'HEAD', path: '/spring' }), direct)?.slug).toBe('spring');
  });
});
