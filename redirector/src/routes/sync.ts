import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  EMAIL_HASH_RE,
  buildRedirectUrl,
  checkDestination,
  isEventId,
  isVisitorId,
  linkFromInput,
  parseLinkInput,
  parsed,
  readIntText,
  readObject,
  readString,
  slugProblem,
  toCsv,
  UTM_KEYS,
  type Link,
  type Parsed,
} from '@revtrail/shared';
import { API_VERSION, type AppContext } from '../context';
import { destinationRules } from '../destinations';
import { sendError } from '../http-errors';
import { secretMatches } from '../secret-match';
import { registerPrivacyApi } from './privacy';
import { registerStripeWebhookApi } from './stripe-webhook';
import { registerTelegramApi } from './telegram-webhook';
import { FEED_KINDS, type FeedKind } from '../store/types';
import { FeedReadAhead } from '../feeds/read-ahead';

/**
 * A page's items at most. 5,000, not 1,000: the desktop writes while its next page is read, and one page is
 * all it asks ahead (the next request needs this page's cursor), so the page is what the redirector gets done
 * while the desktop writes (the local server also reads the next page as it answers one: feeds/read-ahead.ts);
 * each page also pays one marker read and a query per partition. A page's JSON is
 * held under FEED_PAGE_CHARS whatever its items' size (store/dynamo.ts readFeedJson).
 */
export const PAGE_MAX = 5000;

/** `?cursor=&limit=` of a feed page. */
function parseFeedQuery(query: unknown): Parsed<{ cursor: string | null; limit: number }> {
  const problems: string[] = [];
  const q = readObject(query, ['cursor', 'limit'], problems, 'query');
  const cursor = readString(q, 'cursor', { max: 64, check: (c) => (c === '' || isEventId(c) ? null : 'must be a value returned by a previous page') }, problems);
  const limit = readIntText(typeof q.limit === 'string' ? q.limit : undefined, 'limit', 1, PAGE_MAX, 500, problems);
  return parsed({ cursor: cursor || null, limit }, problems);
}

/** `{visitorId}` or `{emailHash}`. */
function parseErase(body: unknown): Parsed<{ visitorId: string } | { emailHash: string }> {
  const problems: string[] = [];
  const obj = readObject(body, ['visitorId', 'emailHash'], problems);
  const visitorId = readString(obj, 'visitorId', { max: 22, check: (v) => (isVisitorId(v) ? null : 'must be a 22-character visitor id') }, problems);
  const emailHash = readString(obj, 'emailHash', { max: 64, check: (v) => (EMAIL_HASH_RE.test(v) ? null : 'must be 64 lowercase hex characters') }, problems);
  if (problems.length === 0 && (visitorId === undefined) === (emailHash === undefined)) problems.push('give exactly one of visitorId and emailHash');
  return parsed(visitorId ? { visitorId } : { emailHash: emailHash ?? '' }, problems);
}

const BEARER_RE = /^bearer +(\S+) *$/i;

/** Per client IP; the auth check runs after it, so guessing tokens is throttled too. */
const limited = { config: { rateLimit: { max: 1200, timeWindow: 60_000 } } };
/**
 * Feed pages get more: a full pull is one request per page of at most PAGE_MAX items (an older desktop asks
 * 1,000), so 1,200 a minute would cap it at 20,000 items a second, below what the desktop writes (a million clicks is a thousand pages, pulled
 * in well under a minute on a laptop). Still per IP and before the token check.
 */
const feedLimited = { config: { rateLimit: { max: 12_000, timeWindow: 60_000 } } };

