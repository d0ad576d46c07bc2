/**
 * Restricted-key permissions as Stripe names them in its 403 messages ("Having the 'rak_charge_read'
 * permission would allow this request to continue.") and in the dashboard's create-key links
 * (`permissions[]=rak_charge_read`).
 *
 * Sources weighed: Stripe's 403 messages quoted in public issues and code (rak_subscription_read,
 * rak_dispute_read, rak_charge_read); create-key links in public integrations (rak_customer_read,
 * rak_invoice_read, rak_event_read, rak_payment_intent_read, rak_balance_read,
 * rak_balance_transaction_source_read, rak_refund_read); Stripe's permissions page, which says
 * balance_transaction_source_read "also implies" balance_read.
 *
 * Refunds: REFERENCE.md says the Charges permission covers them, and the dashboard has shown Charges and
 * Refunds as one row; other integrations ask for a separate rak_refund_read. The fake accepts either
 * and names rak_charge_read when both are missing.
 *
 * Webhook endpoints: rak_webhook_write as public integrations' create-key links name it; rak_webhook_read
 * follows Stripe's _read/_write pattern (not seen in a public source).
 */
import { STRIPE_READ_PERMISSIONS } from '@revtrail/shared/stripe-permissions';

export type Resource =
  | 'charges'
  | 'refunds'
  | 'disputes'
  | 'customers'
  | 'subscriptions'
  | 'invoices'
  | 'invoice_payments'
  | 'balance_transactions'
  | 'payment_intents'
  | 'events'
  | 'webhook_endpoints';

/** The permission a denial names, for reading and for writing each resource. */
const NAMED: Record<Resource, { read: string; write: string }> = {
  charges: { read: 'rak_charge_read', write: 'rak_charge_write' },
  refunds: { read: 'rak_charge_read', write: 'rak_refund_write' },
  disputes: { read: 'rak_dispute_read', write: 'rak_dispute_write' },
  customers: { read: 'rak_customer_read', write: 'rak_customer_write' },
  subscriptions: { read: 'rak_subscription_read', write: 'rak_subscription_write' },
  invoices: { read: 'rak_invoice_read', write: 'rak_invoice_write' },
  invoice_payments: { read: 'rak_invoice_read', write: 'rak_invoice_write' },
  balance_transactions: { read: 'rak_balance_read', write: 'rak_balance_write' },
  payment_intents: { read: 'rak_payment_intent_read', write: 'rak_payment_intent_write' },
  events: { read: 'rak_event_read', write: 'rak_event_write' },
  // As public integrations' create-key links name it (permissions[]=rak_webhook_write); the desktop's
  // read-only key never has it, and never needs it: the endpoint is added in Stripe's dashboard.
  webhook_endpoints: { read: 'rak_webhook_read', write: 'rak_webhook_write' },
};

/** Other permissions that also allow reading a resource. */
const ALSO_READ: Partial<Record<Resource, readonly string[]>> = {
  refunds: ['rak_refund_read'],
  balance_transactions: ['rak_balance_transaction_source_read'],
};

/** Every read permission the product asks for (REFERENCE.md), as one list for full-access test keys. */
export const READ_PERMISSIONS: readonly string[] = STRIPE_READ_PERMISSIONS;

export function requiredPermission(resource: Resource, access: 'read' | 'write'): string {
  return NAMED[resource][access];
}

/** Whether a set of granted permissions allows the access; a write grant includes the read. */
export function allows(granted: ReadonlySet<string>, resource: Resource, access: 'read' | 'write'): boolean {
  const { read, write } = NAMED[resource];
  if (granted.has(write)) return true;
  if (access === 'write') return false;
  if (granted.has(read)) return true;
  return (ALSO_READ[resource] ?? []).some((p) => granted.has(p) || granted.has(p.replace(/_read$/, '_write')));
}
