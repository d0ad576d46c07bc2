import Stripe from 'stripe';
import { stopsEverything } from './failures';

/** One row of the checklist the user ticks in Stripe's "Create restricted key" page. */
export interface PermissionCheck {
  /** The dashboard's name for the row. */
  label: string;
  /** The rak_ permission Stripe names (from its 403 when missing). */
  permission: string;
  ok: boolean;
}

export type Permission = 'charges' | 'refunds' | 'customers' | 'payment_intents' | 'subscriptions' | 'invoices' | 'disputes' | 'events' | 'balance';

const PROBES: { key: Permission; label: string; permission: string; probe: (s: Stripe) => Promise<unknown> }[] = [
  { key: 'charges', label: 'Charges', permission: 'rak_charge_read', probe: (s) => s.charges.list({ limit: 1 }) },
  { key: 'refunds', label: 'Refunds', permission: 'rak_charge_read', probe: (s) => s.refunds.list({ limit: 1 }) },
  { key: 'customers', label: 'Customers', permission: 'rak_customer_read', probe: (s) => s.customers.list({ limit: 1 }) },
  { key: 'payment_intents', label: 'PaymentIntents', permission: 'rak_payment_intent_read', probe: (s) => s.paymentIntents.list({ limit: 1 }) },
  { key: 'subscriptions', label: 'Subscriptions', permission: 'rak_subscription_read', probe: (s) => s.subscriptions.list({ limit: 1, status: 'all' }) },
  { key: 'invoices', label: 'Invoices', permission: 'rak_invoice_read', probe: (s) => s.invoices.list({ limit: 1 }) },
  { key: 'disputes', label: 'Disputes', permission: 'rak_dispute_read', probe: (s) => s.disputes.list({ limit: 1 }) },
  { key: 'events', label: 'Events', permission: 'rak_event_read', probe: (s) => s.events.list({ limit: 1 }) },
  // Needed to expand a charge's balance_transaction (fee, net, settlement currency).
  { key: 'balance', label: 'Balance', permission: 'rak_balance_read', probe: (s) => s.balanceTransactions.list({ limit: 1 }) },
];

const NAMED_PERMISSION = /'(rak_[a-z_]+)'/;

/** The rak_ permission a 403 names ("Having the 'rak_charge_read' permission would allow…"), if any. */
export function missingPermissionOf(error: unknown): string | null {
  if (!(error instanceof Stripe.errors.StripePermissionError)) return null;
  return NAMED_PERMISSION.exec(error.message)?.[1] ?? null;
}

/**
 * Probes each endpoint the sync reads with limit=1, one after the other. A 401 (invalid or revoked key)
 * throws at the first request, so a dead key costs one request, not nine. Other failures (429, 5xx, a
 * timeout, a 404) throw too: the caller retries or reports them; only a 403 means "missing". With
 * `unanswered`, those other failures are collected there instead (the check then says ok: false), so a
 * sync can go on with what did answer; a 401 and account_invalid still throw.
 */
export async function checkPermissions(
  stripe: Stripe,
  withRetry: <T>(call: () => Promise<T>) => Promise<T> = (c) => c(),
  unanswered?: Map<Permission, Stripe.errors.StripeError>,
): Promise<Record<Permission, PermissionCheck>> {
  const result = {} as Record<Permission, PermissionCheck>;
  for (const { key, label, permission, probe } of PROBES) {
    try {
      await withRetry(() => probe(stripe));
      result[key] = { label, permission, ok: true };
    } catch (e) {
      // A 403 for the connected account itself (account_invalid) is not a missing permission.
      if (unanswered && e instanceof Stripe.errors.StripeError && !stopsEverything(e) && !(e instanceof Stripe.errors.StripePermissionError)) {
        unanswered.set(key, e);
        result[key] = { label, permission, ok: false };
        continue;
      }
      if (!(e instanceof Stripe.errors.StripePermissionError) || e.code === 'account_invalid') throw e;
      result[key] = { label, permission: missingPermissionOf(e) ?? permission, ok: false };
    }
  }
  return result;
}
