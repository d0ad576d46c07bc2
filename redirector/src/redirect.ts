// A tracking link's redirect (GET|HEAD /:slug), without a web framework: the facts of the request in, the
// answer out. The Fastify route (routes/track.ts: the local server, tests) and the Lambda's direct path
// (lambda-redirect.ts: a function URL event, no Fastify at a cold start or per click) both answer through it.
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
  type AppErrorCode,
  type Click,
  type Link,
} from '@revtrail/shared';
import { objectionOf } from './consent';
import { VISITOR_COOKIE, type AppContext } from './context';
import { pageHtml, PAGE_HEADERS, STATUS_OF } from './http-errors';
import type { LinkLookup } from './link-cache';
import type { Logger } from './log';
import { classifyAgent, parseReferrer, throughMerchantProxy, type ClientFacts } from './visitor';
import { trackingCookieHeader, visitorCookieHeader } from './visitor-cookie';

/** A redirect's request: who the client is (forwarding already vetted), the method, the link's name, the query as sent. */
export interface RedirectRequest extends ClientFacts {
  method: string;
  /** The path's one segment (Fastify's :slug param). */
  slug: string;
  /** The query string as sent, without its `?` ('' when none). */
  rawQuery: string;
}

/** What to answer: the status, headers other than Set-Cookie, each Set-Cookie value, and the body (null: none). */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  body: string | null;
}

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

/** sendError's answer. */
function errorJson(code: AppErrorCode, message: string): Answer {
  return { status: STATUS_OF[code], headers: { 'content-type': 'application/json; charset=utf-8' }, cookies: [], body: JSON.stringify({ error: { code, message } }) };
}

/** sendPage's answer. */
function page(status: number, title: string, text: string, headers: Record<string, string> = {}): Answer {
  return { status, headers: { ...headers, ...PAGE_HEADERS }, cookies: [], body: pageHtml(title, text) };
}

const goElsewhere = (location: string, cookies: string[] = []): Answer => ({ status: 302, headers: { location, 'cache-control': 'no-store' }, cookies, body: null });

/**
 * The answer to GET|HEAD /:slug: the click recorded (the answer waits until it is kept: the journal's group
 * commit, or the store / spill on Lambda), the first-party cookie set, the redirect. A link in memory costs no
 * await but the click's write. A rejection (the store's lookup or the write failing) is an error the caller
 * answers as the app's error handler does (errorAnswer).
 */
export function answerRedirect(ctx: AppContext, req: RedirectRequest): Answer | Promise<Answer> {
  const { slug } = req;
  if (slug.length > SLUG_MAX_LENGTH) return errorJson('invalid_input', `A link's name is at most ${SLUG_MAX_LENGTH} characters.`);
  if (!isSlug(slug)) return notALink(ctx);
  const query = new URLSearchParams(req.rawQuery);
  const tracking = extractTrackingParams(query);
  if (!tracking.ok) return errorJson('invalid_input', `The ${tracking.key} parameter is too long to be a real click id.`);
  const lookup = ctx.links.cached(slug);
  if (lookup) return redirect(ctx, req, lookup, query, tracking.value);
  return ctx.links.get(slug).then((looked) => redirect(ctx, req, looked, query, tracking.value));
}

function notALink(ctx: AppContext): Answer {
  const { fallbackUrl } = ctx.config;
  return fallbackUrl ? goElsewhere(fallbackUrl) : page(404, 'Link not found', 'This link does not exist or has been turned off.');
}

