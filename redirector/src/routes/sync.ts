import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  EMAIL_HASH_RE,
  buildRedirectUrl,
  isEventId,
  isVisitorId,
  linkFromInput,
  linkInputSchema,
  slugSchema,
  toCsv,
  UTM_KEYS,
  type Link,
} from '@revtrail/shared';
import { API_VERSION, type AppContext } from '../context';
import { sendError } from '../http-errors';
import type { FeedKind } from '../store/types';

const FEEDS: FeedKind[] = ['clicks', 'pageviews', 'identities', 'erasures'];
const PAGE_MAX = 1000;

const feedQuery = z
  .object({
    cursor: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_MAX).optional(),
  })
  .strict();

const eraseBody = z.union([
  z.object({ visitorId: z.string().refine(isVisitorId, 'visitorId must be a 22-character visitor id') }).strict(),
  z.object({ emailHash: z.string().regex(EMAIL_HASH_RE, 'emailHash must be 64 lowercase hex characters') }).strict(),
]);

/** Per client IP; the auth check runs after it, so guessing tokens is throttled too. */
const limited = { config: { rateLimit: { max: 1200, timeWindow: 60_000 } } };

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

/** Constant-time comparison of a presented bearer token with the configured one. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The desktop's API: links in, events out, erasure. Every route needs the sync token. */
export function registerSyncRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.register(async (api) => {
    api.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      const header = req.headers.authorization;
      const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : null;
      if (!token || !tokenMatches(token, ctx.config.syncToken)) {
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
        retentionDays: ctx.config.retentionDays,
        attributionWindowDays: ctx.config.attributionWindowDays,
        cookieDomain: ctx.config.cookieDomain,
        publicUrl: ctx.config.publicUrl,
        feedSettleMs: ctx.config.feedSettleMs,
      };
    });

    // The desktop hashes Stripe customers' emails with the same key, so both sides join on the hash.
    api.get('/keys', limited, async (_req, reply) => reply.header('cache-control', 'no-store').send({ emailHashKey: ctx.config.emailHashKey }));

    api.get('/links', limited, async () => ({ items: sortLinks(await ctx.store.listLinks()) }));

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
      return link ? { link } : sendError(reply, 'not_found', `No link named "${req.params.slug}".`);
    });

    api.put<{ Params: { slug: string } }>('/links/:slug', { ...limited, bodyLimit: 8192 }, async (req, reply) => {
      const slug = slugSchema.safeParse(req.params.slug);
      if (!slug.success) return sendError(reply, 'invalid_input', issues(slug.error));
      const input = linkInputSchema.safeParse(req.body);
      if (!input.success) return sendError(reply, 'invalid_input', issues(input.error));
      const ownHost = ctx.config.publicUrl ? new URL(ctx.config.publicUrl).hostname : req.hostname.replace(/:\d+$/, '');
      if (new URL(input.data.destination).hostname === ownHost) {
        return sendError(reply, 'invalid_input', 'A link cannot point back at the tracking domain itself.');
      }
      const previous = await ctx.store.getLink(slug.data);
      const link = linkFromInput(slug.data, input.data, ctx.clock.now(), previous ?? undefined);
      await ctx.store.putLink(link);
      ctx.links.set(link);
      return reply.code(previous ? 200 : 201).send({ link });
    });

    for (const kind of FEEDS) {
      api.get(`/${kind}`, limited, async (req, reply) => {
        const q = feedQuery.safeParse(req.query);
        if (!q.success) return sendError(reply, 'invalid_input', issues(q.error));
        const cursor = q.data.cursor || null;
        if (cursor !== null && !isEventId(cursor)) return sendError(reply, 'invalid_input', 'cursor must be a value returned by a previous page.');
        const until = ctx.clock.now() - ctx.config.feedSettleMs;
        return ctx.store.readFeed(kind, cursor, q.data.limit ?? 500, until);
      });
    }

    api.post('/erase', { ...limited, bodyLimit: 1024 }, async (req, reply) => {
      const body = eraseBody.safeParse(req.body);
      if (!body.success) return sendError(reply, 'invalid_input', `Send {"visitorId": ...} or {"emailHash": ...}: ${issues(body.error)}`);
      const at = ctx.clock.now();
      const result = 'visitorId' in body.data ? await ctx.store.eraseVisitor(body.data.visitorId, at) : await ctx.store.eraseEmailHash(body.data.emailHash, at);
      ctx.log.info({ visitors: result.visitors, items: result.items }, 'erasure handled');
      return result;
    });
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
