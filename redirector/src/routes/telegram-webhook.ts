import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  hashTelegramUser,
  HOUR_MS,
  parsed,
  readObject,
  readString,
  TELEGRAM_SECRET_HEADER,
  TELEGRAM_USER_HASH_RE,
  TELEGRAM_WEBHOOK_PATH,
  type Parsed,
  type TelegramRefusal,
  type TelegramSettingsInput,
  type TelegramSkip,
} from '@revtrail/shared';
import type { AppContext } from '../context';
import { sendError } from '../http-errors';
import { secretMatches } from '../secret-match';
import { TELEGRAM_KEEPS_MS } from '../store/telegram';
import { parseTelegramSettings } from '../telegram/settings';
import { readUpdate, type ReadUpdate } from '../telegram/update';
import { rateLimitKey } from '../visitor';

/**
 * An update is a message with its entities, a few kilobytes at most (a text is at most 4,096 characters): a
 * mebibyte is far above any, and bounds what a request can make the redirector hold.
 */
export const TELEGRAM_WEBHOOK_BODY_LIMIT = 1024 * 1024;
/** Telegram delivers from its own addresses, one bot's updates over at most 100 connections (setWebhook's max_connections). */
const DELIVERIES_PER_MINUTE = 6000;
/**
 * How long the bot's previous webhook has to answer a forwarded update: the function's own timeout is 5 s on
 * AWS, and the answer (which may carry a Bot API call for Telegram to make) must get back through this one.
 */
export const FORWARD_TIMEOUT_MS = 3000;
const FORWARD_ANSWER_MAX = 1024 * 1024;
/** An update dated longer ago than Telegram keeps undelivered ones (a day), with an hour's slack, is a replay. */
const STALE_MS = TELEGRAM_KEEPS_MS + HOUR_MS;
const REFUSAL_COUNT_BUDGET_MS = 100;
const RECEIVED_COUNT_BUDGET_MS = 300;

const STATUS: Record<TelegramRefusal, number> = { no_secret: 503, bad_secret: 401, not_an_update: 400, too_large: 413 };

const MESSAGE: Record<Exclude<TelegramRefusal, 'no_secret'>, string> = {
  bad_secret: 'The X-Telegram-Bot-Api-Secret-Token header is missing or is not the secret token this endpoint was set up with: only Telegram, delivering to the webhook `revtrail connect telegram` set, sends it. Nothing was kept.',
  not_an_update: 'The body is not a Telegram update (a JSON object with an update_id). Nothing was kept.',
  too_large: `The body is over ${TELEGRAM_WEBHOOK_BODY_LIMIT / (1024 * 1024)} MiB: Telegram's updates are far smaller, so this is not one.`,
};