function redirect(ctx: AppContext, req: RedirectRequest, lookup: LinkLookup, query: URLSearchParams, tracking: Pick<Click, 'clickIds' | 'utm'>): Answer | Promise<Answer> {
  const { config } = ctx;
  if (lookup.status === 'unavailable') {
    if (config.fallbackUrl) return goElsewhere(config.fallbackUrl);
    return page(503, 'Try again in a moment', 'This link is briefly unavailable.', { 'retry-after': '5' });
  }
  if (lookup.status === 'missing' || !lookup.link.enabled) return notALink(ctx);
  const link = lookup.link;
  const { slug, headers } = req;

  const at = ctx.clock.now();
  const ua = headers['user-agent'];
  const agent = classifyAgent(ua, req.method, (headers['sec-purpose'] ?? headers.purpose) as string | undefined);
  const cookieVid = req.cookies[VISITOR_COOKIE];
  const returning = isVisitorId(cookieVid);
  // Still redirected, counted for the link, bound to no one: an objection, or opt-in with no consent yet
  // (the cookie exists only once the pixel posted with consent).
  const objection = objectionOf(req, config);
  const anonymous = objection !== null || (config.consent === 'opt-in' && !returning);
  const visitorId = anonymous ? null : returning ? cookieVid : newVisitorId();
  // Only ever CloudFront's, proven: vetForwarding drops a country the client sent.
  const country = headers['cloudfront-viewer-country'];
  const requestHost = hostWithoutPort(req.hostname);
  const referrer = parseReferrer(headers.referer);
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
  const cookieScope = config.cookieDomain && (hostInDomain(requestHost, config.cookieDomain) || !throughMerchantProxy(headers)) ? config.cookieDomain : null;
  const cookieReachesDestination = cookieScope ? hostInDomain(destinationHost, cookieScope) : destinationHost === requestHost;
  // Nothing of the visitor or the query goes to Telegram: the token alone (or no token, for a bot or an objector).
  const location = link.telegramBot
    ? botLink(link.telegramBot, start?.token)
    : redirectUrl(link, req.rawQuery, query, !agent.bot && !cookieReachesDestination && visitorId !== null ? visitorId : undefined);

  const secure = req.protocol === 'https';
  const cookies =
    visitorId !== null && !agent.bot
      ? [visitorCookieHeader(requestHost, secure, config, visitorId)]
      : objection !== null && cookieVid !== undefined
        ? [trackingCookieHeader(hostWithoutPort(req.hostname), secure, config, VISITOR_COOKIE, '', 0)]
        : [];
  // Answered once the click is kept (the journal's group commit, or the store / spill on Lambda).
  return ctx.recorder.record([{ kind: 'clicks', item: click }]).then((): Answer => ({ status: 302, headers: { location, 'cache-control': 'private, no-store' }, cookies, body: null }));
}

/**
 * The app's answer to an error (app-base.ts's error handler, and the Lambda's direct path): a 5xx is logged
 * and says only that it was; a 429 is rate_limited; any other status names its code.
 */
export function errorAnswer(error: Error & { statusCode?: number }, log: Pick<Logger, 'error'>, url: string | undefined): { status: number; body: string } {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    log.error({ err: error, url }, 'request failed');
    return { status: 500, body: JSON.stringify({ error: { code: 'internal', message: 'Something went wrong on the tracking server. It has been logged.' } }) };
  }
  if (status === 429) return { status: 429, body: JSON.stringify({ error: { code: 'rate_limited', message: error.message } }) };
  const code = (Object.keys(STATUS_OF) as AppErrorCode[]).find((k) => STATUS_OF[k] === status) ?? 'invalid_input';
  return { status, body: JSON.stringify({ error: { code, message: error.message } }) };
}

/**
 * Single-segment paths that are not links and that only buildApp's app serves (routes/privacy.ts,
 * routes/same-origin.ts PROXY_CHECK_PATH). test/redirect-app.test.ts checks this list against its routes.
 */
export const OTHER_ROOT_PATHS: readonly string[] = ['/optout', '/proxy-check'];

/** The redirect app's own pages (routes/public.ts): static routes, found before /:slug. */
export const PAGE_PATHS: readonly string[] = ['/', '/p.js', '/health', '/robots.txt'];

/**
 * Whether the redirect app answers this path as buildApp's app would: one segment of the characters a slug
 * or a page name is made of, and not one of OTHER_ROOT_PATHS. Anything else (the sync API, collect, webhooks,
 * an encoded or odd path) goes to the full app.
 */
export function redirectAppServes(path: string): boolean {
  return /^\/[A-Za-z0-9._~-]*$/.test(path) && !OTHER_ROOT_PATHS.includes(path);
}

/**
 * The link a GET or HEAD of this path redirects, when Fastify would route it to /:slug (routes/track.ts) and
 * the name is a link's: the Lambda answers it directly (answerRedirect). null: anything else, for the apps.
 */
export function redirectSlugOf(method: string, path: string): string | null {
  if (method !== 'GET' && method !== 'HEAD') return null;
  if (!redirectAppServes(path) || PAGE_PATHS.includes(path)) return null;
  const slug = path.slice(1);
  return isSlug(slug) ? slug : null;
}
