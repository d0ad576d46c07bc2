import { describe, expect, it } from 'vitest';
import type { SameOriginCheck } from '../core/same-origin/setting';
import { linkMode, onSite, sameOriginPixel } from './same-origin-mode';

const base = 'https://www.brand.com/_rt/';
const check = (ok: boolean, at = base): SameOriginCheck => ({ at: 1, base: at, ok, items: [] });

describe('same-origin link mode', () => {
  it('is same-origin for a destination on the site, its apex or a subdomain; the tracking domain elsewhere', () => {
    expect(['https://www.brand.com/pricing', 'https://brand.com/', 'https://shop.brand.com/x', 'http://WWW.Brand.com'].map((d) => onSite(d, base))).toEqual([true, true, true, true]);
    expect(['https://brand.co.uk/', 'https://notbrand.com/', 'https://brand.com.evil.example/', 'not a url'].map((d) => onSite(d, base))).toEqual([false, false, false, false]);
  });

  it('says whether the last check of this very setting passed', () => {
    expect(linkMode({ base, lastCheck: check(true) }, 'spring', 'https://brand.com/p')).toEqual({ mode: 'same-origin', url: 'https://www.brand.com/_rt/spring', checked: 'ok' });
    expect(linkMode({ base, lastCheck: check(false) }, 'spring', 'https://brand.com/p')).toMatchObject({ checked: 'failed' });
    expect(linkMode({ base, lastCheck: check(true, 'https://www.brand.com/go/') }, 'spring', 'https://brand.com/p')).toMatchObject({ checked: 'never' });
    expect(linkMode({ base, lastCheck: null }, 'spring', 'https://brand.com/p')).toMatchObject({ checked: 'never' });
  });

  it('falls back to the tracking domain, saying why', () => {
    expect(linkMode(null, 'spring', 'https://brand.com/p')).toEqual({ mode: 'tracking-domain', why: 'not-set-up' });
    expect(linkMode({ base, lastCheck: null }, 'spring', 'https://partner.example/')).toEqual({ mode: 'tracking-domain', why: 'other-site' });
    expect(linkMode({ base, lastCheck: null }, 'spring', null)).toEqual({ mode: 'tracking-domain', why: 'no-destination' });
  });

  it('the pixel snippet through the site', () => {
    expect(sameOriginPixel(base)).toBe('<script async src="https://www.brand.com/_rt/p.js" data-auto-identify></script>');
  });
});
