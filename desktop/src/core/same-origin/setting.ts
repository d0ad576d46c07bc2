// What same-origin mode is, without the network: the renderer reads these too.

/**
 * Same-origin mode (redirector/docs/same-origin.md): the merchant's site forwards a prefix to the redirector.
 * `base` is the site's address with that prefix, `https://brand.com/_rt/`: links are `<base><slug>`, the
 * pixel `<base>p.js`.
 */
export interface SameOriginSetting {
  base: string;
  /** The last check of `base`, kept so the Links screen can say each link's mode without asking again. */
  lastCheck: SameOriginCheck | null;
}

export type CheckItemName = 'reached' | 'proof' | 'host' | 'scheme' | 'address' | 'query' | 'cookie' | 'set-cookie' | 'pixel';

export interface CheckItem {
  name: CheckItemName;
  ok: boolean;
  message: string;
}

export interface SameOriginCheck {
  at: number;
  base: string;
  /** Every item passed: links and the pixel through the site set the cookie on its own host. */
  ok: boolean;
  items: CheckItem[];
}

export const DEFAULT_PREFIX = '/_rt/';
// Path segments, none of them . or .. (which an address resolves away).
const PREFIX_RE = /^\/(?:(?!\.\.?\/)[A-Za-z0-9._~-]+\/)+$/;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** The site's address and prefix as the user gave them, as a base, or what is wrong with them. */
export function readBase(site: unknown, prefix: unknown): { ok: true; base: string } | { ok: false; message: string } {
  const example = 'your site\'s address, e.g. https://brand.com';
  if (typeof site !== 'string' || !URL.canParse(site.trim())) return { ok: false, message: `Give ${example}.` };
  const url = new URL(site.trim());
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    return { ok: false, message: `The site's address must start with https:// (${example}): Safari keeps a Secure cookie only over https.` };
  }
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    return { ok: false, message: `Give the site's address alone, without a path, query or user name (${example}); the prefix goes in its own field.` };
  }
  const raw = typeof prefix === 'string' && prefix.trim() !== '' ? prefix.trim() : DEFAULT_PREFIX;
  const clean = `/${raw.replace(/^\/+|\/+$/g, '')}/`;
  if (!PREFIX_RE.test(clean)) {
    return { ok: false, message: 'The prefix is one or more path segments of letters, digits, dots, dashes, underscores or tildes, like /_rt/.' };
  }
  return { ok: true, base: `${url.origin}${clean}` };
}
