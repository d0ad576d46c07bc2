import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EMAIL_HASH_RE, isVisitorId, parsed, readIntText, readObject, readString, type Parsed } from '@revtrail/shared';
import { OBJECTION_MAX_AGE_S, OPTOUT_COOKIE } from '../consent';
import type { AppContext } from '../context';
import { sendError, sendPage } from '../http-errors';
import type { PersonKey } from '../store/types';
import { ALLOWED_ORIGINS_MAX, originOf } from '../store/settings';
import { clearVisitorCookie, setTrackingCookie } from '../visitor-cookie';

const PEOPLE_PAGE_MAX = 1000;
/** `<visitor index>.<append id or nothing>`, as DynamoStore.person hands it out. */
const PERSON_CURSOR_RE = /^\d{1,6}\.(?:[0-9A-HJKMNP-TV-Z]{26})?$/;
export const RETENTION_DAYS_MAX = 3650;

/** `?visitorId=` or `?emailHash=`, with `cursor` and `limit`. */
function parsePeopleQuery(query: unknown): Parsed<{ key: PersonKey; cursor: string | null; limit: number }> {
  const problems: string[] = [];
  const q = readObject(query, ['visitorId', 'emailHash', 'cursor', 'limit'], problems, 'query');
  const visitorId = readString(q, 'visitorId', { max: 22, check: (v) => (isVisitorId(v) ? null : 'must be a 22-character visitor id') }, problems);
  const emailHash = readString(q, 'emailHash', { max: 64, check: (v) => (EMAIL_HASH_RE.test(v) ? null : 'must be 64 lowercase hex characters') }, problems);
  const cursor = readString(q, 'cursor', { max: 40, check: (c) => (PERSON_CURSOR_RE.test(c) ? null : 'must be a value returned by a previous page') }, problems);
  const limit = readIntText(typeof q.limit === 'string' ? q.limit : undefined, 'limit', 1, PEOPLE_PAGE_MAX, 500, problems);
  if (problems.length === 0 && (visitorId === undefined) === (emailHash === undefined)) problems.push('give exactly one of visitorId and emailHash');
  const key: PersonKey = visitorId ? { visitorId } : { emailHash: emailHash ?? '' };
  return parsed({ key, cursor: cursor ?? null, limit }, problems);
}

/** A change of settings: the retention, the origins allowed from the app, or both. */
function parseSettings(body: unknown): Parsed<{ retentionDays?: number; allowedOrigins?: string[] }> {
  const problems: string[] = [];
  const obj = readObject(body, ['retentionDays', 'allowedOrigins'], problems);
  const change: { retentionDays?: number; allowedOrigins?: string[] } = {};
  const days = obj.retentionDays;
  if (days !== undefined) {
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > RETENTION_DAYS_MAX) {
      problems.push(`retentionDays must be a whole number of days from 1 to ${RETENTION_DAYS_MAX}`);
    } else change.retentionDays = days;
  }
  const origins = obj.allowedOrigins;
  if (origins !== undefined) {
    if (!Array.isArray(origins) || origins.length > ALLOWED_ORIGINS_MAX) {
      problems.push(`allowedOrigins must be a list of at most ${ALLOWED_ORIGINS_MAX} origins`);
    } else {
      const bad = origins.findIndex((o) => originOf(o) === null);
      if (bad >= 0) problems.push(`allowedOrigins[${bad}] must be an origin like https://brand.com (scheme, host and port only)`);
      else change.allowedOrigins = origins.map((o) => originOf(o)!);
    }
  }
  if (problems.length === 0 && days === undefined && origins === undefined) problems.push('give retentionDays, allowedOrigins or both');
  return parsed(change, problems);
}

/**
 * Sync API routes for privacy requests and the retention setting, registered inside the sync API's
 * token-protected scope (routes/sync.ts).
 */
