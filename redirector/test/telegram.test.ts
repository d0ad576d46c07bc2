import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type pino from 'pino';
import { DAY_MS, hashTelegramUser, HOUR_MS, type Click, type TelegramPayment, type TelegramStart, type TelegramWebhookStatus } from '@revtrail/shared';
import { buildApp } from '../src/app';
import { parseConfig } from '../src/config';
import { silentLogger } from '../src/log';
import { DynamoStore } from '../src/store/dynamo';
import type { Store } from '../src/store/types';
import { START_TOKEN_TTL_MS, StartTokens } from '../src/telegram/start-token';
import { CHROME_UA, closeSharedDynamo, EMAIL_KEY, makeTestApp, ManualClock, MemorySpill, sharedDynamo, testConfig, TOKEN, type TestApp } from './support';
import { BOT_TOKEN, SECRET_TOKEN, starsPayment, starsRefund, startUpdate, textUpdate, USER_ID, webhookHeaders } from './telegram-updates';

afterAll(closeSharedDynamo);

const PATH = '/webhooks/telegram';
const TELEGRAM = { REVTRAIL_TELEGRAM_BOT_TOKEN: BOT_TOKEN, REVTRAIL_TELEGRAM_SECRET_TOKEN: SECRET_TOKEN, REVTRAIL_PUBLIC_URL: 'https://go.brand.com' };

const deliver = (t: { app: TestApp['app'] }, update: unknown, headers = webhookHeaders()) =>
  t.app.inject({ method: 'POST', url: PATH, headers, payload: JSON.stringify(update), remoteAddress: '149.154.167.220' });

async function feed<T>(t: TestApp, kind: string): Promise<T[]> {
  t.clock.advance(1);
  const res = await t.app.inject({ url: `/api/v1/${kind}?limit=1000`, headers: t.auth });
  expect(res.statusCode).toBe(200);
  return res.json().items as T[];
}

