/**
 * Subscriptions as Stripe Billing runs them: each billing step writes an invoice with its
 * `billing_reason` (subscription_create, subscription_cycle, subscription_update), pays it with a card
 * payment, links the two through an invoice payment, and emits the events a webhook would see.
 */
import type Stripe from 'stripe';
import type { AccountData } from './account';
import { makeInvoice, makeInvoicePayment, makePrice, makeSubscription, makeSubscriptionItem, planOf, snapshot } from './objects';
import type { FakeStripeState } from './state';

export interface PlanSpec {
  unitAmount: number;
  currency: string;
  interval: 'month' | 'year';
  nickname: string;
}

export interface BillingOptions {
  account?: string;
  /** Unix seconds; now when absent. */
  at?: number;
}

export interface BilledInvoice {
  invoice: Stripe.Invoice;
  invoicePayment: Stripe.InvoicePayment;
  charge: Stripe.Charge;
  paymentIntent: Stripe.PaymentIntent;
}

/** Starts a subscription and pays its first invoice (billing_reason subscription_create). */
export function createSubscription(
  state: FakeStripeState,
  customerId: string,
  plan: PlanSpec,
  options: BillingOptions = {},
): { subscription: Stripe.Subscription } & BilledInvoice {
  const account = state.account(options.account);
  const at = options.at ?? state.now();
  const price = makePrice({
    id: state.newId('price'),
    product: state.newId('prod'),
    created: at,
    unitAmount: plan.unitAmount,
    currency: plan.currency,
    interval: plan.interval,
    nickname: plan.nickname,
  });
  const subId = state.newId('sub');
  const item = makeSubscriptionItem({
    id: state.newId('si'),
    subscription: subId,
    created: at,
    price,
    periodStart: at,
    periodEnd: addInterval(at, plan.interval),
  });
  const subscription = makeSubscription({
    id: subId,
    created: at,
    customer: customerId,
    currency: plan.currency,
    item,
    latestInvoice: null,
    metadata: {},
  });
  account.subscriptions.add(subscription);
  account.events.add({
    ...state.eventBase(account, at),
    type: 'customer.subscription.created',
    data: { object: snapshot(subscription) },
  } satisfies Stripe.CustomerSubscriptionCreatedEvent);
  const billed = bill(state, account, subscription, {
    at,
    reason: 'subscription_create',
    amount: plan.unitAmount,
    periodStart: at,
    periodEnd: at,
    description: `1 × ${plan.nickname} (at ${plan.unitAmount} / ${plan.interval})`,
  });
  return { subscription, ...billed };
}

/** Renews for the next period: a subscription_cycle invoice at the end of the current period. */
export function renewSubscription(state: FakeStripeState, subscriptionId: string, options: BillingOptions = {}): BilledInvoice {
  const account = state.account(options.account);
  const subscription = activeSubscription(account, subscriptionId);
  const item = subscription.items.data[0]!;
  const at = options.at ?? item.current_period_end;
  const previous = { items: snapshot(subscription.items), latest_invoice: subscription.latest_invoice };
  const interval = item.price.recurring?.interval === 'year' ? 'year' : 'month';
  item.current_period_start = at;
  item.current_period_end = addInterval(at, interval);
  const amount = item.price.unit_amount ?? 0;
  const billed = bill(state, account, subscription, {
    at,
    reason: 'subscription_cycle',
    amount,
    periodStart: at,
    periodEnd: at,
    description: `1 × ${item.price.nickname ?? 'plan'} (at ${amount} / ${interval})`,
  });
  emitUpdated(state, account, subscription, at, previous);
  return billed;
}

/**
 * Moves a subscription to a new price mid-period and bills the prorated difference right away
 * (billing_reason subscription_update), as an upgrade with proration_behavior=always_invoice does.
 */
export function changeSubscriptionPrice(
  state: FakeStripeState,
  subscriptionId: string,
  plan: Omit<PlanSpec, 'currency' | 'interval'>,
  options: BillingOptions = {},
): BilledInvoice {
  const account = state.account(options.account);
  const at = options.at ?? state.now();
  const subscription = activeSubscription(account, subscriptionId);
  const item = subscription.items.data[0]!;
  const previous = { items: snapshot(subscription.items), latest_invoice: subscription.latest_invoice };
  const oldAmount = item.price.unit_amount ?? 0;
  const period = item.current_period_end - item.current_period_start;
  const remaining = Math.max(0, item.current_period_end - at);
  const proration = period > 0 ? Math.round(((plan.unitAmount - oldAmount) * remaining) / period) : 0;
  const price = makePrice({
    id: state.newId('price'),
    product: String(item.price.product),
    created: at,
    unitAmount: plan.unitAmount,
    currency: subscription.currency,
    interval: item.price.recurring?.interval === 'year' ? 'year' : 'month',
    nickname: plan.nickname,
  });
  item.price = price;
  item.plan = planOf(price);
  const billed = bill(state, account, subscription, {
    at,
    reason: 'subscription_update',
    amount: proration,
    periodStart: at,
    periodEnd: item.current_period_end,
    description: `Remaining time on 1 × ${plan.nickname} after ${new Date(at * 1000).toISOString().slice(0, 10)}`,
  });
  emitUpdated(state, account, subscription, at, previous);
  return billed;
}

