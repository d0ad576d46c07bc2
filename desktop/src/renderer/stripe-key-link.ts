/**
 * Stripe's "create restricted key" page, with the name and the Read permissions Revtrail asks for already
 * ticked (the dashboard reads `permissions[]`). The list matches the core's permission probes; a test
 * checks it against what the core reports.
 */
export const STRIPE_READ_PERMISSIONS = [
  'rak_charge_read',
  'rak_customer_read',
  'rak_payment_intent_read',
  'rak_subscription_read',
  'rak_invoice_read',
  'rak_dispute_read',
  'rak_event_read',
  'rak_balance_read',
] as const;

export function stripeKeyCreateUrl(name = 'Revtrail (read-only)'): string {
  const params = new URLSearchParams({ name });
  for (const p of STRIPE_READ_PERMISSIONS) params.append('permissions[]', p);
  return `https://dashboard.stripe.com/apikeys/create?${params.toString()}`;
}