async function status(t: TestApp): Promise<TelegramWebhookStatus> {
  const res = await t.app.inject({ url: '/api/v1/webhooks/telegram', headers: t.auth });
  expect(res.statusCode).toBe(200);
  return res.json() as TelegramWebhookStatus;
}

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const out = await (await sharedDynamo()).client().send(new ScanCommand({ TableName: table }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}

/** A person's click on the bot link: the token Telegram will get, and the cookie's visitor. */
async function clickBotLink(t: TestApp, slug = 'tg-ads'): Promise<{ token: string; location: string }> {
  const res = await t.app.inject({ url: `/${slug}?utm_source=ads&fbclid=abc`, headers: { 'user-agent': CHROME_UA } });
  expect(res.statusCode).toBe(302);
  const location = res.headers.location as string;
  const token = new URL(location).searchParams.get('start') ?? '';
  return { token, location };
}

describe('Telegram: a bot link, its /start and its payments', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: TELEGRAM });
    await t.putLink('tg-ads', { telegramBot: 'shop_bot', channel: 'Telegram ads', campaign: 'spring' });
  });

  it('redirects a person to t.me/<bot>?start=<opaque single-use token>, and the click carries only its digest', async () => {
    const { token, location } = await clickBotLink(t);
    expect(location).toBe(`https://t.me/shop_bot?start=${token}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const [click] = await feed<Click>(t, 'clicks');
    expect(click!.channel).toBe('Telegram ads');
    expect(click!.telegramStart).toMatch(/^[0-9a-f]{32}$/);
    // Nothing of the visitor in the link Telegram gets, nor the token in the click.
    expect(location).not.toContain(click!.visitorId!);
    expect(JSON.stringify(click)).not.toContain(token);
    // The token's item, keyed by the digest, maps it to the visitor and the click.
    const items = await scan(t.config.tableName);
    expect(items.find((i) => i.sk === click!.telegramStart)).toMatchObject({ visitorId: click!.visitorId, clickId: click!.id });
    // A second click mints another token.
    const again = await clickBotLink(t);
    expect(again.token).not.toBe(token);
  });

  it('sends link previews and objectors to the bot without a token', async () => {
    const preview = await t.app.inject({ method: 'HEAD', url: '/tg-ads', headers: { 'user-agent': CHROME_UA } });
    expect(preview.headers.location).toBe('https://t.me/shop_bot');
    const objector = await t.app.inject({ url: '/tg-ads', headers: { 'user-agent': CHROME_UA, cookie: 'rt_optout=1' } });
    expect(objector.headers.location).toBe('https://t.me/shop_bot');
    const clicks = await feed<Click>(t, 'clicks');
    expect(clicks).toHaveLength(2);
    expect(clicks.every((c) => c.telegramStart === undefined)).toBe(true);
  });

  it('binds the /start to the visitor by a keyed hash of the user id: no id, name or username kept', async () => {
    const { token } = await clickBotLink(t);
    const [click] = await feed<Click>(t, 'clicks');
    const res = await deliver(t, startUpdate(5001, token, t.clock.now()));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    const [start, ...more] = await feed<TelegramStart>(t, 'telegram-starts');
    expect(more).toEqual([]);
    expect(start).toMatchObject({ updateId: 5001, visitorId: click!.visitorId, clickId: click!.id, tokenDigest: click!.telegramStart, userHash: await hashTelegramUser(USER_ID, EMAIL_KEY) });
    const table = JSON.stringify(await scan(t.config.tableName));
    for (const held of [String(USER_ID), 'Ada', 'Lovelace', 'ada_l', token]) expect(table).not.toContain(held);
    expect((await status(t)).counts.starts).toBe(1);
  });

  it('refuses a wrong or missing secret token with 401 and keeps nothing', async () => {
    const { token } = await clickBotLink(t);
    for (const headers of [webhookHeaders(null), webhookHeaders('wrong'), webhookHeaders(`${SECRET_TOKEN}x`), webhookHeaders(SECRET_TOKEN.toUpperCase())]) {
      const res = await deliver(t, startUpdate(5002, token, t.clock.now()), headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.reason).toBe('bad_secret');
    }
    expect(await feed(t, 'telegram-starts')).toEqual([]);
    // The token is still unused: the real delivery binds.
    expect((await deliver(t, startUpdate(5002, token, t.clock.now()))).statusCode).toBe(200);
    expect(await feed(t, 'telegram-starts')).toHaveLength(1);
    const s = await status(t);
    expect(s.counts.refused.bad_secret).toBe(4);
  });

  it('keeps a start once: a redelivery is a duplicate, another update with the same token is refused as used', async () => {
    const { token } = await clickBotLink(t);
    const update = startUpdate(5003, token, t.clock.now());
    for (let i = 0; i < 3; i++) expect((await deliver(t, update)).statusCode).toBe(200);
    t.clock.advance(5000);
    expect((await deliver(t, update)).statusCode).toBe(200);
    // Someone else opening the same t.me link later (a forwarded link): not bound.
    expect((await deliver(t, startUpdate(5004, token, t.clock.now(), 99_000_001))).statusCode).toBe(200);
    expect(await feed(t, 'telegram-starts')).toHaveLength(1);
    const s = await status(t);
    expect([s.counts.starts, s.counts.duplicates, s.counts.skipped.token_used]).toEqual([1, 3, 1]);
  });

  it('binds no forged, foreign, expired or stale token', async () => {
    const { token } = await clickBotLink(t);
    const other = new StartTokens('another-deployments-key-0123456789abcdef').mint(t.clock.now()).token;
    const flipped = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
    for (const [i, payload] of [other, flipped, 'ref_campaign_42', 'x'.repeat(64)].entries()) {
      expect((await deliver(t, startUpdate(6000 + i, payload, t.clock.now()))).statusCode).toBe(200);
    }
    // Pressed Start after the token's day: expired (the click stays, attributed as a click).
    const late = await clickBotLink(t);
    t.clock.advance(START_TOKEN_TTL_MS + 60_000);
    expect((await deliver(t, startUpdate(6010, late.token, t.clock.now()))).statusCode).toBe(200);
    // An update dated two days ago: Telegram keeps undelivered updates a day, so it is a replay.
    const fresh = await clickBotLink(t);
    expect((await deliver(t, startUpdate(6011, fresh.token, t.clock.now() - 2 * DAY_MS))).statusCode).toBe(200);
    expect(await feed(t, 'telegram-starts')).toEqual([]);
    const s = await status(t);
    expect([s.counts.skipped.bad_token, s.counts.skipped.token_expired, s.counts.skipped.stale]).toEqual([4, 1, 1]);
  });

  it('keeps a Stars payment once per telegram_payment_charge_id, in XTR, without the invoice payload or order info', async () => {
    const at = t.clock.now();
    const pay = starsPayment(7001, 'stxTESTchargeAAA111', 50, at);
    expect((await deliver(t, pay)).statusCode).toBe(200);
    expect((await deliver(t, pay)).statusCode).toBe(200);
    // A replay under another update_id names the same charge: still one payment.
    expect((await deliver(t, { ...pay, update_id: 7002 })).statusCode).toBe(200);
    t.clock.advance(10);
    expect((await deliver(t, starsRefund(7003, 'stxTESTchargeAAA111', 50, at + 60_000))).statusCode).toBe(200);
    const items = await feed<TelegramPayment>(t, 'telegram-payments');
    expect(items.map((p) => [p.kind, p.currency, p.amountMinor, p.chargeId, p.providerChargeId])).toEqual([
      ['payment', 'XTR', 50, 'stxTESTchargeAAA111', null],
      ['refund', 'XTR', 50, 'stxTESTchargeAAA111', null],
    ]);
    expect(items[0]!.userHash).toBe(await hashTelegramUser(USER_ID, EMAIL_KEY));
    const table = JSON.stringify(await scan(t.config.tableName));
    for (const held of ['order-7781', 'ada@example.com', '+441234567890', 'Lovelace']) expect(table).not.toContain(held);
  });

  it('acknowledges other updates without keeping them, and refuses what is not an update', async () => {
    expect((await deliver(t, textUpdate(8001, 'hello', t.clock.now()))).statusCode).toBe(200);
    expect((await deliver(t, { message: { text: '/start x' } })).statusCode).toBe(400);
    const bad = await t.app.inject({ method: 'POST', url: PATH, headers: webhookHeaders(), payload: 'not json' });
    expect(bad.statusCode).toBe(400);
    const big = await t.app.inject({ method: 'POST', url: PATH, headers: webhookHeaders(), payload: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.statusCode).toBe(413);
    const s = await status(t);
    expect([s.counts.skipped.other, s.counts.refused.not_an_update, s.counts.refused.too_large]).toEqual([1, 2, 1]);
  });

  it('answers 503 with the command while no bot is connected, so that Telegram retries', async () => {
    const bare = await makeTestApp();
    const res = await deliver(bare, startUpdate(1, 'a'.repeat(32), bare.clock.now()));
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toContain('revtrail connect telegram');
  });

  it('says how it is set up without any secret: the bot id and a fingerprint of the secret token', async () => {
    const s = await status(t);
    expect(s).toMatchObject({ path: PATH, url: 'https://go.brand.com/webhooks/telegram', botId: '7012345678', secretSet: true, forwardHost: null, settable: false, problem: null });
    expect(s.secretFingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(JSON.stringify(s)).not.toContain(SECRET_TOKEN);
    expect(JSON.stringify(s)).not.toContain(BOT_TOKEN.split(':')[1]);
    const put = await t.app.inject({ method: 'PUT', url: '/api/v1/webhooks/telegram/settings', headers: t.auth, payload: { botToken: BOT_TOKEN, secretToken: 'x', forward: null } });
    expect(put.statusCode).toBe(409);
  });
});

describe('Telegram: a click the table did not take in time', () => {
  it('still redirects with its token; the start waits unresolved with the digest, and the click lands with its token item', async () => {
    const dynamo = await sharedDynamo();
    const clock = new ManualClock();
    const config = testConfig({ ...TELEGRAM, REVTRAIL_CLICK_WRITE_BUDGET_MS: '5' });
    const store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, client: dynamo.client(), clock });
    await store.ensureTable(clock.now());
    let down = false;
    const flaky = new Proxy(store, {
      get: (target, prop) =>
        prop === 'putEvents' && down
          ? () => Promise.reject(new Error('store down'))
          : ((v: unknown) => (typeof v === 'function' ? v.bind(target) : v))(Reflect.get(target, prop, target)),
    }) as Store;
    const spill = new MemorySpill();
    const app = await buildApp({ store: flaky, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill } });
    const auth = { authorization: `Bearer ${TOKEN}` };
    await app.inject({ method: 'PUT', url: '/api/v1/links/tg', headers: auth, payload: { telegramBot: 'shop_bot', channel: 'tg' } });
    down = true;
    const res = await app.inject({ url: '/tg', headers: { 'user-agent': CHROME_UA } });
    expect(res.statusCode).toBe(302);
    const token = new URL(res.headers.location as string).searchParams.get('start')!;
    const spilled = spill.records[0]!.item as Click;
    expect(spilled.telegramStart).toMatch(/^[0-9a-f]{32}$/);
    down = false;
    // Start pressed before the queue was replayed: kept, with the digest only.
    expect((await deliver({ app }, startUpdate(9001, token, clock.now()))).statusCode).toBe(200);
    clock.advance(1);
    const starts = (await app.inject({ url: '/api/v1/telegram-starts', headers: auth })).json().items as TelegramStart[];
    expect(starts).toEqual([expect.objectContaining({ visitorId: null, clickId: null, tokenDigest: spilled.telegramStart })]);
    // The replay stores the click and its token item, as one write.
    await store.putEventsOnce(spill.records);
    expect(await store.telegram.tokenClick(spilled.telegramStart!, spilled.at)).toEqual({ visitorId: spilled.visitorId, clickId: spilled.id });
    await app.close();
  });
});

describe('Telegram: forwarding to the bot\'s previous webhook', () => {
  let merchant: Server;
  let received: { body: string; secret: string | undefined; type: string | undefined }[];
  let answer: { status: number; body: string; type: string };
  let url: string;
  beforeEach(async () => {
    received = [];
    answer = { status: 200, body: JSON.stringify({ method: 'sendMessage', chat_id: USER_ID, text: 'Welcome!' }), type: 'application/json' };
    merchant = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ body, secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, type: req.headers['content-type'] });
        res.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/bot-hook`;
  });
  afterEach(() => new Promise<void>((resolve) => merchant.close(() => resolve())));

  it('forwards every update unchanged with its own secret, after keeping ours, and hands its answer to Telegram', async () => {
    const t = await makeTestApp({ settings: { ...TELEGRAM, REVTRAIL_TELEGRAM_FORWARD_URL: url, REVTRAIL_TELEGRAM_FORWARD_SECRET_TOKEN: 'merchants-own-secret' } });
    await t.putLink('tg-ads', { telegramBot: 'shop_bot', channel: 'tg' });
    const { token } = await clickBotLink(t);
    // Bytes as Telegram sent them (spacing and key order included), not a re-serialisation.
    const raw = `{"update_id":5001,  "message":${JSON.stringify(startUpdate(5001, token, t.clock.now()).message)}}`;
    const res = await t.app.inject({ method: 'POST', url: PATH, headers: webhookHeaders(), payload: raw });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ method: 'sendMessage', chat_id: USER_ID, text: 'Welcome!' });
    expect(received).toEqual([{ body: raw, secret: 'merchants-own-secret', type: 'application/json' }]);
    expect(await feed(t, 'telegram-starts')).toHaveLength(1);
    const hello = await deliver(t, textUpdate(5002, 'hi', t.clock.now()));
    expect(hello.statusCode).toBe(200);
    expect(received).toHaveLength(2);
    expect((await status(t)).forwardHost).toBe(new URL(url).host);
  });

  it('answers 502 when that webhook fails, so Telegram retries; the retry is ours a duplicate and theirs a delivery', async () => {
    const t = await makeTestApp({ settings: { ...TELEGRAM, REVTRAIL_TELEGRAM_FORWARD_URL: url } });
    answer = { status: 500, body: 'oops', type: 'text/plain' };
    const pay = starsPayment(7001, 'stxFWD', 25, t.clock.now());
    const first = await deliver(t, pay);
    expect(first.statusCode).toBe(502);
    expect(first.json().error.message).toContain('answered 500');
    // Kept before forwarding: the payment is there, once.
    expect(await feed(t, 'telegram-payments')).toHaveLength(1);
    answer = { status: 200, body: '', type: 'text/plain' };
    const retry = await deliver(t, pay);
    expect(retry.statusCode).toBe(200);
    expect(await feed(t, 'telegram-payments')).toHaveLength(1);
    expect(received.map((r) => r.secret)).toEqual([undefined, undefined]);
    const s = (await status(t)).counts;
    expect([s.payments, s.duplicates, s.forwarded, s.forwardFailures]).toEqual([1, 1, 1, 1]);
    expect(s.lastForwardError?.message).toContain('answered 500');
  });

  it('does not forward what it refused', async () => {
    const t = await makeTestApp({ settings: { ...TELEGRAM, REVTRAIL_TELEGRAM_FORWARD_URL: url } });
    expect((await deliver(t, textUpdate(1, 'hi', t.clock.now()), webhookHeaders('forged'))).statusCode).toBe(401);
    expect(received).toEqual([]);
  });
});

