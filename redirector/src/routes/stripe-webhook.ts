import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  isStripeObjectId,
  parsed,
  readObject,
  STRIPE_HINT_ERASE_MAX,
  STRIPE_WEBHOOK_PATH,
  type Parsed,
  type WebhookRefusal,
} from '@revtrail/shared';
import { parseStripeWebhookSecrets, STRIPE_WEBHOOK_SECRETS_MAX } from '../config';
import type { AppContext } from '../context';
import { sendError } from '../http-errors';
import { rateLimitKey } from '../visitor';
import { readEvent, SIGNATURE_TOLERANCE_S, verifySignature } from '../webhook/verify';

/**
 * Stripe sends one API object per event, its lists cut to their first page (an invoice's `lines` to 10), so
 * an event is a few kilobytes, rarely tens: a mebibyte is far above any of them, and bounds what a request
 * can make the redirector hold.
 */
export const STRIPE_WEBHOOK_BODY_LIMIT = 1024 * 1024;
/**
 * Per client address, every delivery. Stripe delivers from a few published addresses, each far below 100 a
 * second for an account of this product's size; a 429 is retried by Stripe like any failure, so a burst above
 * it is delayed, not lost. Forged requests cost a signature check each, and their refusals reach the table at
 * most once a second per instance (webhook/counters.ts).
 */
const DELIVERIES_PER_MINUTE = 6000;
/** How long a refusal waits for its count to be written; an accepted event, for its counts. */
const REFUSAL_COUNT_BUDGET_MS = 100;
const RECEIVED_COUNT_BUDGET_MS = 300;

const STATUS: Record<WebhookRefusal, number> = { no_secret: 503, unsigned: 400, bad_signature: 400, stale: 400, too_large: 413, not_an_event: 400 };

const CONNECT = 'copy the signing secret of this endpoint from Stripe\'s dashboard (Developers > Webhooks) and run `revtrail connect webhook`';

function refusalMessage(reason: Exclude<WebhookRefusal, 'no_secret'>, problems: string[]): string {
  switch (reason) {
    case 'unsigned':
      return 'No Stripe-Signature header: this endpoint takes only events Stripe sends to a webhook endpoint set up in its dashboard.';
    case 'bad_signature':
      return `The signature does not match this endpoint's signing secret (or the body was changed after Stripe signed it): ${CONNECT}.`;
    case 'stale':
      return `The signature was made more than ${SIGNATURE_TOLERANCE_S / 60} minutes before it arrived: a replayed delivery, or this server's clock is wrong. Stripe signs each retry anew, so its own retries are accepted.`;
    case 'too_large':
      return `The body is over ${STRIPE_WEBHOOK_BODY_LIMIT / (1024 * 1024)} MiB: Stripe's events are far smaller, so this is not one.`;
    case 'not_an_event':
      return `The signature is good but the body is not a Stripe event: ${problems.join('; ')}.`;
  }
}

/** `POST /webhooks/stripe`: Stripe's deliveries, verified and kept as hints (docs/table.md, Stripe hints). */
export function registerStripeWebhookRoute(app: FastifyInstance, ctx: AppContext): void {
  const endpoint = ctx.stripeWebhook;

  const refuse = async (reply: FastifyReply, reason: WebhookRefusal, problems: string[] = []) => {
    const at = ctx.clock.now();
    endpoint.counters.count((c) => {
      c.refused[reason] += 1;
      c.lastRefused = { at, reason };
    });
    await endpoint.counters.flush(REFUSAL_COUNT_BUDGET_MS, true);
    const message = reason === 'no_secret' ? endpoint.missing : refusalMessage(reason, problems);
    // A 413 has no code of its own in http-errors.ts; the body has the shape every error reply has.
    return reply
      .code(STATUS[reason])
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send({ error: { code: reason === 'no_secret' ? 'unavailable' : 'invalid_input', reason, message } });
  };

  // Its own scope: the raw body, whatever its content type, for the signature; nothing else reads it.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: STRIPE_WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scope.setErrorHandler(async (error: Error & { code?: string; statusCode?: number }, _req, reply) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(reply, 'too_large');
      throw error;
    });

    scope.post(
      STRIPE_WEBHOOK_PATH,
      {
        bodyLimit: STRIPE_WEBHOOK_BODY_LIMIT,
        config: { rateLimit: { max: DELIVERIES_PER_MINUTE, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => rateLimitKey(req.ip) } },
      },
      async (req, reply) => {
        if (endpoint.secrets.length === 0) return refuse(reply, 'no_secret');
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const header = req.headers['stripe-signature'];
        const verdict = await verifySignature(body, typeof header === 'string' ? header : undefined, endpoint.secrets, ctx.clock.now());
        if (!verdict.ok) return refuse(reply, verdict.reason);
        const event = readEvent(body);
        if (!event.ok) return refuse(reply, 'not_an_event', event.problems);
        const at = ctx.clock.now();
        reply.header('cache-control', 'no-store');
        const hint = event.value.hint;
        if (!hint) {
          endpoint.counters.count((c) => (c.ignored += 1));
          await endpoint.counters.flush(RECEIVED_COUNT_BUDGET_MS, true);
          return { received: true, ignored: true };
        }
        let outcome;
        try {
          outcome = await ctx.store.putStripeHint(hint);
        } catch (e) {
          ctx.log.warn({ err: (e as Error).message, eventType: hint.eventType }, 'stripe webhook event not stored; Stripe will send it again');
          return sendError(reply, 'unavailable', 'The tracking server could not store this event just now: Stripe sends it again later, and nothing is lost.');
        }
        endpoint.counters.count((c) => {
          if (outcome === 'stored') c.received += 1;
          else c.duplicates += 1;
          c.lastReceivedAt = at;
        });
        await endpoint.counters.flush(RECEIVED_COUNT_BUDGET_MS);
        return { received: true, duplicate: outcome === 'duplicate' };
      },
    );
  });
}

