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
  const host = hostWithoutPort(req.hostname);
  reply.setCookie(name, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: req.protocol === 'https',
    maxAge: maxAgeSeconds,
    ...(config.cookieDomain && hostInDomain(host, config.cookieDomain) ? { domain: config.cookieDomain } : {}),
  });
}

const hostWithoutPort = (hostname: string) => hostname.replace(/:\d+$/, '');

/**
 * A tracking cookie's Set-Cookie value, as setTrackingCookie has @fastify/cookie write it (the cookie package's
 * attribute order), for the redirect's one cookie: written as the header it is, without the plugin's per-reply
 * map and serializer (and without Fastify on the Lambda's direct path). A visitor id is base64url, which the
 * cookie's encoding leaves as is. `host`: the request's host without its port.
 */
export function trackingCookieHeader(host: string, secure: boolean, config: Config, name: string, value: string, maxAgeSeconds: number): string {
  const domain = config.cookieDomain && hostInDomain(host, config.cookieDomain) ? `; Domain=${config.cookieDomain}` : '';
  return `${name}=${value}; Max-Age=${maxAgeSeconds}${domain}; Path=/; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`;
}

/** The visitor cookie's Set-Cookie value (trackingCookieHeader), Max-Age = the attribution window. */
export function visitorCookieHeader(host: string, secure: boolean, config: Config, visitorId: string): string {
  return trackingCookieHeader(host, secure, config, VISITOR_COOKIE, visitorId, config.attributionWindowDays * 86_400);
}

/** The visitor cookie, Max-Age = the attribution window. */
export function setVisitorCookie(req: FastifyRequest, reply: FastifyReply, config: Config, visitorId: string): void {
  setTrackingCookie(req, reply, config, VISITOR_COOKIE, visitorId, config.attributionWindowDays * 86_400);
}

export function clearVisitorCookie(req: FastifyRequest, reply: FastifyReply, config: Config): void {
  setTrackingCookie(req, reply, config, VISITOR_COOKIE, '', 0);
}