/** The desktop's API: links in, events out, erasure. Every route needs the sync token. */
export function registerSyncRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.register(async (api) => {
    api.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      const header = req.headers.authorization;
      // The auth scheme is case-insensitive (RFC 9110, section 11.1).
      const token = typeof header === 'string' ? (BEARER_RE.exec(header)?.[1] ?? null) : null;
      if (!token || !secretMatches(token, ctx.config.syncToken)) {
        return sendError(reply.header('www-authenticate', 'Bearer realm="revtrail"'), 'unauthorized', 'A valid sync token is required (Authorization: Bearer <token>).');
      }
    });

    api.get('/status', limited, async () => {
      let store: 'up' | 'down' = 'up';
      try {
        await ctx.store.ping();
      } catch {
        store = 'down';
      }
      return {
        apiVersion: API_VERSION,
        now: ctx.clock.now(),
        store,
        recorder: ctx.recorder.stats,
        // The local journal's exact counts (null on Lambda), and whether events are being kept as promised.
        journal: ctx.recorder.journal,
        health: ctx.recorder.health(),
        retentionDays: ctx.retention.days,
        // Events of erased people dropped on their way from the journal into the table (this process).
        erasedEventsDropped: ctx.erasures.dropped,
        attributionWindowDays: ctx.config.attributionWindowDays,
        cookieDomain: ctx.config.cookieDomain,
        publicUrl: ctx.config.publicUrl,
        feedSettleMs: ctx.config.feedSettleMs,
      };
    });

    // The desktop hashes Stripe customers' emails with the same key, so both sides join on the hash.
    api.get('/keys', limited, async (_req, reply) => reply.header('cache-control', 'no-store').send({ emailHashKey: ctx.config.emailHashKey }));

    // Links saved before a rule refused their destination stay listed (with their clicks) and are flagged:
    // the redirect answers them as missing until they are saved again with an allowed destination.
    api.get('/links', limited, async () => {
      const items = sortLinks(await ctx.store.listLinks());
      const rules = destinationRules(ctx.config);
      const refused = items.flatMap((l) => {
        const verdict = checkDestination(l.destination, rules);
        return verdict.ok ? [] : [{ slug: l.slug, rule: verdict.rule, message: verdict.message }];
      });
      return { items, refused };
    });

    api.get<{ Querystring: { format?: string } }>('/links/export', limited, async (req, reply) => {
      const format = req.query.format ?? 'json';
      const links = sortLinks(await ctx.store.listLinks());
      const stamp = new Date(ctx.clock.now()).toISOString().slice(0, 10);
      const download = (ext: string) => reply.header('content-disposition', `attachment; filename="revtrail-links-${stamp}.${ext}"`);
      switch (format) {
        case 'json':
          return download('json').type('application/json; charset=utf-8').send(JSON.stringify({ exportedAt: ctx.clock.now(), links }, null, 2));
        case 'csv':
          return download('csv').type('text/csv; charset=utf-8').send(linksCsv(links));
        case 'nginx':
          return download('conf').type('text/plain; charset=utf-8').send(linksNginxMap(links, stamp));
        default:
          return sendError(reply, 'invalid_input', 'format must be json, csv or nginx.');
      }
    });

    api.get<{ Params: { slug: string } }>('/links/:slug', limited, async (req, reply) => {
      const link = await ctx.store.getLink(req.params.slug);
      if (!link) return sendError(reply, 'not_found', `No link named "${req.params.slug}".`);
      const verdict = checkDestination(link.destination, destinationRules(ctx.config));
      return { link, refused: verdict.ok ? null : { rule: verdict.rule, message: verdict.message } };
    });

    api.put<{ Params: { slug: string } }>('/links/:slug', { ...limited, bodyLimit: 8192 }, async (req, reply) => {
      const slug = req.params.slug;
      const badSlug = slugProblem(slug);
      if (badSlug) return sendError(reply, 'invalid_input', badSlug);
      const input = parseLinkInput(req.body, destinationRules(ctx.config, `${req.protocol}://${req.host}`));
      if (!input.ok) return sendError(reply, 'invalid_input', input.problems.join('; '));
      const previous = await ctx.store.getLink(slug);
      const link = linkFromInput(slug, input.value, ctx.clock.now(), previous ?? undefined);
      await ctx.store.putLink(link);
      ctx.links.set(link);
      return reply.code(previous ? 200 : 201).send({ link });
    });

    const readPage = (kind: FeedKind, cursor: string | null, limit: number) =>
      ctx.store.readFeedJson(kind, cursor, limit, ctx.clock.now() - ctx.config.feedSettleMs);
    // The local server reads the next pages ahead; a Lambda reads only what it is asked (feeds/read-ahead.ts).
    const ahead = ctx.journal ? new FeedReadAhead(readPage, () => ctx.erasures.generation) : null;
    if (ahead) api.addHook('onClose', async () => ahead.clear());
    for (const kind of FEED_KINDS) {
      api.get(`/${kind}`, feedLimited, async (req, reply) => {
        const q = parseFeedQuery(req.query);
        if (!q.ok) return sendError(reply, 'invalid_input', q.problems.join('; '));
        const page = ahead ? await ahead.page(kind, q.value.cursor, q.value.limit) : await readPage(kind, q.value.cursor, q.value.limit);
        // The items are the store's JSON texts, sent as they are: parsing each only to serialize it again was
        // most of a page's time here. The page is the same JSON as { items, cursor, hasMore } would make.
        return reply
          .type('application/json; charset=utf-8')
          .send(`{"items":[${page.items.join(',')}],"cursor":${JSON.stringify(page.cursor)},"hasMore":${page.hasMore}}`);
      });
    }

    api.post('/erase', { ...limited, bodyLimit: 1024 }, async (req, reply) => {
      const body = parseErase(req.body);
      if (!body.ok) return sendError(reply, 'invalid_input', `Send {"visitorId": ...} or {"emailHash": ...}: ${body.problems.join('; ')}`);
      const at = ctx.clock.now();
      // Noted first, so events still in the journal or the spill are dropped when they arrive instead of
      // landing after the deletion; writes already past that check finish before it.
      await ctx.erasures.add([body.value], at);
      // An email hash's visitors are noted as soon as they are known, before their items are deleted.
      const noteVisitors = (visitorIds: string[]) => ctx.erasures.add(visitorIds.map((visitorId) => ({ visitorId })), at);
      const result =
        'visitorId' in body.value ? await ctx.store.eraseVisitor(body.value.visitorId, at) : await ctx.store.eraseEmailHash(body.value.emailHash, at, noteVisitors);
      const scrubbed = (await ctx.journal?.scrub([...result.visitorIds, ...('emailHash' in body.value ? [body.value.emailHash] : [])])) ?? 0;
      // Answered only once no byte of the person is left in the store's files either.
      await ctx.compactStore?.();
      ctx.log.info({ visitors: result.visitors, items: result.items, scrubbed }, 'erasure handled');
      return { visitors: result.visitors, items: result.items };
    });

    registerPrivacyApi(api, ctx, limited);
    registerStripeWebhookApi(api, ctx, limited);
    registerTelegramApi(api, ctx, limited);
  }, { prefix: '/api/v1' });
}