describe('Telegram: erasure by the user\'s hash', () => {
  it('deletes the starts and the visitors they bound, keeps payments without the person, and keeps refusing them', async () => {
    const t = await makeTestApp({ settings: TELEGRAM });
    await t.putLink('tg-ads', { telegramBot: 'shop_bot', channel: 'tg' });
    const { token } = await clickBotLink(t);
    await deliver(t, startUpdate(1, token, t.clock.now()));
    await deliver(t, starsPayment(2, 'stxERASE', 40, t.clock.now()));
    const userHash = await hashTelegramUser(USER_ID, EMAIL_KEY);
    const found = await t.app.inject({ url: `/api/v1/telegram/people?userHash=${userHash}`, headers: t.auth });
    expect(found.json()).toMatchObject({ counts: { telegramStarts: 1, telegramPayments: 1 }, visitorIds: [expect.any(String)] });

    const erased = await t.app.inject({ method: 'POST', url: '/api/v1/telegram/erase', headers: t.auth, payload: { userHash } });
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ starts: 1, payments: 1, visitors: 1 });
    expect(await feed(t, 'telegram-starts')).toEqual([]);
    expect(await feed(t, 'clicks')).toEqual([]);
    expect((await feed<TelegramPayment>(t, 'telegram-payments')).map((p) => [p.amountMinor, p.userHash])).toEqual([[40, null]]);
    expect(JSON.stringify(await scan(t.config.tableName))).not.toContain(userHash);

    // Later: a new start of theirs binds no one; a payment is kept without them.
    const again = await clickBotLink(t);
    await deliver(t, startUpdate(3, again.token, t.clock.now()));
    await deliver(t, starsPayment(4, 'stxLATER', 10, t.clock.now()));
    expect(await feed(t, 'telegram-starts')).toEqual([]);
    expect((await feed<TelegramPayment>(t, 'telegram-payments')).map((p) => p.userHash)).toEqual([null, null]);
    expect((await status(t)).counts.skipped.erased).toBe(1);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/telegram/erase', headers: t.auth, payload: { userHash: 'nope' } })).statusCode).toBe(400);
  });
});

