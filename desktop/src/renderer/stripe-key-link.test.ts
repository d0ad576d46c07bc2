import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../core/stripe/client';
import { checkPermissions } from '../core/stripe/permissions';
import { startFakeStripe, type FakeStripe } from '../fake-stripe/server';
import { STRIPE_READ_PERMISSIONS, stripeKeyCreateUrl } from './stripe-key-link';

describe('the "create the key in Stripe" link', () => {
  let stripe: FakeStripe;
  beforeAll(async () => {
    stripe = await startFakeStripe();
  });
  afterAll(() => stripe.close());

  it('ticks exactly the Read permissions the core checks', async () => {
    const checks = await checkPermissions(createStripeClient(stripe.keys.restricted, { apiBase: stripe.url }));
    expect(new Set(STRIPE_READ_PERMISSIONS)).toEqual(new Set(Object.values(checks).map((c) => c.permission)));
  });

  it("is Stripe's create-key page with the name and permissions[] parameters", () => {
    const url = new URL(stripeKeyCreateUrl());
    expect(url.origin + url.pathname).toBe('https://dashboard.stripe.com/apikeys/create');
    expect(url.searchParams.get('name')).toBe('Revtrail (read-only)');
    expect(url.searchParams.getAll('permissions[]')).toEqual([...STRIPE_READ_PERMISSIONS]);
    expect(STRIPE_READ_PERMISSIONS.every((p) => p.endsWith('_read'))).toBe(true);
  });
});
