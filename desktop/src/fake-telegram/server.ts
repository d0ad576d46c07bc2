/**
 * A fake of Telegram's Bot API, over real HTTP on 127.0.0.1, for the desktop's `telegram.connect` and the
 * redirector's webhook in tests:
 *
 *   const tg = await startFakeTelegram();          // tg.url stands for https://api.telegram.org
 *   const bot = tg.createBot('shop_bot');          // bot.token, bot.id
 *   POST {tg.url}/bot{token}/getMe | getWebhookInfo | setWebhook | deleteWebhook | getUpdates
 *   await tg.sendUpdate(bot.token, startMessage(USER, payload))   // delivered to the webhook set, with its secret
 *
 * As Telegram documents it (https://core.telegram.org/bots/api): parameters in the query string, a JSON body or an
 * urlencoded form; method names in any case; every answer `{ok: true, result}` or `{ok: false, error_code,
 * description}` (401 "Unauthorized" for an unknown token, 404 "Not Found" for an unknown method). setWebhook
 * takes `url` (empty: remove), `secret_token` (1-256 of A-Za-z0-9_-), `max_connections` (1-100),
 * `allowed_updates` and `drop_pending_updates`; getWebhookInfo answers a WebhookInfo (url,
 * has_custom_certificate, pending_update_count, and when set last_error_date, last_error_message,
 * max_connections, allowed_updates). An update goes to the webhook as a JSON POST with
 * X-Telegram-Bot-Api-Secret-Token when a secret is set; an update type outside allowed_updates is not sent;
 * updates are sent one at a time, in update_id order; a non-2xx answer or no answer keeps the update pending
 * (pending_update_count) with last_error_* set, and it is tried again.
 *
 * Where it differs from Telegram: the webhook may be plain http on this machine (Telegram takes only https on
 * ports 443, 80, 88 and 8443, which the fake checks for https URLs); a retry waits `retryDelaysMs` (Telegram
 * says only that it gives up "after a reasonable amount of attempts" and keeps updates 24 hours); after the last
 * delay an update stays pending until `redeliver()` or the next `sendUpdate()`; a method call in the webhook's
 * answer is recorded (`replies`), not performed; multipart bodies (file uploads, a self-signed certificate) are
 * refused; error descriptions are close to Telegram's but not guaranteed word for word.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FakeBot {
  id: number;
  username: string;
  token: string;
}

export interface WebhookState {
  url: string;
  secretToken: string | null;
  maxConnections: number | null;
  allowedUpdates: string[] | null;
}

export interface DeliveryRecord {
  botId: number;
  updateId: number;
  attempt: number;
  at: number;
  /** The webhook's HTTP status, or null when it did not answer. */
  status: number | null;
  /** What the secret header carried (the test compares it; never logged elsewhere). */
  secretSent: boolean;
}

export interface ApiCallRecord {
  method: string;
  botId: number | null;
  /** Parameters as received, with secret_token replaced by whether one came. */
  params: Record<string, unknown>;
  status: number;
}

export interface FakeTelegram {
  url: string;
  createBot(username: string, id?: number): FakeBot;
  webhookOf(token: string): WebhookState | null;
  pendingOf(token: string): number;
  /** Queues an update (update_id assigned) and delivers what is pending; resolves once delivered or its retries ran out. */
  sendUpdate(token: string, update: Record<string, unknown>): Promise<{ updateId: number; delivered: boolean; status: number | null; reply: unknown }>;
  /** Tries the pending updates again now. */
  redeliver(token: string): Promise<number>;
  calls: ApiCallRecord[];
  deliveries: DeliveryRecord[];
  /** Webhook answers that carried a Bot API call (Telegram would make it). */
  replies: { updateId: number; body: unknown }[];
  close(): Promise<void>;
}

export interface FakeTelegramOptions {
  port?: number;
  /** Waits between tries of a failing delivery; its length is how many retries follow the first try. */
  retryDelaysMs?: number[];
  /** Seconds since the epoch, for message dates and last_error_date; Date.now when absent. */
  nowS?: () => number;
  deliveryTimeoutMs?: number;
}