/** `{secrets: [whsec_..., whsec_...?]}`. */
function parseSecrets(body: unknown): Parsed<string[]> {
  const problems: string[] = [];
  const obj = readObject(body, ['secrets'], problems);
  const list = obj.secrets;
  if (!Array.isArray(list) || list.length < 1 || list.length > STRIPE_WEBHOOK_SECRETS_MAX || !list.every((s) => typeof s === 'string')) {
    problems.push(`secrets: must be a list of 1 or ${STRIPE_WEBHOOK_SECRETS_MAX} signing secrets (the new one first while rolling)`);
    return { ok: false, problems };
  }
  const read = parseStripeWebhookSecrets(list as string[], 'secrets');
  if (!read.ok) problems.push(read.problem);
  else if (read.secrets.length === 0) problems.push('secrets: must not be empty');
  return parsed(read.ok ? read.secrets : [], problems);
}

/** `{objectIds: [ch_..., cus_..., ...]}`, at most STRIPE_HINT_ERASE_MAX. */
function parseErase(body: unknown): Parsed<string[]> {
  const problems: string[] = [];
  const obj = readObject(body, ['objectIds'], problems);
  const ids = obj.objectIds;
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > STRIPE_HINT_ERASE_MAX) {
    problems.push(`objectIds: must be a list of 1 to ${STRIPE_HINT_ERASE_MAX} Stripe object ids`);
    return { ok: false, problems };
  }
  const bad = ids.findIndex((id) => !isStripeObjectId(id) || (id as string).length > 255);
  if (bad >= 0) problems.push(`objectIds[${bad}]: must be a Stripe object id such as cus_... or ch_...`);
  return parsed([...new Set(ids as string[])], problems);
}

/** Room for STRIPE_HINT_ERASE_MAX ids of the longest shape. */
const ERASE_BODY_LIMIT = STRIPE_HINT_ERASE_MAX * 260 + 1024;

/** Sync API routes of the webhook endpoint and its hints, inside the token-protected scope (routes/sync.ts). */
export function registerStripeWebhookApi(api: FastifyInstance, ctx: AppContext, limited: object): void {
  const endpoint = ctx.stripeWebhook;

  api.get('/webhooks/stripe', limited, async (_req, reply) => reply.header('cache-control', 'no-store').send(await endpoint.status()));

  api.put('/webhooks/stripe/secrets', { ...limited, bodyLimit: 2048 }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!endpoint.settable) return sendError(reply, 'conflict', endpoint.notSettable);
    const secrets = parseSecrets(req.body);
    if (!secrets.ok) return sendError(reply, 'invalid_input', `Send {"secrets": ["whsec_..."]}: ${secrets.problems.join('; ')}`);
    await endpoint.set(secrets.value);
    ctx.log.info({ secrets: secrets.value.length }, 'stripe webhook signing secrets changed through the sync API');
    return reply.send(await endpoint.status());
  });

  // The desktop erases a Stripe customer: the hints naming the customer and their objects go too.
  api.post('/stripe-hints/erase', { ...limited, bodyLimit: ERASE_BODY_LIMIT }, async (req, reply) => {
    const ids = parseErase(req.body);
    if (!ids.ok) return sendError(reply, 'invalid_input', `Send {"objectIds": ["cus_...", ...]}: ${ids.problems.join('; ')}`);
    const erased = await ctx.store.eraseStripeHints(ids.value, ctx.clock.now());
    // Answered once no byte of them is left in the local store's files either.
    if (erased.items > 0) await ctx.compactStore?.();
    ctx.log.info({ objects: ids.value.length, deleted: erased.hints }, 'stripe hints erased');
    return { deleted: erased.hints };
  });
}
