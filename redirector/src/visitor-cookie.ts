import type { FastifyReply, FastifyRequest } from 'fastify';
import { hostInDomain } from '@revtrail/shared';
import type { Config } from './config';
import { VISITOR_COOKIE } from './context';

/**
 * A first-party cookie of the tracking domain: HttpOnly, SameSite=Lax, Secure over https, and Domain =
 * the cookie domain when this request's host is inside it (a browser drops a cookie whose Domain does not
 * cover the host that set it). Max-Age 0 removes it.
 */
export function setTrackingCookie(req: FastifyRequest, reply: FastifyReply, config: Config, name: string, value: string, maxAgeSeconds: number): void {
  const host = req.hostname.replace(/:\d+$/, '');
  reply.setCookie(name, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: req.protocol === 'https',
    maxAge: maxAgeSeconds,
    ...(config.cookieDomain && hostInDomain(host, config.cookieDomain) ? { domain: config.cookieDomain } : {}),
  });
}

/** The visitor cookie, Max-Age = the attribution window. */
export function setVisitorCookie(req: FastifyRequest, reply: FastifyReply, config: Config, visitorId: string): void {
  setTrackingCookie(req, reply, config, VISITOR_COOKIE, visitorId, config.attributionWindowDays * 86_400);
}

export function clearVisitorCookie(req: FastifyRequest, reply: FastifyReply, config: Config): void {
  setTrackingCookie(req, reply, config, VISITOR_COOKIE, '', 0);
}