interface BotState extends FakeBot {
  webhook: WebhookState | null;
  pending: Record<string, unknown>[];
  lastErrorDate: number | null;
  lastErrorMessage: string | null;
  delivering: Promise<unknown>;
}

const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/;
const HTTPS_PORTS = new Set(['', '443', '80', '88', '8443']);
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Bot API parameters from the query, a JSON body or a form; a form's arrays and objects come JSON-serialised. */
function paramsOf(url: URL, contentType: string, body: string): Record<string, unknown> | string {
  const out: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body.trim() === '') return out;
  if (contentType.startsWith('application/json')) {
    try {
      const json = JSON.parse(body) as unknown;
      if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'Bad Request: JSON object expected';
      return { ...out, ...json };
    } catch {
      return "Bad Request: can't parse JSON object";
    }
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) return { ...out, ...Object.fromEntries(new URLSearchParams(body)) };
  return 'Bad Request: this fake reads query strings, JSON and urlencoded forms, not multipart';
}

const asBool = (v: unknown) => v === true || v === 'true' || v === 'True' || v === 1 || v === '1';
const typeOf = (update: Record<string, unknown>) => Object.keys(update).find((k) => k !== 'update_id') ?? 'unknown';

export async function startFakeTelegram(opts: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const nowS = opts.nowS ?? (() => Math.floor(Date.now() / 1000));
  const retryDelays = opts.retryDelaysMs ?? [50, 100, 200];
  const bots = new Map<string, BotState>();
  const calls: ApiCallRecord[] = [];
  const deliveries: DeliveryRecord[] = [];
  const replies: { updateId: number; body: unknown }[] = [];
  let nextUpdateId = 700_000_001;

  /** One try of the oldest pending update: true when the webhook took it. */
  async function tryOne(bot: BotState, update: Record<string, unknown>, attempt: number): Promise<{ ok: boolean; status: number | null; reply: unknown }> {
    const hook = bot.webhook!;
    let status: number | null;
    let reply: unknown = null;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(hook.secretToken ? { 'x-telegram-bot-api-secret-token': hook.secretToken } : {}) },
        body: JSON.stringify(update),
        redirect: 'manual',
        signal: AbortSignal.timeout(opts.deliveryTimeoutMs ?? 10_000),
      });
      status = res.status;
      const text = await res.text();
      try {
        reply = text ? (JSON.parse(text) as unknown) : null;
      } catch {
        reply = null;
      }
    } catch {
      status = null;
    }
    deliveries.push({ botId: bot.id, updateId: update.update_id as number, attempt, at: Date.now(), status, secretSent: hook.secretToken !== null });
    const ok = status !== null && status >= 200 && status < 300;
    if (!ok) {
      bot.lastErrorDate = nowS();
      bot.lastErrorMessage = status === null ? 'Connection refused' : `Wrong response from the webhook: ${status} ${status === 401 ? 'Unauthorized' : status >= 500 ? 'Internal Server Error' : 'Error'}`;
    } else if (reply && typeof reply === 'object' && 'method' in reply) {
      replies.push({ updateId: update.update_id as number, body: reply });
    }
    return { ok, status, reply };
  }

  /** Delivers the bot's pending updates in order; stops at one that still fails after its retries. */
  function deliverPending(bot: BotState): Promise<Map<number, { delivered: boolean; status: number | null; reply: unknown }>> {
    const run = bot.delivering.then(async () => {
      const results = new Map<number, { delivered: boolean; status: number | null; reply: unknown }>();
      while (bot.webhook && bot.pending.length > 0) {
        const update = bot.pending[0]!;
        const allowed = bot.webhook.allowedUpdates;
        if (allowed && allowed.length > 0 && !allowed.includes(typeOf(update))) {
          bot.pending.shift();
          results.set(update.update_id as number, { delivered: false, status: null, reply: null });
          continue;
        }
        let last = { ok: false, status: null as number | null, reply: null as unknown };
        for (let attempt = 0; attempt <= retryDelays.length; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, retryDelays[attempt - 1]));
          if (!bot.webhook) break;
          last = await tryOne(bot, update, attempt + 1);
          if (last.ok) break;
        }
        results.set(update.update_id as number, { delivered: last.ok, status: last.status, reply: last.reply });
        if (!last.ok) break;
        bot.pending.shift();
      }
      return results;
    });
    bot.delivering = run.catch(() => undefined);
    return run;
  }

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const fail = (code: number, description: string) => ({ status: code, body: { ok: false, error_code: code, description } });
  const done = (result: unknown, description?: string) => ({ status: 200, body: { ok: true, result, ...(description ? { description } : {}) } });

  function method(bot: BotState, name: string, params: Record<string, unknown>): { status: number; body: unknown } {
    switch (name) {
      case 'getme':
        return done({ id: bot.id, is_bot: true, first_name: bot.username.replace(/_?bot$/i, ''), username: bot.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case 'getwebhookinfo': {
        const h = bot.webhook;
        return done({
          url: h?.url ?? '',
          has_custom_certificate: false,
          pending_update_count: bot.pending.length,
          ...(bot.lastErrorDate !== null ? { last_error_date: bot.lastErrorDate, last_error_message: bot.lastErrorMessage } : {}),
          ...(h?.maxConnections ? { max_connections: h.maxConnections } : h ? { max_connections: 40 } : {}),
          ...(h?.allowedUpdates ? { allowed_updates: h.allowedUpdates } : {}),
        });
      }
      case 'deletewebhook':
        bot.webhook = null;
        if (asBool(params.drop_pending_updates)) bot.pending = [];
        return done(true, 'Webhook was deleted');
      case 'setwebhook': {
        const url = params.url;
        if (typeof url !== 'string') return fail(400, 'Bad Request: parameter "url" is required');
        if (url === '') {
          bot.webhook = null;
          return done(true, 'Webhook was deleted');
        }
        const parsed = URL.canParse(url) ? new URL(url) : null;
        if (!parsed) return fail(400, 'Bad Request: invalid webhook URL specified');
        const loopbackHttp = parsed.protocol === 'http:' && LOOPBACK.test(parsed.hostname);
        if (parsed.protocol !== 'https:' && !loopbackHttp) return fail(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        if (parsed.protocol === 'https:' && !HTTPS_PORTS.has(parsed.port)) return fail(400, 'Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
        const secret = params.secret_token;
        if (secret !== undefined && secret !== '' && (typeof secret !== 'string' || !SECRET_RE.test(secret))) return fail(400, 'Bad Request: secret token contains unallowed characters');
        const max = params.max_connections === undefined ? null : Number(params.max_connections);
        if (max !== null && !(Number.isInteger(max) && max >= 1 && max <= 100)) return fail(400, 'Bad Request: max_connections must be between 1 and 100');
        let allowed: unknown = params.allowed_updates;
        if (typeof allowed === 'string') {
          try {
            allowed = JSON.parse(allowed) as unknown;
          } catch {
            return fail(400, "Bad Request: can't parse allowed updates JSON object");
          }
        }
        if (allowed !== undefined && !(Array.isArray(allowed) && allowed.every((u) => typeof u === 'string'))) return fail(400, 'Bad Request: allowed_updates must be an array of strings');
        if (asBool(params.drop_pending_updates)) bot.pending = [];
        const same = bot.webhook?.url === url;
        bot.webhook = {
          url,
          secretToken: typeof secret === 'string' && secret !== '' ? secret : null,
          maxConnections: max,
          // Not given: the previous setting stays (Telegram: "If not specified, the previous setting will be used").
          allowedUpdates: allowed === undefined ? (bot.webhook?.allowedUpdates ?? null) : (allowed as string[]),
        };
        return done(true, same ? 'Webhook is already set' : 'Webhook was set');
      }
      case 'getupdates':
        if (bot.webhook) return fail(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        return done(bot.pending);
      default:
        return fail(404, 'Not Found');
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
      if (!m) return answer(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      let body: string;
      try {
        body = await readBody(req);
      } catch {
        return answer(res, 413, { ok: false, error_code: 413, description: 'Request Entity Too Large' });
      }
      const bot = bots.get(decodeURIComponent(m[1]!));
      const params = paramsOf(url, req.headers['content-type'] ?? '', body);
      const name = m[2]!.toLowerCase();
      let out: { status: number; body: unknown };
      if (!bot) out = fail(401, 'Unauthorized');
      else if (typeof params === 'string') out = fail(400, params);
      else out = method(bot, name, params);
      const logged = typeof params === 'string' ? {} : { ...params, ...('secret_token' in params ? { secret_token: params.secret_token ? '(set)' : '' } : {}) };
      calls.push({ method: m[2]!, botId: bot?.id ?? null, params: logged, status: out.status });
      answer(res, out.status, out.body);
      // A webhook just set gets what waited for it.
      if (bot && name === 'setwebhook' && out.status === 200 && bot.webhook && bot.pending.length > 0) void deliverPending(bot);
    })().catch(() => answer(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' }));
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const botOf = (token: string) => {
    const bot = bots.get(token);
    if (!bot) throw new Error('no such bot in the fake');
    return bot;
  };

  return {
    url: base,
    calls,
    deliveries,
    replies,
    createBot(username, id) {
      const botId = id ?? 7_000_000_000 + bots.size + 1;
      const token = `${botId}:AA${randomBytes(24).toString('base64url')}`;
      bots.set(token, { id: botId, username, token, webhook: null, pending: [], lastErrorDate: null, lastErrorMessage: null, delivering: Promise.resolve() });
      return { id: botId, username, token };
    },
    webhookOf: (token) => botOf(token).webhook,
    pendingOf: (token) => botOf(token).pending.length,
    async sendUpdate(token, update) {
      const bot = botOf(token);
      const updateId = nextUpdateId++;
      bot.pending.push({ update_id: updateId, ...update });
      const results = await deliverPending(bot);
      const r = results.get(updateId) ?? { delivered: false, status: null, reply: null };
      return { updateId, ...r };
    },
    async redeliver(token) {
      const results = await deliverPending(botOf(token));
      return [...results.values()].filter((r) => r.delivered).length;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A user of the fake's messages (Telegram's User), with the names and username a real one carries. */
export const telegramUser = (id: number, name = 'Ada') => ({ id, is_bot: false, first_name: name, username: `${name.toLowerCase()}_${id % 1000}`, language_code: 'en' });

/** A private message from `userId` (Telegram's Message), dated now. */
export function privateMessage(userId: number, more: Record<string, unknown>, date = Math.floor(Date.now() / 1000)) {
  return { message_id: Math.floor(Math.random() * 1e6), from: telegramUser(userId), chat: { id: userId, first_name: 'Ada', type: 'private' }, date, ...more };
}

/** What Telegram sends when the user presses Start on t.me/<bot>?start=<payload>. */
export const startMessage = (userId: number, payload: string, date?: number) => ({
  message: privateMessage(userId, { text: `/start ${payload}`, entities: [{ offset: 0, length: 6, type: 'bot_command' }] }, date),
});

/** A payment in Telegram Stars (currency XTR, total_amount in Stars), as successful_payment. */
export const starsPaymentMessage = (userId: number, stars: number, chargeId = `stxFake${randomBytes(9).toString('base64url')}`, date?: number) => ({
  message: privateMessage(userId, { successful_payment: { currency: 'XTR', total_amount: stars, invoice_payload: 'order-1', telegram_payment_charge_id: chargeId, provider_payment_charge_id: '' } }, date),
});

export const textMessage = (userId: number, text: string) => ({ message: privateMessage(userId, { text }) });
