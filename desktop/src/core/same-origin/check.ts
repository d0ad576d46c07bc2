import { randomBytes } from 'node:crypto';
import { noAnswerReason } from '../redirector/client';
import type { CheckItem, CheckItemName, SameOriginCheck } from './setting';

const READ_LIMIT = 64 * 1024;

interface Fetched {
  res: Response;
  text: string;
}

async function get(fetcher: typeof fetch, url: string, headers: Record<string, string> = {}): Promise<Fetched | { error: string }> {
  try {
    const res = await fetcher(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
    return { res, text: (await res.text()).slice(0, READ_LIMIT) };
  } catch (e) {
    return { error: noAnswerReason(e) };
  }
}

const parse = (text: string): Record<string, unknown> | null => {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

/**
 * Checks same-origin mode as a visitor's browser meets it: requests `<base>proxy-check` through the merchant's
 * site with a fresh nonce as a query parameter and as a cookie, and reads what the redirector says arrived;
 * then the pixel through the site, compared with the redirector's own when `redirectorUrl` is given.
 */
export async function checkSameOrigin(opts: { base: string; redirectorUrl: string | null; fetch: typeof fetch; now: number }): Promise<SameOriginCheck> {
  const { base } = opts;
  const site = new URL(base);
  const shown = `${site.host}${site.pathname}`;
  const nonce = randomBytes(12).toString('base64url');
  const items: CheckItem[] = [];
  const item = (name: CheckItemName, ok: boolean, message: string) => items.push({ name, ok, message });
  const done = () => ({ at: opts.now, base, ok: items.length > 0 && items.every((i) => i.ok), items });

  const answer = await get(opts.fetch, `${base}proxy-check?rt_probe=${nonce}`, { cookie: `rt_probe=${nonce}` });
  if ('error' in answer) {
    item('reached', false, `Nothing answered at ${shown} (${answer.error}): check the site's address.`);
    return done();
  }
  const body = answer.res.status === 200 ? parse(answer.text) : null;
  if (body?.revtrail !== 'proxy-check') {
    item('reached', false, `${shown} answered with a page of its own, not Revtrail's: the site does not forward ${site.pathname} to the redirector yet (add the recipe for your server), or it is an older redirector.`);
    return done();
  }
  item('reached', true, `${shown} reaches Revtrail.`);

  const proof = body.proof;
  if (proof === 'valid') item('proof', true, 'The site proves itself with the proxy secret.');
  else if (proof === 'not-configured') item('proof', false, 'The redirector has no proxy secret yet: set one on it (same-origin.md, "Set it up"), then the same value in the site\'s proxy rule.');
  else if (proof === 'invalid') item('proof', false, 'The proxy secret the site sends is not the redirector\'s: set the same value on both.');
  else item('proof', false, 'The site forwards the prefix but sends no proxy secret: add the proof header of the recipe.');

  if (proof === 'valid') {
    const host = typeof body.host === 'string' ? body.host : '';
    item('host', host === site.host, host === site.host ? `Cookies are set for ${site.host}.` : `The redirector took the request for ${host || 'no host'}, not ${site.host}: the proxy rule must pass the visitor's host.`);
    const scheme = site.protocol.slice(0, -1);
    item('scheme', body.protocol === scheme, body.protocol === scheme ? `The visitor's scheme arrives (${scheme}).` : `The redirector took the request for ${String(body.protocol)}, not ${scheme}: the proxy rule must pass the scheme.`);
    const address = body.clientAddress;
    item(
      'address',
      address === 'forwarded',
      address === 'forwarded'
        ? "The visitor's address arrives."
        : address === 'invalid'
          ? "The proxy rule passes something that is not an address as the visitor's address."
          : "The proxy rule does not pass the visitor's address: every visitor would share the site's, and one rate limit.",
    );
  }
  item('query', body.query === nonce, body.query === nonce ? 'The query string arrives.' : 'The query string does not reach Revtrail: the proxy rule must forward it.');
  item('cookie', body.cookie === nonce, body.cookie === nonce ? 'The visitor\'s cookies arrive.' : 'The visitor\'s cookies do not reach Revtrail: the proxy rule must forward them.');
  const cookieBack = answer.res.headers.getSetCookie().some((c) => c.startsWith('rt_probe='));
  item('set-cookie', cookieBack, cookieBack ? 'Revtrail\'s cookies come back to the browser.' : 'Revtrail\'s cookies do not come back through the site: the proxy rule must pass them on.');

  const pixel = await get(opts.fetch, `${base}p.js`, { 'accept-encoding': 'identity' });
  const served = !('error' in pixel) && pixel.res.status === 200 && /javascript/.test(pixel.res.headers.get('content-type') ?? '');
  if (!served) {
    item('pixel', false, `The pixel does not load at ${shown}p.js.`);
  } else if (opts.redirectorUrl) {
    const own = await get(opts.fetch, `${opts.redirectorUrl}/p.js`, { 'accept-encoding': 'identity' });
    const same = !('error' in own) && own.res.headers.get('etag') !== null && own.res.headers.get('etag') === pixel.res.headers.get('etag');
    item('pixel', same, same ? 'The pixel loads through the site, from this workspace\'s redirector.' : 'The pixel through the site is not the one this workspace\'s redirector serves: the proxy rule forwards to another redirector (or a cache keeps an old one).');
  } else {
    item('pixel', true, 'The pixel loads through the site.');
  }
  return done();
}
