import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  SLUG_MAX_LENGTH,
  botLink,
  buildRedirectUrl,
  extractTrackingParams,
  hostInDomain,
  isSlug,
  isVisitorId,
  newEventId,
  newVisitorId,
  type Click,
  type Link,
} from '@revtrail/shared';
import { objectionOf } from '../consent';
import { VISITOR_COOKIE, type AppContext } from '../context';
import { sendError, sendPage } from '../http-errors';
import type { LinkLookup } from '../link-cache';
import { classifyAgent, parseReferrer, throughMerchantProxy } from '../visitor';
import { clearVisitorCookie, visitorCookieHeader } from '../visitor-cookie';

const COUNTRY_RE = /^[A-Z]{2}$/;
/** Real User-Agent headers are a few hundred characters; a longer one is cut, not refused. */
const USER_AGENT_MAX = 1024;

/** A Host without its port, or the same string (most hosts have none: no regex run). */
function hostWithoutPort(hostname: string): string {
  const colon = hostname.lastIndexOf(':');
  return colon === -1 || hostname.endsWith(']') ? hostname : hostname.replace(/:\d+$/, '');
}

/** A link's destination host, parsed once per destination rather than once per redirect (bounded). */
const destinationHosts = new Map<string, string>();
function hostOf(destination: string): string {
  let host = destinationHosts.get(destination);
  if (host === undefined) {
    host = new URL(destination).hostname;
    if (destinationHosts.size >= 10_000) destinationHosts.clear();
    destinationHosts.set(destination, host);
  }
  return host;
}

/**
 * Redirect URLs by slug and query string: a link's URL for a query is the same on every redirect but for the
 * visitor id, so it is built once (with a placeholder where rt_vid goes) and the id is put in by string
 * concatenation. Bounded; an entry of a link that changed since is built again. Queries carrying a click id
 * are different on every click: they miss and cost one build, as before.
 */
interface BuiltUrls {
  link: Link;
  plain?: string;
  /** Around the visitor id; null when the placeholder cannot be found once (then built per redirect). */
  around?: [string, string] | null;
}
const builtUrls = new Map<string, BuiltUrls>();
const BUILT_URLS_MAX = 10_000;
const BUILT_QUERY_MAX = 512;
/** Visitor-id shaped (22 base64url characters, encoded as is), and found once in a URL or not used. */
const VISITOR_PLACEHOLDER = 'rtVisitorIdPlaceholder';

function redirectUrl(link: Link, rawQuery: string, query: URLSearchParams, visitorId: string | undefined): string {
  if (rawQuery.length > BUILT_QUERY_MAX) return buildRedirectUrl(link, query, visitorId);
  const key = `${link.slug}?${rawQuery}`;
  let built = builtUrls.get(key);
  if (built?.link !== link) {
    if (builtUrls.size >= BUILT_URLS_MAX) builtUrls.clear();
    built = { link };
    builtUrls.set(key, built);
  }
  if (visitorId === undefined) return (built.plain ??= buildRedirectUrl(link, query));
  if (built.around === undefined) {
    const url = buildRedirectUrl(link, query, VISITOR_PLACEHOLDER);
    const at = url.indexOf(VISITOR_PLACEHOLDER);
    built.around = at !== -1 && at === url.lastIndexOf(VISITOR_PLACEHOLDER) ? [url.slice(0, at), url.slice(at + VISITOR_PLACEHOLDER.length)] : null;
  }
  return built.around ? built.around[0] + visitorId + built.around[1] : buildRedirectUrl(link, query, visitorId);
}