export function registerPrivacyApi(api: FastifyInstance, ctx: AppContext, limited: object): void {
  // Everything the table holds about one person, for an access or portability request (GDPR Art. 15, 20).
  api.get('/people', limited, async (req, reply) => {
    const q = parsePeopleQuery(req.query);
    if (!q.ok) return sendError(reply, 'invalid_input', `Send ?visitorId=... or ?emailHash=...: ${q.problems.join('; ')}`);
    const page = await ctx.store.person(q.value.key, q.value.cursor, q.value.limit);
    return reply.header('cache-control', 'no-store').send({ ...page, hasMore: page.cursor !== null });
  });

  // The pixel's origins: the app's (changeable here) beside the deployment's (changed where it is deployed), and
  // the refused ones it may want to allow, most refused first.
  const settings = async () => ({
    retentionDays: ctx.retention.days,
    retentionDaysDefault: ctx.config.retentionDays,
    attributionWindowDays: ctx.config.attributionWindowDays,
    consent: ctx.config.consent,
    honorGpc: ctx.config.honorGpc,
    allowedOrigins: ctx.pixelOrigins.stored,
    allowedOriginsDeployment: ctx.pixelOrigins.deployment,
    refusedOrigins: await ctx.refusedOrigins.read((o) => ctx.pixelOrigins.allows(o)),
  });

  api.get('/settings', limited, async (_req, reply) => {
    await Promise.all([ctx.retention.refresh(), ctx.pixelOrigins.refresh()]);
    return reply.header('cache-control', 'no-store').send(await settings());
  });

  api.put('/settings', { ...limited, bodyLimit: 16 * 1024 }, async (req, reply) => {
    const body = parseSettings(req.body);
    if (!body.ok) return sendError(reply, 'invalid_input', body.problems.join('; '));
    const { retentionDays, allowedOrigins } = body.value;
    if (retentionDays !== undefined) {
      await ctx.retention.set(retentionDays);
      ctx.log.info({ retentionDays }, 'retention changed through the sync API');
    }
    if (allowedOrigins !== undefined) {
      await ctx.pixelOrigins.set(allowedOrigins);
      ctx.log.info({ allowedOrigins: allowedOrigins.length }, 'allowed pixel origins changed through the sync API');
    }
    return reply.header('cache-control', 'no-store').send(await settings());
  });
}

const page = (reply: FastifyReply, title: string, html: string) => sendPage(reply, 200, title, html);
// Actions relative to the page: served through a merchant's prefix (brand.com/_rt/optout) they stay under it.
const form = (action: string, label: string) => `</p><form method="post" action="${action}"><button>${label}</button></form><p>`;

/**
 * /optout: a browser's objection to tracking on this tracking domain (and its cookie domain). GET shows
 * where the browser stands with a button; POST (or GET with ?confirm) sets the rt_optout cookie and
 * removes the visitor cookie; ?undo removes the objection. Links still redirect for an opted-out
 * browser and count an anonymous click; the pixel's events from it are dropped.
 */
export function registerOptoutRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.register(async (scope) => {
    // The page's own buttons post an empty form: its body carries nothing to read.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_req, _body, done) => done(null, {}));
    registerOptoutPage(scope, ctx);
  });
}

function registerOptoutPage(app: FastifyInstance, ctx: AppContext): void {
  const { config } = ctx;
  const optedOut = (req: FastifyRequest) => req.cookies[OPTOUT_COOKIE] === '1';

  const apply = (req: FastifyRequest, reply: FastifyReply, undo: boolean) => {
    if (undo) {
      setTrackingCookie(req, reply, config, OPTOUT_COOKIE, '', 0);
      return page(reply, 'Tracking allowed again', `This browser is counted again when it follows this site's links.${form('optout', 'Opt out again')}`);
    }
    setTrackingCookie(req, reply, config, OPTOUT_COOKIE, '1', OBJECTION_MAX_AGE_S);
    clearVisitorCookie(req, reply, config);
    return page(
      reply,
      'You are opted out',
      `This browser is no longer tracked: links still take you where they lead, without an identifier, and the site's pixel sends nothing about you. The choice is kept in a cookie of this domain for 400 days; clearing your cookies removes it.${form('optout?undo', 'Allow tracking again')}`,
    );
  };

  app.get<{ Querystring: Record<string, string> }>('/optout', (req, reply) => {
    const undo = 'undo' in req.query;
    // Opting out by a plain link is fine; opting back in takes this domain's own button (a POST, origin checked).
    if ('confirm' in req.query && !undo) return apply(req, reply, false);
    if (undo) return page(reply, 'Allow tracking again?', `This browser is ${optedOut(req) ? '' : 'not '}opted out.${form('optout?undo', 'Allow tracking again')}`);
    return optedOut(req)
      ? page(reply, 'You are opted out', `This browser is not tracked by this site's links and pixel.${form('optout?undo', 'Allow tracking again')}`)
      : page(
          reply,
          'Opt out of tracking',
          `This domain records which link brought a visitor to the site and, on the site, the pages visited, under a random identifier kept in a cookie. Opting out keeps a cookie saying so instead: links still work, nothing identifies you.${form('optout', 'Opt out')}`,
        );
  });

  app.post<{ Querystring: Record<string, string> }>('/optout', (req, reply) => {
    // A page elsewhere must not switch tracking back on for this browser with a form of its own.
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin !== `${req.protocol}://${req.host}`) {
      return sendError(reply, 'forbidden', 'Use the buttons on this domain\'s /optout page.');
    }
    return apply(req, reply, 'undo' in req.query);
  });
}