function sortLinks(links: Link[]): Link[] {
  return links.sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}

function linksCsv(links: Link[]): string {
  return toCsv([
    ['slug', 'destination', 'channel', 'campaign', 'partner_id', ...UTM_KEYS, 'enabled', 'created_at', 'updated_at'],
    ...links.map((l) => [
      l.slug,
      l.destination,
      l.channel,
      l.campaign,
      l.partnerId,
      ...UTM_KEYS.map((k) => l.utm[k] ?? null),
      l.enabled,
      new Date(l.createdAt).toISOString(),
      new Date(l.updatedAt).toISOString(),
    ]),
  ]);
}

/** An nginx `map` of every enabled link, so a user can serve their redirects without Revtrail. */
function linksNginxMap(links: Link[], stamp: string): string {
  // Inside an nginx string, $ starts a variable and " ends it: percent-encode both (and \), which URLs allow.
  const quote = (url: string) => `"${url.replace(/[$"\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}"`;
  const lines = links.filter((l) => l.enabled).map((l) => `    /${l.slug} ${quote(buildRedirectUrl(l, new URLSearchParams()))};`);
  return [
    `# Revtrail links, exported ${stamp}. In the http block:`,
    'map $uri $revtrail_destination {',
    '    default "";',
    ...lines,
    '}',
    '# and in the server block of the tracking domain:',
    '#   if ($revtrail_destination) { return 302 $revtrail_destination; }',
    '',
  ].join('\n');
}
