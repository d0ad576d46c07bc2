import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DESTINATION_MAX_LENGTH,
  EMAIL_MAX_LENGTH,
  META_COOKIE_MAX,
  extractTrackingParams,
  hashEmail,
  isFbc,
  isFbp,
  isVisitorId,
  newEventId,
  newVisitorId,
  normalizeEmail,
  parsed,
  readObject,
  readString,
  type Parsed,
} from '@revtrail/shared';
import { VISITOR_COOKIE, type AppContext } from '../context';
import { sendError } from '../http-errors';
import { parseReferrer, rateLimitKey, throughMerchantProxy } from '../visitor';
import { clearVisitorCookie, setTrackingCookie, setVisitorCookie } from '../visitor-cookie';
import { CONSENT_COOKIE, OBJECTION_MAX_AGE_S, objectionOf } from '../consent';
import { originOf } from '../store/settings';
import type { EventRecord } from '../store/types';

export const COLLECT_BODY_LIMIT = 4096;
/** How long a refused pixel request waits for its count to be written (Lambda runs nothing after the answer). */
const REFUSAL_WRITE_BUDGET_MS = 300;

interface CollectBody {
  /** `forget`: the site withdrew consent (revtrail('consent', false)); nothing is stored. */
  t: 'pageview' | 'identify' | 'forget';
  url: string;
  ref?: string;
  vid?: string;
  email?: string;
  src?: 'api' | 'form';
  /** 1: the site's visitor gave consent (revtrail('consent', true)). */
  c?: 1;
  /** Meta's _fbc and _fbp cookies as the pixel read them on the page. */
  fbc?: string;
  fbp?: string;
}

const oneOf = (values: readonly string[]) => (v: string) => (values.includes(v) ? null : `must be one of ${values.join(', ')}`);

function parseCollectBody(body: unknown): Parsed<CollectBody> {
  const problems: string[] = [];
  const obj = readObject(body, ['t', 'url', 'ref', 'vid', 'email', 'src', 'c', 'fbc', 'fbp'], problems);
  const t = readString(obj, 't', { required: true, max: 16, check: oneOf(['pageview', 'identify', 'forget']) }, problems) as CollectBody['t'];
  const value: CollectBody = {
    t,
    url: readString(obj, 'url', { required: t !== 'forget', max: DESTINATION_MAX_LENGTH }, problems) ?? '',
  };
  if (obj.c !== undefined && obj.c !== 1) problems.push('c must be 1 when present');
  if (obj.c === 1) value.c = 1;
  const ref = readString(obj, 'ref', { max: DESTINATION_MAX_LENGTH }, problems);
  const vid = readString(obj, 'vid', { max: 64 }, problems);
  const email = readString(obj, 'email', { max: EMAIL_MAX_LENGTH }, problems);
  const src = readString(obj, 'src', { max: 8, check: oneOf(['api', 'form']) }, problems);
  if (ref) value.ref = ref;
  if (vid) value.vid = vid;
  if (email !== undefined && email !== null) value.email = email;
  if (src) value.src = src as CollectBody['src'];
  // A cookie the site set in some other shape is left out, not refused: the pageview is worth keeping without it.
  const fbc = readString(obj, 'fbc', { max: META_COOKIE_MAX }, problems);
  const fbp = readString(obj, 'fbp', { max: META_COOKIE_MAX }, problems);
  if (isFbc(fbc)) value.fbc = fbc;
  if (isFbp(fbp)) value.fbp = fbp;
  return parsed(value, problems);
}

