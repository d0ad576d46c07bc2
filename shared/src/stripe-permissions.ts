/**
 * The Read permissions Revtrail asks of a restricted Stripe key (REFERENCE.md): Charges (and Refunds),
 * Customers, PaymentIntents, Subscriptions, Invoices, Disputes, Events, Balance. The onboarding link ticks
 * them in Stripe's dashboard; the fake Stripe grants them to its full-access test key.
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
