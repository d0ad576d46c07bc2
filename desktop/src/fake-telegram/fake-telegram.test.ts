import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelegramApiError, TelegramBotApi } from '../core/telegram/bot-api';
import { startFakeTelegram, startMessage, starsPaymentMessage, textMessage, type FakeTelegram } from './server';

// The fake against the Bot API as Telegram documents it (https://core.telegram.org/bots/api): its answers' shapes,
// setWebhook's rules, and delivery to a webhook with the secret header and retries. Through the desktop's own
// client where it can be, and raw HTTP for what the client never sends.
let tg: FakeTelegram;
let hook: Server;
let hookUrl: string;
let received: { body: Record<string, unknown>; secret: string | undefined }[];
let answer: number;

beforeEach(async () => {
  tg = await startFakeTelegram({ retryDelaysMs: [10, 20] });
  received = [];
  answer = 200;
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ body: JSON.parse(body) as Record<string, unknown>, secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});
afterEach(async () => {
  await tg.close();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
});

const raw = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${tg.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('fake Telegram Bot API', () => {
  it('answers getMe and getWebhookInfo in the documented shapes', async () => {
    const bot = tg.createBot('shop_bot');
    const api = new TelegramBotApi(tg.url, bot.token);
    expect(await api.getMe()).toMatchObject({ id: bot.id, is_bot: true, username: 'shop_bot' });
    expect(await api.getWebhookInfo()).toEqual({ url: '', has_custom_certificate: false, pending_update_count: 0 });
  });

  it('refuses an unknown token with 401 and an unknown method with 404, as {ok: false, error_code, description}', async () => {
    const bot = tg.createBot('shop_bot');
    expect(await raw('/bot123:nope/getMe')).toEqual({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
    expect(await raw(`/bot${bot.token}/sendTelepathy`)).toEqual({ status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } });
    await expect(new TelegramBotApi(tg.url, '123:AAnotARealTokenAtAll0123456789abcd').getMe()).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('takes parameters from the query, JSON or a form, and method names in any case', async () => {
    const bot = tg.createBot('shop_bot');
    const form = new URLSearchParams({ url: hookUrl, secret_token: 'abc_DEF-123', allowed_updates: JSON.stringify(['message']) });
    expect((await raw(`/bot${bot.token}/SETWEBHOOK`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).body).toEqual({
      ok: true,
      result: true,
      description: 'Webhook was set',
    });
    expect(tg.webhookOf(bot.token)).toEqual({ url: hookUrl, secretToken: 'abc_DEF-123', maxConnections: null, allowedUpdates: ['message'] });
    const info = await raw(`/bot${bot.token}/getwebhookinfo?x=1`);
    expect(info.body.result).toEqual({ url: hookUrl, has_custom_certificate: false, pending_update_count: 0, max_connections: 40, allowed_updates: ['message'] });
    // A later setWebhook without allowed_updates keeps them ("the previous setting will be used").
    await new TelegramBotApi(tg.url, bot.token).setWebhook({ url: hookUrl, secret_token: 'other' });
    expect(tg.webhookOf(bot.token)?.allowedUpdates).toEqual(['message']);
    // The secret token is never logged.
    expect(JSON.stringify(tg.calls)).not.toContain('abc_DEF-123');
  });

  it.each([
    [{ url: 'http://example.com/hook' }, 'An HTTPS URL must be provided'],
    [{ url: 'https://example.com:8080/hook' }, 'ports 80, 88, 443 or 8443'],
    [{ url: 'https://example.com/hook', secret_token: 'has space' }, 'secret token contains unallowed characters'],
    [{ url: 'https://example.com/hook', secret_token: 'x'.repeat(257) }, 'secret token contains unallowed characters'],
    [{ url: 'https://example.com/hook', max_connections: 101 }, 'max_connections'],
    [{}, 'parameter "url" is required'],
  ])('refuses setWebhook %j', async (params, description) => {
    const bot = tg.createBot('shop_bot');
    const e = await new TelegramBotApi(tg.url, bot.token).setWebhook(params as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TelegramApiError);
    expect((e as TelegramApiError).kind).toBe('refused');
    expect((e as TelegramApiError).description).toContain(description);
  });

  it('delivers updates in order with the secret header, leaves out types not allowed, and keeps failed ones pending with the error', async () => {
    const bot = tg.createBot('shop_bot');
    const api = new TelegramBotApi(tg.url, bot.token);
    await api.setWebhook({ url: hookUrl, secret_token: 'sekret', allowed_updates: ['message'] });
    const first = await tg.sendUpdate(bot.token, startMessage(42, 'abc'));
    expect(first).toMatchObject({ delivered: true, status: 200 });
    expect(received[0]).toMatchObject({ secret: 'sekret', body: { update_id: first.updateId, message: { text: '/start abc', from: { id: 42 }, chat: { type: 'private' } } } });
    expect(await tg.sendUpdate(bot.token, { callback_query: { id: '1' } })).toMatchObject({ delivered: false });
    expect(received).toHaveLength(1);

    answer = 500;
    const failed = await tg.sendUpdate(bot.token, starsPaymentMessage(42, 50, 'stxA'));
    expect(failed).toMatchObject({ delivered: false, status: 500 });
    expect(tg.deliveries.filter((d) => d.updateId === failed.updateId).map((d) => d.attempt)).toEqual([1, 2, 3]);
    const info = await api.getWebhookInfo();
    expect(info).toMatchObject({ pending_update_count: 1, last_error_message: 'Wrong response from the webhook: 500 Internal Server Error' });
    expect(info.last_error_date).toEqual(expect.any(Number));
    // The next update waits behind it; once the webhook answers, both go, in order.
    answer = 200;
    const next = await tg.sendUpdate(bot.token, textMessage(42, 'hi'));
    expect(next.delivered).toBe(true);
    expect(received.slice(-2).map((r) => r.body.update_id)).toEqual([failed.updateId, next.updateId]);
    expect(tg.pendingOf(bot.token)).toBe(0);
  });

  it('refuses getUpdates while a webhook is set, and drops pending updates when asked', async () => {
    const bot = tg.createBot('shop_bot');
    const api = new TelegramBotApi(tg.url, bot.token);
    await api.setWebhook({ url: hookUrl });
    expect((await raw(`/bot${bot.token}/getUpdates`)).body).toMatchObject({ ok: false, error_code: 409 });
    answer = 503;
    await tg.sendUpdate(bot.token, textMessage(1, 'x'));
    expect(tg.pendingOf(bot.token)).toBe(1);
    await api.deleteWebhook(true);
    expect([tg.pendingOf(bot.token), tg.webhookOf(bot.token)]).toEqual([0, null]);
  });
});
