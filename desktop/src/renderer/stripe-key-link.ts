import { STRIPE_READ_PERMISSIONS } from '@revtrail/shared/stripe-permissions';

export { STRIPE_READ_PERMISSIONS };

/**
 * Stripe's "create restricted key" page, with the name and the Read permissions Revtrail asks for already
 * ticked (the dashboard reads `permissions[]`). The list matches the core's permission probes; a test
 * checks it against what the core reports.
 */
export function stripeKeyCreateUrl(name = 'Revtrail (read-only)'): string {
  const params = new URLSearchParams({ name });
  for (const p of STRIPE_READ_PERMISSIONS) params.append('permissions[]', p);
  return `https://dashboard.stripe.com/apikeys/create?${params.toString()}`;
}
