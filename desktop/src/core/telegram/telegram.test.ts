import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashTelegramUser, systemClock, TELEGRAM_WEBHOOK_PATH } from '@revtrail/shared';
import { startLocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, startMessage, starsPaymentMessage, textMessage, type FakeBot, type FakeTelegram } from '../../fake-telegram/server';
import { startHost } from '../../host/host';
import { buildWorld, memorySecrets, must, scanBytes, TOKEN, type World } from '../privacy/testing';
import { LOCAL_TELEGRAM_SETTINGS } from './handlers';

// Telegram bot attribution through the real parts: the fake Bot API (its setWebhook, getWebhookInfo and deliveries
// with the secret header), a started local redirector on its embedded DynamoDB, and the core's sync and reports.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-telegram-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USER = 724_365_116;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let w: World;
let tg: FakeTelegram;
let bot: FakeBot;
let merchant: Server;
let merchantUrl: string;
let forwarded: { body: string; secret: string | undefined }[];
let n = 0;

beforeEach(async () => {
  w = await buildWorld(join(dir, `w${++n}`));
  tg = await startFakeTelegram({ retryDelaysMs: [20, 40] });
  bot = tg.createBot('shop_bot');
  forwarded = [];
  // The bot's own server, which had its webhook before Revtrail.
  merchant = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      forwarded.push({ body, secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
  merchantUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/tg/hook`;
}, 60_000);
afterEach(async () => {
  await w.close();
  await tg.close();
  await new Promise<void>((resolve) => merchant.close(() => resolve()));
});

/** A person's click on the bot link: the start token t.me gets. */
async function clickBotLink(slug = 'tg-ads'): Promise<string> {
  const res = await fetch(`${w.r.url}/${slug}?utm_source=tg`, { redirect: 'manual', headers: { 'user-agent': UA } });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe('https://t.me/shop_bot');
  return location.searchParams.get('start')!;
}

const connect = async () => {
  // The bot's previous webhook, with its own secret token, as its server had set it.
  await fetch(`${tg.url}/bot${bot.token}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: merchantUrl, secret_token: 'merchants-secret', allowed_updates: ['message', 'callback_query'] }) });
  return must(await w.core.call('telegram.connect', { botToken: bot.token, apiBase: tg.url, forwardSecretToken: 'merchants-secret' }));
};