describe('Telegram settings', () => {
  const parse = (env: Record<string, string>) => parseConfig({ ...Object.fromEntries(Object.entries(testConfigEnv())), ...env });
  const testConfigEnv = () => ({ REVTRAIL_TABLE: 'revtrail', REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_EMAIL_HASH_KEY: EMAIL_KEY, REVTRAIL_IP_SALT_SEED: 'test-ip-salt-seed-0123456789abcdefghijklm' });

  it('reads SST\'s placeholder as unset, and sets a mistyped value aside without quoting it or failing the start', () => {
    const unset = parse({ REVTRAIL_TELEGRAM_BOT_TOKEN: 'unset', REVTRAIL_TELEGRAM_SECRET_TOKEN: 'unset' });
    expect(unset.ok && unset.config.telegram).toEqual({ botToken: null, secretToken: null, forward: null });
    const bad = parse({ REVTRAIL_TELEGRAM_BOT_TOKEN: 'hunter2-not-a-token', REVTRAIL_TELEGRAM_SECRET_TOKEN: SECRET_TOKEN });
    expect(bad.ok && bad.config.telegramProblem).toContain('REVTRAIL_TELEGRAM_BOT_TOKEN');
    expect(bad.ok && bad.config.telegramProblem).not.toContain('hunter2');
    const half = parse({ REVTRAIL_TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    expect(half.ok && half.config.telegramProblem).toContain('REVTRAIL_TELEGRAM_SECRET_TOKEN is not set');
    const loop = parse({ ...TELEGRAM, REVTRAIL_TELEGRAM_FORWARD_URL: 'https://go.brand.com/webhooks/telegram' });
    expect(loop.ok && loop.config.telegramProblem).toContain('loop');
    const spaced = parse({ ...TELEGRAM, REVTRAIL_TELEGRAM_SECRET_TOKEN: 'has space' });
    expect(spaced.ok && spaced.config.telegramProblem).toContain('1 to 256 characters');
  });

  it('takes settings through the sync API where they are kept (a local redirector), and says the commands on AWS', async () => {
    const dynamo = await sharedDynamo();
    const clock = new ManualClock();
    const config = testConfig({ REVTRAIL_PUBLIC_URL: 'https://go.brand.com' });
    const store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, client: dynamo.client(), clock });
    await store.ensureTable(clock.now());
    const saved: unknown[] = [];
    const app = await buildApp({ store, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill: null }, telegramSettings: { save: async (s) => void saved.push(s) } });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const bad = await app.inject({ method: 'PUT', url: '/api/v1/webhooks/telegram/settings', headers: auth, payload: { botToken: 'nope', secretToken: SECRET_TOKEN, forward: null } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain('nope');
    const ok = await app.inject({ method: 'PUT', url: '/api/v1/webhooks/telegram/settings', headers: auth, payload: { botToken: BOT_TOKEN, secretToken: SECRET_TOKEN, forward: { url: 'http://127.0.0.1:9/hook', secretToken: null } } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ botId: '7012345678', secretSet: true, forwardHost: '127.0.0.1:9', settable: true });
    expect(saved).toEqual([{ botToken: BOT_TOKEN, secretToken: SECRET_TOKEN, forward: { url: 'http://127.0.0.1:9/hook', secretToken: null } }]);
    // Taken at once: the new secret is checked on the next delivery, and the update goes on to the previous
    // webhook (which does not exist here: 502, for Telegram to retry).
    expect((await deliver({ app }, textUpdate(1, 'hi', clock.now()), webhookHeaders('old'))).statusCode).toBe(401);
    const forwarded = await deliver({ app }, textUpdate(1, 'hi', clock.now()));
    expect(forwarded.statusCode).toBe(502);
    expect(forwarded.json().error.message).toContain("bot's previous webhook");
    await app.close();

    const aws = await buildApp({ store, config: { ...config, stripeWebhookSecretSource: 'sst', stage: 'prod' }, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill: null } });
    const s = (await aws.inject({ url: '/api/v1/webhooks/telegram', headers: auth })).json() as TelegramWebhookStatus;
    expect(s.setCommands).toEqual([
      'revtrail telegram secret bot-token | npm run -s sst -w redirector -- secret set TelegramBotToken --stage prod',
      'revtrail telegram secret secret-token | npm run -s sst -w redirector -- secret set TelegramSecretToken --stage prod',
      'revtrail telegram secret forward | npm run -s sst -w redirector -- secret set TelegramForward --stage prod',
      'npm run deploy -- --stage prod',
    ]);
    await aws.close();
  });

  it('mints tokens that check, and refuses one from the future or past its day', () => {
    const tokens = new StartTokens(EMAIL_KEY);
    const at = Date.UTC(2026, 10, 24);
    const { token, digest } = tokens.mint(at);
    expect(tokens.check(token, at + HOUR_MS)).toEqual({ ok: true, issuedAt: at, digest });
    expect(tokens.check(token, at - HOUR_MS)).toEqual({ ok: false, reason: 'bad_token' });
    expect(tokens.check(token, at + START_TOKEN_TTL_MS + 1000)).toEqual({ ok: false, reason: 'token_expired' });
    expect(tokens.check(`${token}A`, at)).toEqual({ ok: false, reason: 'bad_token' });
  });
});
