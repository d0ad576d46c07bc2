/**
 * API-version shapes. Objects are stored in the newest shape (the installed `stripe` package's types);
 * a request or an event pinned to a version before 2025-03-31 (basil) sees the fields basil removed or
 * moved, derived here:
 *   - Charge and PaymentIntent carry `invoice`;
 *   - Invoice carries `subscription`, `charge`, `payment_intent`, `paid`, `paid_out_of_band`,
 *     `total_tax_amounts` and has no `parent` (its subscription moved to
 *     `parent.subscription_details.subscription` in basil);
 *   - Subscription carries `current_period_start` / `current_period_end` (basil moved them to its items).
 */
import type Stripe from 'stripe';
import { refOf } from './objects';

export const BASIL = '2025-03-31';

/** API versions are dated (`2024-06-20`, `2025-03-31.basil`); the date orders them. */
export function usesBasilShapes(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= BASIL;
}

export type LegacyCharge = Stripe.Charge & { invoice: string | null };
export type LegacyPaymentIntent = Stripe.PaymentIntent & { invoice: string | null };
export type LegacySubscription = Stripe.Subscription & { current_period_start: number; current_period_end: number };
export type LegacyInvoice = Omit<Stripe.Invoice, 'parent'> & {
  subscription: string | null;
  charge: string | null;
  payment_intent: string | null;
  paid: boolean;
  paid_out_of_band: boolean;
  total_tax_amounts: never[];
};

/** Every object the fake stores. */
export type StripeObject =
  | Stripe.Charge
  | Stripe.Refund
  | Stripe.Dispute
  | Stripe.Customer
  | Stripe.Subscription
  | Stripe.Invoice
  | Stripe.InvoicePayment
  | Stripe.BalanceTransaction
  | Stripe.PaymentIntent
  | Stripe.Event
  | Stripe.WebhookEndpoint;

/** What a legacy shape needs to know that the newest shape keeps on invoice payments instead. */
export interface InvoiceLinks {
  invoiceOfPaymentIntent(paymentIntent: string): string | null;
  defaultPayment(invoice: string): { paymentIntent: string; charge: string | null } | null;
}

/** A shallow copy of `obj` in the shape of `apiVersion` (the stored object is never changed). */
export function inVersion(obj: StripeObject, apiVersion: string, links: InvoiceLinks): StripeObject | LegacyShape {
  if (usesBasilShapes(apiVersion)) return { ...obj };
  switch (obj.object) {
    case 'charge':
      return legacyCharge(obj, links);
    case 'payment_intent':
      return legacyPaymentIntent(obj, links);
    case 'invoice':
      return legacyInvoice(obj, links);
    case 'subscription':
      return legacySubscription(obj);
    default:
      return { ...obj };
  }
}

export type LegacyShape = LegacyCharge | LegacyPaymentIntent | LegacyInvoice | LegacySubscription;

export function legacyCharge(charge: Stripe.Charge, links: InvoiceLinks): LegacyCharge {
  const pi = refOf(charge.payment_intent);
  return { ...charge, invoice: pi ? links.invoiceOfPaymentIntent(pi) : null };
}

export function legacyPaymentIntent(pi: Stripe.PaymentIntent, links: InvoiceLinks): LegacyPaymentIntent {
  return { ...pi, invoice: links.invoiceOfPaymentIntent(pi.id) };
}

export function legacyInvoice(invoice: Stripe.Invoice, links: InvoiceLinks): LegacyInvoice {
  const { parent, ...rest } = invoice;
  const payment = links.defaultPayment(invoice.id);
  const subscription = parent?.subscription_details?.subscription;
  return {
    ...rest,
    subscription: subscription === undefined ? null : (refOf(subscription) ?? null),
    charge: payment?.charge ?? null,
    payment_intent: payment?.paymentIntent ?? null,
    paid: invoice.status === 'paid',
    paid_out_of_band: false,
    total_tax_amounts: [],
  };
}

export function legacySubscription(sub: Stripe.Subscription): LegacySubscription {
  const first = sub.items.data[0];
  return {
    ...sub,
    current_period_start: first?.current_period_start ?? sub.start_date,
    current_period_end: first?.current_period_end ?? sub.start_date,
  };
}
