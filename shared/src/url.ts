import { UTM_KEYS, type Utm } from './tracking-params';

export const DESTINATION_MAX_LENGTH = 2048;
/** The query parameter that carries the visitor id to a landing page outside the cookie domain. */
export const VISITOR_PARAM = 'rt_vid';

/** True when `host` is the cookie domain or one of its subdomains (so the first-party cookie reaches it). */
export function hostInDomain(host: string, domain: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const d = domain.toLowerCase().replace(/^\./, '').replace(/\.$/, '');
  return h === d || h.endsWith(`.${d}`);
}

export interface RedirectTarget {
  destination: string;
  utm: Utm;
}

/**
 * The URL a tracking link redirects to. The stored destination decides scheme, host and path; nothing in
 * the request can change them. Query precedence: the destination's own parameters, then the visitor's
 * (ad platforms append click ids and UTMs), then the link's UTM defaults. `visitorId` is appended as
 * rt_vid when given (the caller decides: only for destinations outside the cookie domain).
 */
export function buildRedirectUrl(link: RedirectTarget, visitorQuery: URLSearchParams, visitorId?: string): string {
  const url = new URL(link.destination);
  const present = new Set(url.searchParams.keys());
  for (const [key, value] of visitorQuery) {
    if (key === VISITOR_PARAM || present.has(key)) continue;
    url.searchParams.append(key, value);
  }
  for (const key of UTM_KEYS) {
    const value = link.utm[key];
    if (value && !url.searchParams.has(key)) url.searchParams.set(key, value);
  }
  if (visitorId) url.searchParams.set(VISITOR_PARAM, visitorId);
  return url.toString();
}