describe('Telegram bot attribution', () => {
  it('a click on a bot link, /start and a Stars payment show up in the channel report, and the bot\'s own webhook still gets every update', async () => {
    const connected = await connect();
    expect(connected).toMatchObject({ outcome: 'applied', bot: { id: String(bot.id), username: 'shop_bot' }, webhookUrl: `${w.r.url}${TELEGRAM_WEBHOOK_PATH}`, forwardHost: new URL(merchantUrl).host });
    const hook = tg.webhookOf(bot.token)!;
    expect(hook.url).toBe(`${w.r.url}${TELEGRAM_WEBHOOK_PATH}`);
    expect(hook.secretToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The bot's earlier choice of updates is kept (its server still needs callback queries); message is among them.
    expect(hook.allowedUpdates).toEqual(['message', 'callback_query']);

    must(await w.core.call('links.save', { slug: 'tg-ads', link: { telegramBot: 'shop_bot', channel: 'Telegram ads', campaign: 'spring' } }));
    const token = await clickBotLink();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await w.settle();

    const start = await tg.sendUpdate(bot.token, startMessage(USER, token));
    expect(start).toMatchObject({ delivered: true, status: 200 });
    const paid = await tg.sendUpdate(bot.token, starsPaymentMessage(USER, 50, 'stxFirstPayment000001'));
    expect(paid.delivered).toBe(true);
    // Forwarded unchanged to the bot's server, with its own secret, after Revtrail kept them.
    expect(forwarded.map((f) => [JSON.parse(f.body).update_id, f.secret])).toEqual([
      [start.updateId, 'merchants-secret'],
      [paid.updateId, 'merchants-secret'],
    ]);

    const pulled = must(await w.core.call('sync.redirector', {}));
    expect([pulled.clicks, pulled.telegramStarts, pulled.telegramPayments]).toEqual([1, 1, 1]);
    const report = must(await w.core.call('reports.channels', {}));
    const row = report.rows.find((r) => r.channel === 'Telegram ads')!;
    expect(row).toMatchObject({ clicks: 1, botStarts: 1, stars: 50, conversions: 1, customers: 1, grossMinor: 0, netMinor: 0 });
    expect(report.totals).toMatchObject({ stars: 50, botStarts: 1 });
    // Stars are not money that could not be converted: nothing is said missing.
    expect(report.unconverted).toEqual({ rows: 0, amounts: [] });
    const links = must(await w.core.call('reports.links', {}));
    expect(links.rows.find((r) => r.slug === 'tg-ads')).toMatchObject({ clicks: 1, botStarts: 1, stars: 50 });
    // The same in another report currency: Stars stay Stars.
    const eur = must(await w.core.call('reports.channels', { currency: 'EUR' }));
    expect(eur.rows.find((r) => r.channel === 'Telegram ads')).toMatchObject({ stars: 50, grossMinor: 0, conversions: 1 });
    expect(eur.unconverted.amounts).toEqual([]);

    const status = must(await w.core.call('telegram.status', {}));
    expect(status).toMatchObject({ connected: true, secretMatches: true, telegram: { pointsHere: true, pendingUpdates: 0 }, local: { starts: 1, payments: 1 } });
    expect(status.redirector?.counts).toMatchObject({ starts: 1, payments: 1, forwarded: 2, forwardFailures: 0 });
  });

  it('keeps nothing of bad tokens, stale updates and replays: one start per token, one payment per charge', async () => {
    await connect();
    must(await w.core.call('links.save', { slug: 'tg-ads', link: { telegramBot: 'shop_bot', channel: 'Telegram ads' } }));
    const token = await clickBotLink();
    await w.settle();
    // A payload the bot's own deep links use, a forged token, and one dated two days ago.
    await tg.sendUpdate(bot.token, startMessage(USER, 'ref_summer'));
    await tg.sendUpdate(bot.token, startMessage(USER, `${token.slice(0, -2)}AA`));
    await tg.sendUpdate(bot.token, startMessage(USER, token, Math.floor(Date.now() / 1000) - 2 * 86_400));
    // The real one, then the same link opened by someone it was forwarded to.
    await tg.sendUpdate(bot.token, startMessage(USER, token));
    await tg.sendUpdate(bot.token, startMessage(USER + 1, token));
    // The same payment delivered under two update ids (a replay), and a text.
    const pay = starsPaymentMessage(USER, 25, 'stxReplayed0000000001');
    await tg.sendUpdate(bot.token, pay);
    await tg.sendUpdate(bot.token, pay);
    await tg.sendUpdate(bot.token, textMessage(USER, 'hello'));
    // Every update reached the bot's own server, whatever Revtrail made of it.
    expect(forwarded).toHaveLength(8);

    const pulled = must(await w.core.call('sync.redirector', {}));
    expect([pulled.telegramStarts, pulled.telegramPayments]).toEqual([1, 1]);
    const report = must(await w.core.call('reports.channels', {}));
    expect(report.rows.find((r) => r.channel === 'Telegram ads')).toMatchObject({ botStarts: 1, stars: 25 });
    const counts = must(await w.core.call('telegram.status', {})).redirector!.counts;
    expect(counts).toMatchObject({ starts: 1, payments: 1, duplicates: 1, skipped: { bad_token: 2, stale: 1, token_used: 1, other: 1 } });
    // A second sync brings nothing again.
    expect(must(await w.core.call('sync.redirector', {}))).toMatchObject({ telegramStarts: 0, telegramPayments: 0 });
  });

  it('erases a Telegram user by id here and on the redirector: starts and their browser go, the Stars stay without them', async () => {
    await connect();
    must(await w.core.call('links.save', { slug: 'tg-ads', link: { telegramBot: 'shop_bot', channel: 'Telegram ads' } }));
    const token = await clickBotLink();
    await w.settle();
    await tg.sendUpdate(bot.token, startMessage(USER, token));
    await tg.sendUpdate(bot.token, starsPaymentMessage(USER, 40, 'stxErased00000000001'));
    must(await w.core.call('sync.redirector', {}));

    const found = must(await w.core.call('privacy.find', { telegram: String(USER) }));
    expect(found.linked).toMatchObject({ telegrams: 1, visitors: 1 });
    expect(found.local).toMatchObject({ clicks: 1, telegram_starts: 1, telegram_payments: 1 });
    expect(found.cloud).toMatchObject({ reached: true, counts: { telegramStarts: 1, telegramPayments: 1, clicks: 1 } });

    const erased = must(await w.core.call('privacy.erase', { telegram: String(USER) }));
    expect(erased.erased).toMatchObject({ clicks: 1, telegram_starts: 1, telegram_payments_anonymised: 1 });
    expect(erased.cloud).toMatchObject({ reached: true, counts: { telegramStarts: 1 } });
    // The money stays (in Stars, as Direct now: its click is gone), the person does not.
    const report = must(await w.core.call('reports.channels', {}));
    expect(report.totals).toMatchObject({ stars: 40, botStarts: 0 });
    expect(report.rows.find((r) => r.channel === 'Telegram ads')).toBeUndefined();
    // A later sync brings nothing of them back, and a new /start of theirs binds no one.
    const again = await clickBotLink();
    await w.settle();
    await tg.sendUpdate(bot.token, startMessage(USER, again));
    expect(must(await w.core.call('sync.redirector', {}))).toMatchObject({ telegramStarts: 0 });
    expect(must(await w.core.call('privacy.find', { telegram: String(USER) })).local).toMatchObject({ telegram_starts: 0, telegram_payments: 0 });
    // The user hash is nowhere in the redirector's files any more.
    await w.settle();
    const hash = await hashTelegramUser(USER, (await w.secrets.get(`ws_${w.workspaceId}.email_hash_key`))!);
    expect(scanBytes([join(dir, `w${n}`, 'redirector')], [hash])).toEqual([]);
  });

  it('refuses a bad bot token, leaving the bot as it was', async () => {
    const bad = await w.core.call('telegram.connect', { botToken: 'not-a-token', apiBase: tg.url });
    expect(bad.ok === false && bad.error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('BotFather') });
    const refused = await w.core.call('telegram.connect', { botToken: '123456:AAnotAKnownTokenAtAll0123456789abcd', apiBase: tg.url });
    expect(refused.ok === false && refused.error).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('Telegram refused the bot token') });
    expect(JSON.stringify(refused)).not.toContain('AAnotAKnownToken');
    const http = await w.core.call('telegram.connect', { botToken: bot.token, apiBase: 'http://api.example.com' });
    expect(http.ok === false && http.error.message).toContain('https');
    expect(tg.webhookOf(bot.token)).toBeNull();
  });

  it('with a redirector that takes no bot from here, says so; activate waits until it holds the secret, then points the bot at it', async () => {
    // A redirector given its secrets by whoever started it (as a deployed one is), not settable through its API.
    const fixed = await startLocalRedirector({
      dataDir: join(dir, `w${n}`, 'fixed'),
      port: 0,
      log: silentLogger as pino.Logger,
      secrets: { syncToken: TOKEN, emailHashKey: 'fixed-email-hash-key-0123456789abcdef', ipSaltSeed: 'fixed-ip-salt-seed-0123456789abcdef' },
      settings: { REVTRAIL_FEED_SETTLE_MS: '0' },
    });
    const port = fixed.port;
    try {
      must(await w.core.call('redirector.connect', { url: fixed.url, token: TOKEN }));
      const connected = must(await w.core.call('telegram.connect', { botToken: bot.token, apiBase: tg.url }));
      expect(connected).toMatchObject({ outcome: 'deploy', forwardHost: null });
      expect(connected.setCommands!.join(' ')).toContain('revtrail telegram secret bot-token');
      expect(tg.webhookOf(bot.token)).toBeNull();
      const early = await w.core.call('telegram.activate', {});
      expect(early.ok === false && early.error).toMatchObject({ code: 'conflict', message: expect.stringContaining("does not hold this bot's secret token") });
      expect(tg.webhookOf(bot.token)).toBeNull();
    } finally {
      await fixed.close();
    }
    // "Deployed" with the secrets piped from this computer's store, on the same address.
    const secret = async (which: 'bot-token' | 'secret-token') => (await w.secrets.get(must(await w.core.call('telegram.secretName', { which })).name))!;
    const deployed = await startLocalRedirector({
      dataDir: join(dir, `w${n}`, 'fixed'),
      port,
      log: silentLogger as pino.Logger,
      secrets: { syncToken: TOKEN, emailHashKey: 'fixed-email-hash-key-0123456789abcdef', ipSaltSeed: 'fixed-ip-salt-seed-0123456789abcdef' },
      settings: { REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_TELEGRAM_BOT_TOKEN: await secret('bot-token'), REVTRAIL_TELEGRAM_SECRET_TOKEN: await secret('secret-token') },
    });
    try {
      const active = must(await w.core.call('telegram.activate', {}));
      expect(active).toMatchObject({ secretMatches: true, telegram: { pointsHere: true } });
      expect(tg.webhookOf(bot.token)?.url).toBe(`${deployed.url}${TELEGRAM_WEBHOOK_PATH}`);
      expect((await tg.sendUpdate(bot.token, textMessage(USER, 'hi'))).status).toBe(200);
    } finally {
      await deployed.close();
    }
  });
});