/** GET|HEAD /:slug — record the click, set the first-party cookie, redirect. */
export function registerTrackRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { config } = ctx;

  const notALink = (reply: FastifyReply) =>
    config.fallbackUrl
      ? reply.code(302).header('location', config.fallbackUrl).header('cache-control', 'no-store').send()
      : sendPage(reply, 404, 'Link not found', 'This link does not exist or has been turned off.');

  // Not an async function: a link in memory is answered with no await but the journal's (or the store's)
  // write, and Fastify skips its promise handling of the handler. A throw reaches the error handler as before.
  const handler = (req: FastifyRequest<{ Params: { slug: string } }>, reply: FastifyReply): FastifyReply | undefined => {
    const { slug } = req.params;
    if (slug.length > SLUG_MAX_LENGTH) return sendError(reply, 'invalid_input', `A link's name is at most ${SLUG_MAX_LENGTH} characters.`);
    if (!isSlug(slug)) return notALink(reply);
    const rawUrl = req.raw.url ?? '';
    const q = rawUrl.indexOf('?');
    const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);
    const query = new URLSearchParams(rawQuery);
    const tracking = extractTrackingParams(query);
    if (!tracking.ok) return sendError(reply, 'invalid_input', `The ${tracking.key} parameter is too long to be a real click id.`);

    const lookup = ctx.links.cached(slug);
    if (lookup) return redirect(req, reply, slug, lookup, rawQuery, query, tracking.value);
    ctx.links
      .get(slug)
      .then((looked) => redirect(req, reply, slug, looked, rawQuery, query, tracking.value))
      .catch((e: unknown) => reply.send(e));
    return undefined;
  };

  const redirect = (
    req: FastifyRequest,
    reply: FastifyReply,
    slug: string,
    lookup: LinkLookup,
    rawQuery: string,
    query: URLSearchParams,
    tracking: Pick<Click, 'clickIds' | 'utm'>,
  ): FastifyReply | undefined => {
    if (lookup.status === 'unavailable') {
      if (config.fallbackUrl) return reply.code(302).header('location', config.fallbackUrl).header('cache-control', 'no-store').send();
      return sendPage(reply.header('retry-after', '5'), 503, 'Try again in a moment', 'This link is briefly unavailable.');
    }
    if (lookup.status === 'missing' || !lookup.link.enabled) return notALink(reply);
    const link = lookup.link;

    const at = ctx.clock.now();
    const ua = req.headers['user-agent'];
    const agent = classifyAgent(ua, req.method, (req.headers['sec-purpose'] ?? req.headers.purpose) as string | undefined);
    const cookieVid = req.cookies[VISITOR_COOKIE];
    const returning = isVisitorId(cookieVid);
    // Still redirected, counted for the link, bound to no one: an objection, or opt-in with no consent yet
    // (the cookie exists only once the pixel posted with consent).
    const objection = objectionOf(req, config);
    const anonymous = objection !== null || (config.consent === 'opt-in' && !returning);
    const visitorId = anonymous ? null : returning ? cookieVid : newVisitorId();
    // Only ever CloudFront's, proven: vetForwarding drops a country the client sent.
    const country = req.headers['cloudfront-viewer-country'];
    const requestHost = hostWithoutPort(req.hostname);
    const referrer = parseReferrer(req.headers.referer);
    // Written out, not spread: an object literal with spreads is built field by field, slower to make and to stringify.
    const click: Click = {
      id: newEventId(at),
      slug,
      at,
      visitorId,
      referrerHost: referrer.referrerHost,
      referrerUrl: referrer.referrerUrl,
      device: agent.device,
      browser: agent.browser,
      os: agent.os,
      country: typeof country === 'string' && COUNTRY_RE.test(country) ? country : null,
      ipHash: anonymous ? null : ctx.ipHashOf(req),
      clickIds: tracking.clickIds,
      utm: tracking.utm,
      bot: agent.bot,
      botReason: agent.botReason,
      // A visitor id minted just now has no earlier click: it is only remembered.
      duplicate: !agent.bot && visitorId !== null && (returning ? ctx.duplicates.check(visitorId, slug, at) : ctx.duplicates.remember(visitorId, slug, at)),
      channel: link.channel,
      campaign: link.campaign,
      partnerId: link.partnerId,
    };
    // Only what Meta forwarding needs, only where the deployment turned it on: a person's ad click.
    if (config.meta && visitorId !== null && !agent.bot && tracking.clickIds.fbclid && ua) click.userAgent = ua.slice(0, USER_AGENT_MAX);

    // A bot link: a person's click gets a single-use start token for t.me (its digest rides on the click, so the
    // token's table item lands with the click whichever way it goes: telegram/start-token.ts, store/telegram.ts).
    const start = link.telegramBot && visitorId !== null && !agent.bot ? ctx.telegram.tokens.mint(at) : null;
    if (start) click.telegramStart = start.digest;
    const destinationHost = hostOf(link.destination);
    // A link served through a merchant's site outside the cookie domain sets a cookie of that host alone (visitor-cookie.ts).
    const cookieScope = config.cookieDomain && (hostInDomain(requestHost, config.cookieDomain) || !throughMerchantProxy(req.raw.headers)) ? config.cookieDomain : null;
    const cookieReachesDestination = cookieScope ? hostInDomain(destinationHost, cookieScope) : destinationHost === requestHost;
    // Nothing of the visitor or the query goes to Telegram: the token alone (or no token, for a bot or an objector).
    const location = link.telegramBot
      ? botLink(link.telegramBot, start?.token)
      : redirectUrl(link, rawQuery, query, !agent.bot && !cookieReachesDestination && visitorId !== null ? visitorId : undefined);

    if (visitorId !== null && !agent.bot) reply.header('set-cookie', visitorCookieHeader(requestHost, req.protocol === 'https', config, visitorId));
    else if (objection !== null && cookieVid !== undefined) clearVisitorCookie(req, reply, config);
    // Answered once the click is kept (the journal's group commit, or the store / spill on Lambda).
    ctx.recorder.record([{ kind: 'clicks', item: click }]).then(
      () => reply.code(302).header('location', location).header('cache-control', 'private, no-store').send(),
      (e: unknown) => reply.send(e),
    );
    return undefined;
  };

  // Returns nothing: a reply handed back from a handler that is not async would be sent a second time.
  app.route<{ Params: { slug: string } }>({ method: ['GET', 'HEAD'], url: '/:slug', handler: (req, reply) => void handler(req, reply) });
  // Answered before any body is read, whatever its type.
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/:slug',
    onRequest: async (_req, reply) =>
      reply
        .code(405)
        .header('allow', 'GET, HEAD')
        .send({ error: { code: 'method_not_allowed', message: 'Tracking links answer GET and HEAD only.' } }),
    handler: async () => undefined,
  });
}