export function cancelSubscription(state: FakeStripeState, subscriptionId: string, options: BillingOptions = {}): Stripe.Subscription {
  const account = state.account(options.account);
  const at = options.at ?? state.now();
  const subscription = activeSubscription(account, subscriptionId);
  const previous = { status: subscription.status, canceled_at: subscription.canceled_at, ended_at: subscription.ended_at };
  subscription.status = 'canceled';
  subscription.canceled_at = at;
  subscription.ended_at = at;
  subscription.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: 'cancellation_requested' };
  account.events.add({
    ...state.eventBase(account, at),
    type: 'customer.subscription.deleted',
    data: { object: snapshot(subscription), previous_attributes: previous },
  } satisfies Stripe.CustomerSubscriptionDeletedEvent);
  return subscription;
}

interface InvoiceSpec {
  at: number;
  reason: Stripe.Invoice.BillingReason;
  amount: number;
  periodStart: number;
  periodEnd: number;
  description: string;
}

/** Writes a paid invoice for the subscription and the card payment that paid it. */
function bill(state: FakeStripeState, account: AccountData, subscription: Stripe.Subscription, spec: InvoiceSpec): BilledInvoice {
  const customerId = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  const customer = account.customers.get(customerId);
  if (!customer) throw new Error(`fake Stripe: unknown customer ${customerId}`);
  const item = subscription.items.data[0]!;
  const sequence = customer.next_invoice_sequence ?? 1;
  customer.next_invoice_sequence = sequence + 1;
  const invoiceId = state.newId('in');
  const payment = state.addCharge({
    account: accountParam(state, account),
    at: spec.at,
    amount: spec.amount,
    currency: subscription.currency,
    customer: customer.id,
    description: spec.reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
  });
  const invoice = makeInvoice({
    id: invoiceId,
    number: `${customer.invoice_prefix ?? 'FAKE'}-${String(sequence).padStart(4, '0')}`,
    created: spec.at,
    customer,
    subscription: subscription.id,
    subscriptionItem: item.id,
    billingReason: spec.reason,
    amount: spec.amount,
    currency: subscription.currency,
    periodStart: spec.periodStart,
    periodEnd: spec.periodEnd,
    lineDescription: spec.description,
    price: item.price,
    paidAt: spec.at,
  });
  account.invoices.add(invoice);
  const invoicePayment = makeInvoicePayment({
    id: state.newId('inpay'),
    created: spec.at,
    invoice: invoice.id,
    amount: spec.amount,
    currency: subscription.currency,
    paymentIntent: payment.paymentIntent.id,
    paidAt: spec.at,
  });
  account.addInvoicePayment(invoicePayment);
  subscription.latest_invoice = invoice.id;
  account.events.add({
    ...state.eventBase(account, spec.at),
    type: 'invoice.paid',
    data: { object: snapshot(invoice) },
  } satisfies Stripe.InvoicePaidEvent);
  return { invoice, invoicePayment, charge: payment.charge, paymentIntent: payment.paymentIntent };
}

function emitUpdated(
  state: FakeStripeState,
  account: AccountData,
  subscription: Stripe.Subscription,
  at: number,
  previous: Partial<Stripe.Subscription>,
): void {
  account.events.add({
    ...state.eventBase(account, at),
    type: 'customer.subscription.updated',
    data: { object: snapshot(subscription), previous_attributes: previous },
  } satisfies Stripe.CustomerSubscriptionUpdatedEvent);
}

function activeSubscription(account: AccountData, id: string): Stripe.Subscription {
  const subscription = account.subscriptions.get(id);
  if (!subscription) throw new Error(`fake Stripe: unknown subscription ${id}`);
  if (subscription.status === 'canceled') throw new Error(`fake Stripe: subscription ${id} is canceled`);
  return subscription;
}

/** The connected-account id to pass to state methods (undefined for the platform). */
function accountParam(state: FakeStripeState, account: AccountData): string | undefined {
  return account === state.platform ? undefined : account.id;
}

/** Adds one calendar month or year in UTC, as Stripe's billing periods do. */
export function addInterval(at: number, interval: 'month' | 'year'): number {
  const d = new Date(at * 1000);
  if (interval === 'month') d.setUTCMonth(d.getUTCMonth() + 1);
  else d.setUTCFullYear(d.getUTCFullYear() + 1);
  return Math.floor(d.getTime() / 1000);
}