describe('Telegram on the app\'s own local redirector', () => {
  it('keeps the bot in the secret store through the host, so the redirector has it again after a restart', async () => {
    const dataDir = join(dir, `host${n}`);
    const secrets = memorySecrets();
    const open = (port: number) =>
      startHost({ mode: 'browser', dataDir, clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets, localRedirector: { port }, schedule: false });
    let host = await open(0);
    // Its links carry the port, so the app starts it on the same one each time.
    const port = host.localRedirector!.port;
    try {
      const ws = must(await host.core.call('workspaces.add', { name: 'Local' }));
      must(await host.dispatch('shell.useLocalRedirector', { workspace: ws.id }));
      expect(must(await host.core.call('telegram.connect', { botToken: bot.token, apiBase: tg.url })).outcome).toBe('applied');
      const kept = JSON.parse((await secrets.get(LOCAL_TELEGRAM_SETTINGS))!) as { botToken: string; secretToken: string };
      expect(kept.botToken).toBe(bot.token);
      expect(kept.secretToken).toBe(tg.webhookOf(bot.token)!.secretToken);
    } finally {
      await host.close();
    }
    host = await open(port);
    try {
      expect(must(await host.core.call('telegram.status', {}))).toMatchObject({ secretMatches: true, redirector: { botId: String(bot.id) } });
    } finally {
      await host.close();
    }
  }, 60_000);
});
