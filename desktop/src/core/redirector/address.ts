import { stepFor, type Surface } from '../surface';

/** A redirector's base address as the user typed it, checked before anything is sent or shown. */
export type RedirectorAddress = { ok: true; url: string } | { ok: false; message: string };

const EXAMPLE = 'e.g. https://go.brand.com';

/**
 * The base address of a redirector: http(s), a host, and nothing secret. A sync token belongs on standard
 * input (or the secret store), never in the address: an address is shown, logged and stored in plaintext.
 * So userinfo, a query and a fragment are refused, and the refusal never repeats them. A redirector's base
 * address needs none of them.
 */
export function checkRedirectorAddress(raw: unknown, surface: Surface = 'cli'): RedirectorAddress {
  const tokenGoes = stepFor(surface, { app: 'the token goes in the Sync token field', cli: 'put the token on stdin' });
  if (typeof raw !== 'string' || !URL.canParse(raw.trim())) return { ok: false, message: `The redirector URL must be an http(s) address, ${EXAMPLE}.` };
  const url = new URL(raw.trim());
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: `The redirector URL must be an http(s) address, ${EXAMPLE}.` };
  if (url.username || url.password) {
    return { ok: false, message: `The redirector URL carries a user name or password (before the @): ${tokenGoes}, not in the address (${EXAMPLE}).` };
  }
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    return { ok: false, message: `The redirector URL has a query or fragment (after ? or #): a redirector's address needs none, and ${tokenGoes}, not in the address (${EXAMPLE}).` };
  }
  return { ok: true, url: url.toString().replace(/\/+$/, '') };
}

/** An address fit to show: whatever sits before the host's @ is dropped, as are a query and a fragment. */
export function shownAddress(raw: string): string {
  if (!URL.canParse(raw)) return '(an address that is not a URL)';
  const url = new URL(raw);
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, '');
}
