import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config';

const base = {
  REVTRAIL_TABLE: 'revtrail',
  REVTRAIL_SYNC_TOKEN: 'a'.repeat(40),
  REVTRAIL_EMAIL_HASH_KEY: 'b'.repeat(40),
  REVTRAIL_IP_SALT_SEED: 'c'.repeat(40),
};

describe('parseConfig', () => {
  it('fills documented defaults', () => {
    const r = parseConfig(base);
    expect(r.ok && r.config).toMatchObject({
      attributionWindowDays: 30,
      retentionDays: 90,
      cookieDomain: null,
      allowedOrigins: [],
      fallbackUrl: null,
      duplicateWindowMs: 1_800_000,
      originSecret: null,
      httpsOnly: false,
    });
  });

  it('takes an origin secret of 32+ characters, different from the other secrets', () => {
    const r = parseConfig({ ...base, REVTRAIL_ORIGIN_SECRET: 'd'.repeat(40) });
    expect(r.ok && r.config.originSecret).toBe('d'.repeat(40));
  });

  it('normalises the cookie domain and the origins', () => {
    const r = parseConfig({ ...base, REVTRAIL_COOKIE_DOMAIN: '.Brand.com', REVTRAIL_ALLOWED_ORIGINS: 'https://brand.com, https://www.brand.com/', REVTRAIL_PUBLIC_URL: 'https://go.brand.com' });
    expect(r.ok && r.config.cookieDomain).toBe('brand.com');
    expect(r.ok && r.config.allowedOrigins).toEqual(['https://brand.com', 'https://www.brand.com']);
  });

  it.each([
    [{ REVTRAIL_SYNC_TOKEN: undefined }, /REVTRAIL_SYNC_TOKEN is required/],
    [{ REVTRAIL_SYNC_TOKEN: 'short' }, /at least 32 characters/],
    [{ REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '400' }, /REVTRAIL_ATTRIBUTION_WINDOW_DAYS must be a whole number from 1 to 395, got "400"/],
    [{ REVTRAIL_RETENTION_DAYS: 'ninety' }, /REVTRAIL_RETENTION_DAYS must be a whole number/],
    [{ REVTRAIL_ALLOWED_ORIGINS: 'brand.com' }, /"brand.com" is not an origin/],
    [{ REVTRAIL_ALLOWED_ORIGINS: 'https://brand.com/path' }, /is not an origin/],
    [{ REVTRAIL_FALLBACK_URL: 'javascript:alert(1)' }, /REVTRAIL_FALLBACK_URL must be an http\(s\) URL/],
    [{ REVTRAIL_COOKIE_DOMAIN: 'not a domain' }, /REVTRAIL_COOKIE_DOMAIN must be a domain/],
    [{ REVTRAIL_COOKIE_DOMAIN: 'brand.com', REVTRAIL_PUBLIC_URL: 'https://go.other.io' }, /must contain the tracking host/],
    [{ REVTRAIL_EMAIL_HASH_KEY: 'a'.repeat(40) }, /three different secrets/],
    [{ REVTRAIL_ORIGIN_SECRET: 'short' }, /REVTRAIL_ORIGIN_SECRET must be at least 32 characters/],
    [{ REVTRAIL_ORIGIN_SECRET: 'c'.repeat(40) }, /REVTRAIL_ORIGIN_SECRET must differ from the other secrets/],
  ])('rejects %j with a clear message', (over, message) => {
    const r = parseConfig({ ...base, ...over });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
  });

  it('lists every problem at once', () => {
    const r = parseConfig({ REVTRAIL_TABLE: 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.length).toBeGreaterThanOrEqual(4);
  });
});
