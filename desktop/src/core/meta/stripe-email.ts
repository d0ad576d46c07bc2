import type Stripe from 'stripe';

/**
 * A charge's email as Stripe has it (billing, then receipt, then its customer's), read by id when its Meta event
 * is made, so only while forwarding is on: the Stripe sync keeps emails only as keyed hashes, which Meta cannot
 * match, and the address itself goes no further than the SHA-256 made of it (payload.ts metaEmailHash).
 */
export async function chargeEmail(stripe: Stripe, chargeId: string, retry: <T>(call: () => Promise<T>) => Promise<T>): Promise<string | null> {
  const charge = await retry(() => stripe.charges.retrieve(chargeId));
  const direct = charge.billing_details?.email || charge.receipt_email;
  if (direct) return direct;
  const customerId = typeof charge.customer === 'string' ? charge.customer : (charge.customer?.id ?? null);
  if (!customerId) return null;
  const customer = await retry(() => stripe.customers.retrieve(customerId));
  return 'deleted' in customer && customer.deleted ? null : ((customer as Stripe.Customer).email ?? null);
}
