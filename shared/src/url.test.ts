import { describe, expect, it } from 'vitest';
import { buildRedirectUrl, hostInDomain } from './url';

describe('hostInDomain', () => {
  it.each([
    ['brand.com', 'brand.com', true],
    ['www.brand.com', 'brand.com', true],
    ['WWW.Brand.com.', '.brand.com', true],
    ['evilbrand.com', 'brand.com', false],
    ['brand.com.evil.io', 'brand.com', false],
  ])('%s in %s', (host, domain, expected) => {
    expect(hostInDomain(host, domain)).toBe(expected);
  });
});

describe('buildRedirectUrl', () => {
  const link = { destination: 'https://brand.com/pricing?plan=pro&utm_source=site', utm: { utm_source: 'newsletter', utm_medium: 'email' } };

  it('keeps the destination, adds missing link UTMs, forwards visitor params', () => {
    const url = new URL(buildRedirectUrl(link, new URLSearchParams('gclid=abc&plan=free&ref=tw')));
    expect(url.origin + url.pathname).toBe('https://brand.com/pricing');
    expect(url.searchParams.get('plan')).toBe('pro');
    expect(url.searchParams.get('utm_source')).toBe('site');
    expect(url.searchParams.get('utm_medium')).toBe('email');
    expect(url.searchParams.get('gclid')).toBe('abc');
    expect(url.searchParams.get('ref')).toBe('tw');
  });

  it('lets visitor UTMs beat the link defaults but never the destination', () => {
    const url = new URL(buildRedirectUrl(link, new URLSearchParams('utm_medium=cpc&utm_source=fb')));
    expect(url.searchParams.get('utm_medium')).toBe('cpc');
    expect(url.searchParams.get('utm_source')).toBe('site');
  });

  it('appends the visitor id only when asked, and drops a forged one', () => {
    const forged = new URLSearchParams('rt_vid=forged');
    expect(new URL(buildRedirectUrl(link, forged)).searchParams.has('rt_vid')).toBe(false);
    expect(new URL(buildRedirectUrl(link, forged, 'AAAAAAAAAAAAAAAAAAAAAA')).searchParams.getAll('rt_vid')).toEqual(['AAAAAAAAAAAAAAAAAAAAAA']);
  });

  it('cannot be steered elsewhere by parameters', () => {
    const url = new URL(buildRedirectUrl(link, new URLSearchParams('url=https://evil.com&next=//evil.com&@evil.com=1')));
    expect(url.host).toBe('brand.com');
  });
});
