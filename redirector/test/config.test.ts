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

describe('REVTRAIL_STRIPE_WEBHOOK_SECRET', () => {
  const secret = (s: string) => `whsec_${s.repeat(32)}`;

  it.each([
    [undefined, []],
    ['', []],
    ['unset', []],
    [secret('a'), [secret('a')]],
    [` ${secret('b')} , ${secret('a')} `, [secret('b'), secret('a')]],
    [`${secret('a')},${secret('a')}`, [secret('a')]],
  ])('reads %j as %j', (value, secrets) => {
    const r = parseConfig({ ...base, REVTRAIL_STRIPE_WEBHOOK_SECRET: value });
    expect(r.ok && r.config).toMatchObject({ stripeWebhookSecrets: secrets, stripeWebhookSecretProblem: null, stripeWebhookSecretSource: 'settings' });
  });

  it.each([
    ['sk_live_0123456789abcdefghijklmnop', /must hold Stripe signing secrets, which start with whsec_.*: it is not/],
    [`${secret('a')},whsec_short`, /1 of the 2 values is not/],
    [[secret('a'), secret('b'), secret('c')].join(','), /holds 3 secrets; at most 2/],
  ])('sets %j aside with a problem that names the setting and never the value, without failing the start', (value, problem) => {
    const r = parseConfig({ ...base, REVTRAIL_STRIPE_WEBHOOK_SECRET: value });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.stripeWebhookSecrets).toEqual([]);
    expect(r.config.stripeWebhookSecretProblem).toMatch(/^REVTRAIL_STRIPE_WEBHOOK_SECRET /);
    expect(r.config.stripeWebhookSecretProblem).toMatch(problem);
    for (const part of value.split(',')) expect(r.config.stripeWebhookSecretProblem).not.toContain(part.slice(6));
  });

  it('reads the stage for the commands it prints', () => {
    const r = parseConfig({ ...base, REVTRAIL_STAGE: 'prod' });
    expect(r.ok && r.config.stage).toBe('prod');
  });
});
