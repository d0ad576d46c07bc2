import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context';
import { forwardingOf, rateLimitKey } from '../visitor';
import { setTrackingCookie } from '../visitor-cookie';

/** The path the app requests through the merchant's site to check same-origin mode (docs/same-origin.md). */
export const PROXY_CHECK_PATH = '/proxy-check';
/** A nonce the checker sends as a query parameter and, under the same name, as a cookie. */
export const PROBE = 'rt_probe';
/** The response header naming the proof's verdict, for a check with curl. */
export const PROXY_CHECK_HEADER = 'x-revtrail-proxy-check';
const PROBE_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** What GET /proxy-check answers: what reached the redirector, never a secret. */
export interface ProxyCheck {
  revtrail: 'proxy-check';
  /** valid | invalid | missing | not-configured (this redirector has no REVTRAIL_PROXY_SECRET). */
  proof: ReturnType<typeof forwardingOf>['proxy'];
  /** With a valid proof: whether the proxy passed the visitor's address. */
  clientAddress: ReturnType<typeof forwardingOf>['clientAddress'];
  /** The host and scheme the redirector takes the request to be for: the merchant's site when the proof is valid. */
  host: string;
  protocol: 'http' | 'https';
  /** The rt_probe query parameter and cookie as they arrived (null: did not): the proxy passes both. */
  query: string | null;
  cookie: string | null;
  /** The visitor cookie's lifetime, the attribution window. */
  cookieMaxAgeSeconds: number;
}

/**
 * GET /proxy-check: whether a request came through the merchant's proxy with a valid proof, and what the
 * proxy passed along (host, scheme, the visitor's address as present or not, a query parameter and a cookie).
 * It never reveals the secret or the address itself. The answer always removes the probe cookie with
 * Set-Cookie, so the checker also sees whether the proxy hands the redirector's cookies back to the browser.
 */
export function registerSameOriginRoutes(app: FastifyInstance, ctx: AppContext): void {
  const probe = (value: unknown) => (typeof value === 'string' && PROBE_RE.test(value) ? value : null);
  app.get<{ Querystring: Record<string, string> }>(
    PROXY_CHECK_PATH,
    { config: { rateLimit: { max: 60, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => rateLimitKey(req.ip) } } },
    async (req, reply) => {
      const forwarding = forwardingOf(req.raw.headers);
      const body: ProxyCheck = {
        revtrail: 'proxy-check',
        proof: forwarding.proxy,
        clientAddress: forwarding.clientAddress,
        host: req.host,
        protocol: req.protocol === 'https' ? 'https' : 'http',
        query: probe(req.query[PROBE]),
        cookie: probe(req.cookies[PROBE]),
        cookieMaxAgeSeconds: ctx.config.attributionWindowDays * 86_400,
      };
      setTrackingCookie(req, reply, ctx.config, PROBE, '', 0);
      return reply.header('cache-control', 'no-store').header(PROXY_CHECK_HEADER, forwarding.proxy).send(body);
    },
  );
}