/** `POST /webhooks/telegram`: the bot's updates, checked, kept (starts and payments only) and forwarded (docs/table.md, Telegram). */
export function registerTelegramWebhookRoute(app: FastifyInstance, ctx: AppContext): void {
  const endpoint = ctx.telegram;

  const refuse = async (reply: FastifyReply, reason: TelegramRefusal, problem?: string) => {
    endpoint.count({ refused: reason });
    await endpoint.flush(REFUSAL_COUNT_BUDGET_MS, true);
    const message = reason === 'no_secret' ? endpoint.missing : problem ? `${MESSAGE[reason]} (${problem})` : MESSAGE[reason];
    return reply
      .code(STATUS[reason])
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send({ error: { code: reason === 'no_secret' ? 'unavailable' : reason === 'bad_secret' ? 'unauthorized' : 'invalid_input', reason, message } });
  };

  /**
   * Keeps what the update holds for attribution, and counts it. Throws when the table does not take it. True when
   * something was kept: only then is its count written with the answer; a busy bot's other messages are counted
   * at most once a second per instance, as refusals are.
   */
  const keep = async (update: ReadUpdate): Promise<boolean> => {
    const now = ctx.clock.now();
    const skip = (skipped: TelegramSkip) => (endpoint.count({ skipped }), false);
    if (update.kind === 'other') return skip('other');
    if (now - update.at > STALE_MS) return skip('stale');
    const userHash = await hashTelegramUser(update.userId, ctx.config.emailHashKey);
    const erased = await ctx.store.telegram.isErased({ userHash });
    if (update.kind === 'start') {
      const verdict = endpoint.tokens.check(update.payload, update.at);
      if (!verdict.ok) return skip(verdict.reason);
      if (erased) return skip('erased');
      // Null while the click waits in the journal or the spill queue: the desktop joins them by the digest then.
      const click = await ctx.store.telegram.tokenClick(verdict.digest, verdict.issuedAt);
      if (click && (await ctx.store.telegram.isErased({ visitorId: click.visitorId }))) return skip('erased');
      const outcome = await ctx.store.telegram.putStart(
        { startedAt: update.at, updateId: update.updateId, userHash, tokenDigest: verdict.digest, visitorId: click?.visitorId ?? null, clickId: click?.clickId ?? null },
        verdict.issuedAt,
      );
      if (outcome === 'token_used') return skip('token_used');
      endpoint.count({ add: outcome === 'stored' ? 'starts' : 'duplicates' });
      return true;
    }
    // A payment is the merchant's record: an erased payer's is kept without them.
    const outcome = await ctx.store.telegram.putPayment({
      kind: update.kind,
      paidAt: update.at,
      updateId: update.updateId,
      userHash: erased ? null : userHash,
      currency: update.currency,
      amountMinor: update.amountMinor,
      chargeId: update.chargeId,
      providerChargeId: update.providerChargeId,
      recurring: update.recurring,
    });
    endpoint.count({ add: outcome === 'stored' ? 'payments' : 'duplicates' });
    return true;
  };

  /**
   * Sends the update, as received, to the bot's previous webhook and hands its answer back to Telegram (an answer
   * may carry a Bot API call, https://core.telegram.org/bots/api#making-requests-when-getting-updates). Not
   * retried here: a failure answers 502, and Telegram delivers the update again, as it would have to that webhook.
   */
  const forward = async (req: FastifyRequest, reply: FastifyReply, body: Buffer, target: { url: string; secretToken: string | null }, coalesce: boolean) => {
    const at = ctx.clock.now();
    const failed = async (why: string) => {
      endpoint.count({ add: 'forwardFailures', forwardError: { at, message: why } });
      await endpoint.flush(RECEIVED_COUNT_BUDGET_MS);
      ctx.log.warn({ forwardHost: new URL(target.url).host, why }, 'telegram update kept but not forwarded; Telegram delivers it again');
      // 502, not sendError's 503: the bad gateway is the merchant's webhook, and Telegram retries either alike.
      return reply
        .code(502)
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send({ error: { code: 'unavailable', message: `Kept, but the bot's previous webhook did not take it (${why}): Telegram delivers it again.` } });
    };
    let res: Response;
    let answer: ArrayBuffer;
    try {
      const contentType = req.headers['content-type'];
      res = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': typeof contentType === 'string' ? contentType : 'application/json', ...(target.secretToken ? { [TELEGRAM_SECRET_HEADER]: target.secretToken } : {}) },
        body: new Uint8Array(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
      answer = await res.arrayBuffer();
    } catch (e) {
      return failed((e as Error).name === 'TimeoutError' ? `no answer within ${FORWARD_TIMEOUT_MS / 1000} s` : 'no connection');
    }
    if (res.status < 200 || res.status > 299) return failed(`it answered ${res.status}`);
    if (answer.byteLength > FORWARD_ANSWER_MAX) return failed('its answer was over 1 MiB');
    endpoint.count({ add: 'forwarded' });
    await endpoint.flush(RECEIVED_COUNT_BUDGET_MS, coalesce);
    const type = res.headers.get('content-type');
    if (type) reply.type(type);
    return reply.code(res.status).header('cache-control', 'no-store').send(Buffer.from(answer));
  };

  // Its own scope: the raw body, whatever its content type, forwarded unchanged; nothing else reads it.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: TELEGRAM_WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.setErrorHandler(async (error: Error & { code?: string }, _req, reply) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, 'too_large');
      if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return refuse(reply, 'not_an_update');
      throw error;
    });

    scope.post(
      TELEGRAM_WEBHOOK_PATH,
      {
        bodyLimit: TELEGRAM_WEBHOOK_BODY_LIMIT,
        config: { rateLimit: { max: DELIVERIES_PER_MINUTE, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => rateLimitKey(req.ip) } },
      },
      async (req, reply) => {
        const settings = endpoint.settings;
        if (!settings.secretToken) return refuse(reply, 'no_secret');
        const header = req.headers[TELEGRAM_SECRET_HEADER];
        if (typeof header !== 'string' || !secretMatches(header, settings.secretToken)) return refuse(reply, 'bad_secret');
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const read = readUpdate(body);
        if (!read.ok) return refuse(reply, 'not_an_update', read.problem);
        endpoint.count({ receivedAt: ctx.clock.now() });
        let kept: boolean;
        try {
          kept = await keep(read.update);
        } catch (e) {
          ctx.log.warn({ err: (e as Error).message, updateKind: read.update.kind }, 'telegram update not stored; Telegram will send it again');
          await endpoint.flush(REFUSAL_COUNT_BUDGET_MS);
          return sendError(reply, 'unavailable', 'The tracking server could not store this update just now: Telegram sends it again later, and nothing is lost.');
        }
        if (settings.forward) return forward(req, reply, body, settings.forward, !kept);
        await endpoint.flush(RECEIVED_COUNT_BUDGET_MS, !kept);
        return reply.code(200).header('cache-control', 'no-store').send();
      },
    );
  });
}

