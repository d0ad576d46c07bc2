import type { SameOriginSetting } from '../core/same-origin/setting';

/**
 * Which mode a link is shared in. Same-origin (redirector/docs/same-origin.md) for a link whose destination is
 * on the merchant's site (its host, or a subdomain of the site without its www.), where the cookie set through
 * the site's prefix reaches; the tracking domain otherwise, or where same-origin mode is not set up.
 */
export type LinkMode =
  | { mode: 'same-origin'; url: string; checked: 'ok' | 'failed' | 'never' }
  | { mode: 'tracking-domain'; why: 'not-set-up' | 'other-site' | 'no-destination' };

const apex = (host: string) => host.toLowerCase().replace(/^www\./, '');

export function onSite(destination: string, base: string): boolean {
  if (!URL.canParse(destination)) return false;
  const dest = apex(new URL(destination).hostname);
  const site = apex(new URL(base).hostname);
  return dest === site || dest.endsWith(`.${site}`);
}

export function linkMode(setting: SameOriginSetting | null | undefined, slug: string, destination: string | null): LinkMode {
  if (!setting) return { mode: 'tracking-domain', why: 'not-set-up' };
  if (!destination) return { mode: 'tracking-domain', why: 'no-destination' };
  if (!onSite(destination, setting.base)) return { mode: 'tracking-domain', why: 'other-site' };
  const checked = setting.lastCheck?.base !== setting.base ? 'never' : setting.lastCheck.ok ? 'ok' : 'failed';
  return { mode: 'same-origin', url: `${setting.base}${slug}`, checked };
}

export const sameOriginPixel = (base: string): string => `<script async src="${base}p.js" data-auto-identify></script>`;
