/**
 * One Stripe account's data: the platform (requests without `Stripe-Account`) or a connected account.
 * Each object kind is a Collection; a few side indexes answer what older API versions show on charges
 * and invoices (which invoice a payment paid), and the account's API version history says which shape
 * each of its events was rendered in.
 */
import type Stripe from 'stripe';
import { Collection, ObservedCollection } from './collection';
import type { Resource } from './permissions';
import type { InvoiceLinks, StripeObject } from './versions';

export interface AccountOptions {
  settlementCurrency: string;
  country: string;
  apiVersion: string;
}

export class AccountData implements InvoiceLinks {
  readonly charges = new Collection<Stripe.Charge>();
  readonly refunds = new Collection<Stripe.Refund>();
  readonly disputes = new Collection<Stripe.Dispute>();
  readonly customers = new Collection<Stripe.Customer>();
  readonly subscriptions = new Collection<Stripe.Subscription>();
  readonly invoices = new Collection<Stripe.Invoice>();
  readonly invoicePayments = new Collection<Stripe.InvoicePayment>();
  readonly balanceTransactions = new Collection<Stripe.BalanceTransaction>();
  readonly paymentIntents = new Collection<Stripe.PaymentIntent>();
  readonly events = new ObservedCollection<Stripe.Event>();
  readonly webhookEndpoints = new Collection<Stripe.WebhookEndpoint>();

  readonly settlementCurrency: string;
  readonly country: string;
  /** The account's default API version over time (what events are rendered in), oldest first. */
  private readonly versions: { since: number; version: string }[];
  private readonly invoiceByPaymentIntent = new Map<string, string>();
  private readonly paymentsByInvoice = new Map<string, Stripe.InvoicePayment[]>();

  constructor(
    readonly id: string,
    options: AccountOptions,
  ) {
    this.settlementCurrency = options.settlementCurrency;
    this.country = options.country;
    this.versions = [{ since: -Infinity, version: options.apiVersion }];
  }

  /** Replaces the version history: `initial` until the first upgrade, each upgrade from its `at` on. */
  setApiVersionHistory(initial: string, upgrades: readonly { at: number; version: string }[]): void {
    this.versions.length = 0;
    this.versions.push({ since: -Infinity, version: initial });
    for (const u of upgrades) this.upgradeApiVersion(u.version, u.at);
  }

  /** Upgrades the account's default API version from `at` (unix seconds) on. */
  upgradeApiVersion(version: string, at: number): void {
    const last = this.versions[this.versions.length - 1]!;
    if (at < last.since) throw new Error('fake Stripe: API version upgrades must be added in time order');
    this.versions.push({ since: at, version });
  }

  apiVersionAt(at: number): string {
    for (let i = this.versions.length - 1; i >= 0; i--) if (this.versions[i]!.since <= at) return this.versions[i]!.version;
    return this.versions[0]!.version;
  }

  get defaultApiVersion(): string {
    return this.versions[this.versions.length - 1]!.version;
  }

  addInvoicePayment(payment: Stripe.InvoicePayment): void {
    this.invoicePayments.add(payment);
    const invoice = typeof payment.invoice === 'string' ? payment.invoice : payment.invoice.id;
    const pi = payment.payment.payment_intent;
    if (pi !== undefined) this.invoiceByPaymentIntent.set(typeof pi === 'string' ? pi : pi.id, invoice);
    const list = this.paymentsByInvoice.get(invoice) ?? [];
    list.push(payment);
    this.paymentsByInvoice.set(invoice, list);
  }

  invoiceOfPaymentIntent(paymentIntent: string): string | null {
    return this.invoiceByPaymentIntent.get(paymentIntent) ?? null;
  }

  defaultPayment(invoice: string): { paymentIntent: string; charge: string | null } | null {
    const payment = this.paymentsByInvoice.get(invoice)?.find((p) => p.is_default);
    const ref = payment?.payment.payment_intent;
    if (ref === undefined) return null;
    const pi = typeof ref === 'string' ? this.paymentIntents.get(ref) : ref;
    if (!pi) return null;
    const charge = pi.latest_charge;
    return { paymentIntent: pi.id, charge: charge === null ? null : typeof charge === 'string' ? charge : charge.id };
  }

  /** Any stored object by id, found through its id prefix (what `expand[]` resolves). */
  find(id: string): { resource: Resource; object: StripeObject } | undefined {
    const resource = resourceOfId(id);
    if (!resource) return undefined;
    const object = this.collection(resource).get(id);
    return object ? { resource, object } : undefined;
  }

  collection(resource: Resource): Collection<StripeObject> {
    switch (resource) {
      case 'charges':
        return this.charges;
      case 'refunds':
        return this.refunds;
      case 'disputes':
        return this.disputes;
      case 'customers':
        return this.customers;
      case 'subscriptions':
        return this.subscriptions;
      case 'invoices':
        return this.invoices;
      case 'invoice_payments':
        return this.invoicePayments;
      case 'balance_transactions':
        return this.balanceTransactions;
      case 'payment_intents':
        return this.paymentIntents;
      case 'events':
        return this.events;
      case 'webhook_endpoints':
        return this.webhookEndpoints;
    }
  }
}

const PREFIXES: readonly [string, Resource][] = [
  ['ch_', 'charges'],
  ['py_', 'charges'],
  ['re_', 'refunds'],
  ['pyr_', 'refunds'],
  ['du_', 'disputes'],
  ['dp_', 'disputes'],
  ['cus_', 'customers'],
  ['sub_', 'subscriptions'],
  ['inpay_', 'invoice_payments'],
  ['in_', 'invoices'],
  ['txn_', 'balance_transactions'],
  ['pi_', 'payment_intents'],
  ['evt_', 'events'],
  ['we_', 'webhook_endpoints'],
];

export function resourceOfId(id: string): Resource | undefined {
  return PREFIXES.find(([prefix]) => id.startsWith(prefix))?.[1];
}