/** `{botToken, secretToken, forward: {url, secretToken} | null}`. */
function parseSettings(body: unknown): Parsed<TelegramSettingsInput> {
  const problems: string[] = [];
  const obj = readObject(body, ['botToken', 'secretToken', 'forward'], problems);
  const botToken = readString(obj, 'botToken', { required: true, max: 200 }, problems);
  const secretToken = readString(obj, 'secretToken', { required: true, max: 256 }, problems);
  let forwardUrl: string | null = null;
  let forwardSecret: string | null = null;
  if (obj.forward !== null && obj.forward !== undefined) {
    const f = readObject(obj.forward, ['url', 'secretToken'], problems, 'forward');
    forwardUrl = readString(f, 'url', { required: true, max: 2048 }, problems) ?? null;
    forwardSecret = readString(f, 'secretToken', { nullable: true, max: 256 }, problems) ?? null;
  }
  if (problems.length > 0) return { ok: false, problems };
  const read = parseTelegramSettings({ botToken, secretToken, forwardUrl, forwardSecretToken: forwardSecret }, { botToken: 'botToken', secretToken: 'secretToken', forward: 'forward.url' });
  if (!read.ok) return { ok: false, problems: [read.problem] };
  const { settings } = read;
  if (!settings.botToken || !settings.secretToken) return { ok: false, problems: ['botToken and secretToken: both required'] };
  return parsed({ botToken: settings.botToken, secretToken: settings.secretToken, forward: settings.forward }, problems);
}

function parseUserHash(value: unknown): string | null {
  return typeof value === 'string' && TELEGRAM_USER_HASH_RE.test(value) ? value : null;
}

/** Sync API routes of the Telegram endpoint and its data, inside the token-protected scope (routes/sync.ts). */
export function registerTelegramApi(api: FastifyInstance, ctx: AppContext, limited: object): void {
  const endpoint = ctx.telegram;

  api.get('/webhooks/telegram', limited, async (_req, reply) => reply.header('cache-control', 'no-store').send(await endpoint.status()));

  api.put('/webhooks/telegram/settings', { ...limited, bodyLimit: 4096 }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!endpoint.settable) return sendError(reply, 'conflict', endpoint.notSettable);
    const input = parseSettings(req.body);
    if (!input.ok) return sendError(reply, 'invalid_input', `Send {"botToken": ..., "secretToken": ..., "forward": null}: ${input.problems.join('; ')}`);
    await endpoint.set(input.value);
    ctx.log.info({ forward: input.value.forward !== null }, 'telegram settings changed through the sync API');
    return reply.send(await endpoint.status());
  });

  api.get<{ Querystring: { userHash?: string } }>('/telegram/people', limited, async (req, reply) => {
    const userHash = parseUserHash(req.query.userHash);
    if (!userHash) return sendError(reply, 'invalid_input', 'userHash: 64 lowercase hex characters (the keyed hash of the Telegram user id).');
    return ctx.store.telegram.person(userHash);
  });

  // The desktop erases a Telegram user: their starts go, their payments stay without them, and the visitors
  // their starts bound are erased as an email's visitors are.
  api.post('/telegram/erase', { ...limited, bodyLimit: 1024 }, async (req, reply) => {
    const problems: string[] = [];
    const userHash = parseUserHash(readObject(req.body, ['userHash'], problems).userHash);
    if (!userHash || problems.length > 0) return sendError(reply, 'invalid_input', 'Send {"userHash": "<64 lowercase hex characters>"}.');
    const at = ctx.clock.now();
    const erased = await ctx.store.telegram.erase(userHash, at);
    await ctx.erasures.add(erased.visitorIds.map((visitorId) => ({ visitorId })), at);
    let items = erased.items;
    for (const visitorId of erased.visitorIds) items += (await ctx.store.eraseVisitor(visitorId, at)).items;
    await ctx.journal?.scrub(erased.visitorIds);
    if (items > 0) await ctx.compactStore?.();
    ctx.log.info({ starts: erased.starts, payments: erased.payments, visitors: erased.visitorIds.length }, 'telegram user erased');
    return { starts: erased.starts, payments: erased.payments, visitors: erased.visitorIds.length, items };
  });
}