/** POST /api/v1/collect — the pixel's pageviews and identify() calls, from the configured sites only. */
export function registerCollectRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { config } = ctx;

  /**
   * The request's origin when its site may send events: the redirector's own host, the deployment's
   * REVTRAIL_ALLOWED_ORIGINS, or one allowed from the app (store/settings.ts). A refused origin is counted, so
   * the app can show it with the fix; requests without an Origin header (not a browser's pixel) are not.
   */
  const allowedOrigin = async (req: FastifyRequest): Promise<string | null> => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return null;
    if (origin === `${req.protocol}://${req.host}`) return origin;
    ctx.pixelOrigins.refreshIfStale();
    if (await ctx.pixelOrigins.allowsNow(origin)) return origin;
    ctx.refusedOrigins.count(originOf(origin));
    await ctx.refusedOrigins.flush(REFUSAL_WRITE_BUDGET_MS, true);
    return null;
  };
  const refused = (reply: FastifyReply) =>
    sendError(reply, 'forbidden', 'This site is not allowed to send events here: allow its origin in Revtrail (Links, the pixel panel), or add it to REVTRAIL_ALLOWED_ORIGINS.');

  const withCors = (reply: FastifyReply, origin: string) =>
    reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');

  app.options('/api/v1/collect', async (req, reply) => {
    const origin = await allowedOrigin(req);
    if (!origin) return refused(reply);
    return withCors(reply, origin)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '86400')
      .code(204)
      .send();
  });

  app.post(
    '/api/v1/collect',
    {
      bodyLimit: COLLECT_BODY_LIMIT,
      config: {
        rateLimit: {
          max: 120,
          timeWindow: 60_000,
          // The client's IP alone (vetted, see vetForwarding): a new User-Agent must not buy a new bucket.
          // The limiter keeps it in memory only.
          keyGenerator: (req: FastifyRequest) => rateLimitKey(req.ip),
        },
      },
    },
    async (req, reply) => {
      const origin = await allowedOrigin(req);
      if (!origin) return refused(reply);
      withCors(reply, origin);
      let raw: unknown = req.body;
      if (typeof raw === 'string') {
        try {
          raw = JSON.parse(raw);
        } catch {
          return sendError(reply, 'invalid_input', 'The body must be JSON.');
        }
      }
      const event = parseCollectBody(raw);
      if (!event.ok) return sendError(reply, 'invalid_input', `Invalid event: ${event.problems.join('; ')}`);
      const body = event.value;
      const done = () => reply.code(204).header('cache-control', 'private, no-store').send();

      if (body.t === 'forget') {
        clearVisitorCookie(req, reply, config);
        // Remembered on the tracking domain too, so that its links stop naming this browser. Not through the
        // merchant's own site: the pixel's rt_consent is on that host already, and an HttpOnly one of ours
        // there would hide it from the pixel and keep it from being changed back.
        if (config.consent !== 'off' && !throughMerchantProxy(req.raw.headers)) setTrackingCookie(req, reply, config, CONSENT_COOKIE, '0', OBJECTION_MAX_AGE_S);
        return done();
      }
      const objection = objectionOf(req, config);
      const consented = body.c === 1;
      // Answered as if kept: the page has nothing to do about it, and a 4xx would only fill its console.
      if ((objection !== null && !(objection === 'withdrawn' && consented)) || (config.consent === 'opt-in' && !consented)) return done();
      if (objection === 'withdrawn') setTrackingCookie(req, reply, config, CONSENT_COOKIE, '', 0);

      let page: URL;
      try {
        page = new URL(body.url);
        if (page.protocol !== 'http:' && page.protocol !== 'https:') throw new Error('not http');
      } catch {
        return sendError(reply, 'invalid_input', 'url must be the http(s) address of the page.');
      }

      const cookieVid = req.cookies[VISITOR_COOKIE];
      const visitorId = isVisitorId(cookieVid) ? cookieVid : isVisitorId(body.vid) ? body.vid : newVisitorId();
      // Through the merchant's own site the cookie is set again with the whole window each time: that host's
      // Set-Cookie is the one Safari leaves uncapped (docs/same-origin.md), replacing a capped one of before.
      if (visitorId !== cookieVid || throughMerchantProxy(req.raw.headers)) setVisitorCookie(req, reply, config, visitorId);
      const at = ctx.clock.now();
      const records: EventRecord[] = [];
      if (body.t === 'pageview') {
        const tracking = extractTrackingParams(page.searchParams);
        if (!tracking.ok) return sendError(reply, 'invalid_input', `The ${tracking.key} parameter is too long to be a real click id.`);
        // Keep the page's address and its tracking parameters only: other query values often carry personal data.
        const kept = new URL(page.origin + page.pathname);
        for (const [key, value] of Object.entries({ ...tracking.value.clickIds, ...tracking.value.utm })) kept.searchParams.set(key, value);
        records.push({
          kind: 'pageviews',
          item: {
            id: newEventId(at),
            at,
            visitorId,
            url: kept.toString(),
            ...parseReferrer(body.ref),
            clickIds: tracking.value.clickIds,
            utm: tracking.value.utm,
            ipHash: ctx.ipHashOf(req),
            ...(body.fbc ? { fbc: body.fbc } : {}),
            ...(body.fbp ? { fbp: body.fbp } : {}),
          },
        });
      } else {
        const email = body.email === undefined ? null : normalizeEmail(body.email);
        if (email === null) return sendError(reply, 'invalid_input', 'identify() needs an email address.');
        records.push({
          kind: 'identities',
          item: { id: newEventId(at), at, visitorId, emailHash: await hashEmail(email, config.emailHashKey), source: body.src ?? 'api' },
        });
      }
      await ctx.recorder.record(records);
      return done();
    },
  );
}
