// Test support: the official `stripe` client pointed at a fake, and the error a call fails with. Nothing
// shipped imports this.
import Stripe from 'stripe';
import { expect } from 'vitest';
import type { FakeStripe } from './server';

export function client(fake: FakeStripe, key: string, maxNetworkRetries = 0): Stripe {
  return new Stripe(key, {
    host: '127.0.0.1',
    port: fake.port,
    protocol: 'http',
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries,
  });
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Stripe.errors.StripeError);
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the request to fail');
}
