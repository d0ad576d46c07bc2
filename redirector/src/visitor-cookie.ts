import type { FastifyReply, FastifyRequest } from 'fastify';
import { hostInDomain } from '@revtrail/shared';
import type { Config } from './config';
import { VISITOR_COOKIE } from './context';

/**
 * The first-party visitor cookie: HttpOnly, SameSite=Lax, Secure over https, Max-Age = the attribution
 * window, and Domain = the cookie domain when this request's host is inside it (a browser drops a cookie
 * whose Domain does not cover the host that set it).
 */
export function setVisitorCookie(req: FastifyRequest, reply: FastifyReply, config: Config, visitorId: string): void {
  const host = req.hostname.replace(/:\d+$/, '');
  reply.setCookie(VISITOR_COOKIE, visitorId, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: req.protocol === 'https',
    maxAge: config.attributionWindowDays * 86_400,
    ...(config.cookieDomain && hostInDomain(host, config.cookieDomain) ? { domain: config.cookieDomain } : {}),
  });
}
