/**
 * The fake's whole state: accounts and their objects, the keys it accepts, injected faults, the request
 * log, its clock, and the webhook dispatcher that delivers each emitted event to the endpoints that want
 * it. The methods below change data the way Stripe would, keeping the related objects consistent (a
 * refund updates its charge, writes a balance transaction and emits events), so tests describe what
 * happened rather than assemble JSON.
 */
import Stripe from 'stripe';
import { AccountData } from './account';
import { EndpointControl, FaultQueue, KeyRing, RequestLog, type FaultOptions } from './control';
import type { Resource } from './permissions';
import { convertMinor, referenceRate } from './money';
import {
  cancelSubscription,
  changeSubscriptionPrice,
  createSubscription,
  renewSubscription,
  type BilledInvoice,
  type BillingOptions,
  type PlanSpec,
} from './billing';
import { newWebhookSecret, WebhookDispatcher, type WebhookOptions } from './webhooks';
import {
  makeBalanceTransaction,
  makeCharge,
  makeCustomer,
  makeDispute,
  makePaymentIntent,
  makeRefund,
  refOf,
  snapshot,
} from './objects';

/** The fields every event shares; each emit site adds its own `type` and typed `data`. */
export type EventBaseFields = Omit<Stripe.ChargeSucceededEvent, 'type' | 'data'>;

export interface StateOptions {
  /** Epoch milliseconds; defaults to Date.now. */
  clock?: () => number;
  platformAccount?: string;
  settlementCurrency?: string;
  /** The platform's default API version (what its events are rendered in). */
  apiVersion?: string;
  /** Webhook retry schedule and timeout (tests run them in milliseconds). */
  webhooks?: WebhookOptions;
}

interface Scoped {
  /** A connected account id; the platform when absent. */
  account?: string;
  /** Unix seconds; now when absent. */
  at?: number;
}

export interface NewCustomer extends Scoped {
  email: string | null;
  name?: string | null;
  metadata?: Record<string, string>;
}

export interface NewCharge extends Scoped {
  amount: number;
  currency: string;
  customer?: string | null;
  /** `billing_details.email`; defaults to the customer's email. */
  billingEmail?: string | null;
  billingName?: string | null;
  /** `receipt_email`; defaults to the customer's email. */
  receiptEmail?: string | null;
  description?: string | null;
  /** Set on both the charge and its PaymentIntent (e.g. `revtrail_vid`). */
  metadata?: Record<string, string>;
  status?: Stripe.Charge.Status;
  /** Emit charge.succeeded (default true). */
  events?: boolean;
}

export interface Payment {
  charge: Stripe.Charge;
  paymentIntent: Stripe.PaymentIntent;
  balanceTransaction: Stripe.BalanceTransaction | null;
}

export interface RefundOptions extends Scoped {
  status?: 'succeeded' | 'pending' | 'failed';
  /** For status 'failed': when the refund failed (defaults to `at`). */
  failedAt?: number;
  reason?: Stripe.Refund.Reason;
}

export interface NewPurchase extends Scoped {
  email: string;
  amount: number;
  currency: string;
  /** The customer's name, when a new one is created. */
  name?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
}

export interface Purchase extends Payment {
  customer: Stripe.Customer;
  /** False when a customer with this email existed and was charged again. */
  customerCreated: boolean;
}

export interface NewWebhookEndpoint {
  /** The account whose endpoint it is (created with `Stripe-Account`); the platform when absent. */
  account?: string;
  url: string;
  enabledEvents: string[];
  description?: string | null;
  /** Events are rendered in this version instead of each event's own. */
  apiVersion?: string | null;
  metadata?: Record<string, string>;
  /** A platform endpoint for connected accounts' events. */
  connect?: boolean;
  /** A `whsec_` secret to sign with; a new one when absent. */
  secret?: string;
}

export interface DisputeOptions extends Scoped {
  /** Defaults to the charge's amount; a dispute may be for less. */
  amount?: number;
  reason?: string;
  /** 'warning_needs_response' opens an inquiry, which moves no money. */
  status?: 'needs_response' | 'warning_needs_response';
}

/** Stripe's fee for a dispute, in minor units of the settlement currency. */
export const DISPUTE_FEE = 1500;
/** Card pricing used for fees: 2.9% + 30 minor units, plus 1% when the charge is converted. */
const FEE_BPS = 290;
const FEE_FIXED = 30;
const CONVERSION_BPS = 100;

export class FakeStripeState {
  readonly platform: AccountData;
  readonly keyRing = new KeyRing();
  readonly faults = new FaultQueue();
  readonly endpoints = new EndpointControl<Resource>();
  readonly log = new RequestLog();
  /** Delivers emitted events to the accounts' webhook endpoints; its log holds every attempt. */
  readonly webhooks: WebhookDispatcher;
  private readonly connected = new Map<string, AccountData>();
  private readonly clock: () => number;
  private offsetMs = 0;
  private readonly counters = new Map<string, number>();

  constructor(options: StateOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.platform = new AccountData(options.platformAccount ?? 'acct_1FakePlatform0000', {
      settlementCurrency: options.settlementCurrency ?? 'usd',
      country: 'US',
      apiVersion: options.apiVersion ?? Stripe.API_VERSION,
    });
    this.webhooks = new WebhookDispatcher(this, options.webhooks);
    this.deliverEventsOf(this.platform);
  }

  /** Epoch milliseconds, including every advanceClock. */
  nowMs(): number {
    return this.clock() + this.offsetMs;
  }

  /** Unix seconds, as Stripe's `created`. */
  now(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  advanceClock(ms: number): void {
    this.offsetMs += ms;
  }

  /** A deterministic Stripe-looking id: `ch_1Fake...`, numbered per prefix. */
  newId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}_1Fake${String(n).padStart(19, '0')}`;
  }

  addConnectedAccount(id: string, options: { settlementCurrency: string; country: string; apiVersion?: string }): AccountData {
    const account = new AccountData(id, { ...options, apiVersion: options.apiVersion ?? this.platform.defaultApiVersion });
    this.connected.set(id, account);
    this.deliverEventsOf(account);
    return account;
  }

  /** The account a `Stripe-Account` header names (null: the platform); undefined when unknown. */
  findAccount(id: string | null): AccountData | undefined {
    return id === null ? this.platform : this.connected.get(id);
  }

  account(id?: string): AccountData {
    const account = this.findAccount(id ?? null);
    if (!account) throw new Error(`fake Stripe: unknown connected account ${id}`);
    return account;
  }

  addRestrictedKey(permissions: Iterable<string>): string {
    return this.keyRing.addRestricted(permissions);
  }

  addSecretKey(): string {
    return this.keyRing.addSecret();
  }

  revoke(key: string): void {
    this.keyRing.revoke(key);
  }

  failNext(n: number, status: number, options?: FaultOptions): void {
    this.faults.failNext(n, status, options);
  }

  requestCount(path?: string): number {
    return this.log.count(path);
  }

  eventBase(account: AccountData, at: number): EventBaseFields {
    return {
      id: this.newId('evt'),
      object: 'event',
      ...(account === this.platform ? {} : { account: account.id }),
      api_version: account.apiVersionAt(at),
      created: at,
      livemode: false,
      pending_webhooks: 0,
      request: { id: null, idempotency_key: null },
    };
  }

  addCustomer(input: NewCustomer): Stripe.Customer {
    const account = this.account(input.account);
    const at = input.at ?? this.now();
    const customer = makeCustomer({
      id: this.newId('cus'),
      created: at,
      email: input.email,
      name: input.name ?? null,
      metadata: input.metadata ?? {},
    });
    account.customers.add(customer);
    account.events.add({
      ...this.eventBase(account, at),
      type: 'customer.created',
      data: { object: snapshot(customer) },
    } satisfies Stripe.CustomerCreatedEvent);
    return customer;
  }

  /** A card payment: PaymentIntent, charge and (when it succeeded) its balance transaction. */
  addCharge(input: NewCharge): Payment {
    const account = this.account(input.account);
    const at = input.at ?? this.now();
    const status = input.status ?? 'succeeded';
    const customer = input.customer ? account.customers.get(input.customer) : undefined;
    if (input.customer && !customer) throw new Error(`fake Stripe: unknown customer ${input.customer}`);
    const chargeId = this.newId('ch');
    const piId = this.newId('pi');
    const metadata = input.metadata ?? {};
    const receiptEmail = input.receiptEmail === undefined ? (customer?.email ?? null) : input.receiptEmail;
    const description = input.description ?? null;

    let balanceTransaction: Stripe.BalanceTransaction | null = null;
    if (status === 'succeeded') {
      const settled = this.settle(account, input.amount, input.currency);
      const fee =
        Math.round((settled.amount * FEE_BPS) / 10_000) +
        FEE_FIXED +
        (settled.rate === null ? 0 : Math.round((settled.amount * CONVERSION_BPS) / 10_000));
      balanceTransaction = makeBalanceTransaction({
        id: this.newId('txn'),
        created: at,
        amount: settled.amount,
        fee,
        currency: account.settlementCurrency,
        exchangeRate: settled.rate,
        source: chargeId,
        type: 'charge',
        reportingCategory: 'charge',
        description,
      });
      account.balanceTransactions.add(balanceTransaction);
    }
    const charge = makeCharge({
      id: chargeId,
      created: at,
      amount: input.amount,
      currency: input.currency,
      customer: customer?.id ?? null,
      paymentIntent: piId,
      balanceTransaction: balanceTransaction?.id ?? null,
      billingEmail: input.billingEmail === undefined ? (customer?.email ?? null) : input.billingEmail,
      billingName: input.billingName === undefined ? (customer?.name ?? null) : input.billingName,
      receiptEmail,
      description,
      metadata: { ...metadata },
      status,
      cardCountry: account.country,
    });
    const paymentIntent = makePaymentIntent({
      id: piId,
      created: at,
      amount: input.amount,
      currency: input.currency,
      customer: customer?.id ?? null,
      latestCharge: chargeId,
      description,
      metadata: { ...metadata },
      receiptEmail,
      status: status === 'succeeded' ? 'succeeded' : status === 'pending' ? 'processing' : 'requires_payment_method',
    });
    account.paymentIntents.add(paymentIntent);
    account.charges.add(charge);
    if (input.events !== false && status === 'succeeded') {
      account.events.add({
        ...this.eventBase(account, at),
        type: 'charge.succeeded',
        data: { object: snapshot(charge) },
      } satisfies Stripe.ChargeSucceededEvent);
    }
    return { charge, paymentIntent, balanceTransaction };
  }

  /**
   * Refunds part or all of a charge. 'failed' models a refund that was accepted and later failed: the
   * charge's amount_refunded goes up, then back down, and a refund_failure balance transaction returns
   * the money.
   */
  refund(chargeId: string, amount: number, options: RefundOptions = {}): Stripe.Refund {
    const account = this.account(options.account);
    const at = options.at ?? this.now();
    const charge = account.charges.get(chargeId);
    if (!charge) throw new Error(`fake Stripe: unknown charge ${chargeId}`);
    if (amount <= 0 || amount > charge.amount - charge.amount_refunded) {
      throw new Error(`fake Stripe: cannot refund ${amount} of ${chargeId} (${charge.amount_refunded} of ${charge.amount} refunded)`);
    }
    const refundId = this.newId('re');
    const balanceTransaction = this.addMovement(account, charge, -amount, at, refundId, 'refund', 'refund');
    const refund = makeRefund({
      id: refundId,
      created: at,
      amount,
      currency: charge.currency,
      charge: charge.id,
      paymentIntent: refOf(charge.payment_intent),
      customer: refOf(charge.customer),
      balanceTransaction: balanceTransaction?.id ?? null,
      status: options.status === 'pending' ? 'pending' : 'succeeded',
      reason: options.reason ?? 'requested_by_customer',
    });
    account.refunds.add(refund);
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    account.events.add({
      ...this.eventBase(account, at),
      type: 'refund.created',
      data: { object: snapshot(refund) },
    } satisfies Stripe.RefundCreatedEvent);
    account.events.add({
      ...this.eventBase(account, at),
      type: 'charge.refunded',
      data: { object: snapshot(charge), previous_attributes: previous },
    } satisfies Stripe.ChargeRefundedEvent);
    if (options.status === 'failed') this.failRefund(refund.id, { account: options.account, at: options.failedAt ?? at });
    return refund;
  }

  failRefund(refundId: string, options: Scoped = {}): Stripe.Refund {
    const account = this.account(options.account);
    const at = options.at ?? this.now();
    const refund = account.refunds.get(refundId);
    const charge = refund && account.charges.get(refOf(refund.charge) ?? '');
    if (!refund || !charge) throw new Error(`fake Stripe: unknown refund ${refundId}`);
    const failure = this.addMovement(account, charge, refund.amount, at, refund.id, 'refund_failure', 'refund_failure');
    const previous = { status: refund.status };
    refund.status = 'failed';
    refund.failure_reason = 'expired_or_canceled_card';
    if (failure) refund.failure_balance_transaction = failure.id;
    charge.amount_refunded -= refund.amount;
    charge.refunded = false;
    account.events.add({
      ...this.eventBase(account, at),
      type: 'refund.failed',
      data: { object: snapshot(refund), previous_attributes: previous },
    } satisfies Stripe.RefundFailedEvent);
    return refund;
  }

  openDispute(chargeId: string, options: DisputeOptions = {}): Stripe.Dispute {
    const account = this.account(options.account);
    const at = options.at ?? this.now();
    const charge = account.charges.get(chargeId);
    if (!charge) throw new Error(`fake Stripe: unknown charge ${chargeId}`);
    const status = options.status ?? 'needs_response';
    const amount = options.amount ?? charge.amount;
    const disputeId = this.newId('du');
    const inquiry = status.startsWith('warning_');
    const withdrawal = inquiry ? null : this.addMovement(account, charge, -amount, at, disputeId, 'adjustment', 'dispute', DISPUTE_FEE);
    const dispute = makeDispute({
      id: disputeId,
      created: at,
      amount,
      currency: charge.currency,
      charge: charge.id,
      paymentIntent: refOf(charge.payment_intent),
      reason: options.reason ?? (inquiry ? 'general' : 'fraudulent'),
      status,
      balanceTransactions: withdrawal ? [withdrawal] : [],
    });
    account.disputes.add(dispute);
    charge.disputed = true;
    account.events.add({
      ...this.eventBase(account, at),
      type: 'charge.dispute.created',
      data: { object: snapshot(dispute) },
    } satisfies Stripe.ChargeDisputeCreatedEvent);
    if (withdrawal) {
      account.events.add({
        ...this.eventBase(account, at),
        type: 'charge.dispute.funds_withdrawn',
        data: { object: snapshot(dispute) },
      } satisfies Stripe.ChargeDisputeFundsWithdrawnEvent);
    }
    return dispute;
  }

  /** Closes a dispute: won reinstates the funds, lost is final; an inquiry closes as warning_closed. */
  closeDispute(disputeId: string, outcome: 'won' | 'lost', options: Scoped = {}): Stripe.Dispute {
    const account = this.account(options.account);
    const at = options.at ?? this.now();
    const dispute = account.disputes.get(disputeId);
    const charge = dispute && account.charges.get(refOf(dispute.charge) ?? '');
    if (!dispute || !charge) throw new Error(`fake Stripe: unknown dispute ${disputeId}`);
    const previous = { status: dispute.status };
    const inquiry = dispute.status.startsWith('warning_');
    dispute.status = inquiry ? 'warning_closed' : outcome;
    dispute.is_charge_refundable = false;
    if (!inquiry && outcome === 'won') {
      const reinstated = this.addMovement(account, charge, dispute.amount, at, dispute.id, 'adjustment', 'dispute_reversal');
      if (reinstated) dispute.balance_transactions.push(reinstated);
      account.events.add({
        ...this.eventBase(account, at),
        type: 'charge.dispute.funds_reinstated',
        data: { object: snapshot(dispute) },
      } satisfies Stripe.ChargeDisputeFundsReinstatedEvent);
    }
    account.events.add({
      ...this.eventBase(account, at),
      type: 'charge.dispute.closed',
      data: { object: snapshot(dispute), previous_attributes: previous },
    } satisfies Stripe.ChargeDisputeClosedEvent);
    return dispute;
  }

  /** A customer (the newest with this email, or a new one) charged now: what a checkout leaves behind. */
  purchase(input: NewPurchase): Purchase {
    const account = this.account(input.account);
    const existing = account.customers.newestFirst().find((c) => c.email === input.email);
    const customer = existing ?? this.addCustomer({ account: input.account, at: input.at, email: input.email, name: input.name ?? null });
    const payment = this.addCharge({
      account: input.account,
      at: input.at,
      amount: input.amount,
      currency: input.currency,
      customer: customer.id,
      description: input.description ?? null,
      metadata: input.metadata ?? {},
    });
    return { ...payment, customer, customerCreated: !existing };
  }

  addWebhookEndpoint(input: NewWebhookEndpoint): { endpoint: Stripe.WebhookEndpoint; secret: string } {
    const account = this.account(input.account);
    const endpoint: Stripe.WebhookEndpoint = {
      id: this.newId('we'),
      object: 'webhook_endpoint',
      api_version: input.apiVersion ?? null,
      application: null,
      created: this.now(),
      description: input.description ?? null,
      enabled_events: [...input.enabledEvents],
      livemode: false,
      metadata: { ...input.metadata },
      status: 'enabled',
      url: input.url,
    };
    const secret = input.secret ?? newWebhookSecret();
    account.webhookEndpoints.add(endpoint);
    this.webhooks.register(endpoint.id, { secret, connect: input.connect === true && account === this.platform });
    return { endpoint, secret };
  }

  /** Deletes an endpoint: no more deliveries to it, pending retries included. False when it is unknown. */
  deleteWebhookEndpoint(id: string, options: { account?: string } = {}): boolean {
    const removed = this.account(options.account).webhookEndpoints.remove(id);
    if (removed) this.webhooks.unregister(id);
    return removed;
  }

  /** Starts a subscription and pays its first invoice (billing_reason subscription_create). */
  addSubscription(customerId: string, plan: PlanSpec, options?: BillingOptions): { subscription: Stripe.Subscription } & BilledInvoice {
    return createSubscription(this, customerId, plan, options);
  }

  /** Bills the next period (subscription_cycle): new invoice, charge and invoice payment. */
  renewSubscription(subscriptionId: string, options?: BillingOptions): BilledInvoice {
    return renewSubscription(this, subscriptionId, options);
  }

  /** An upgrade or downgrade billed at once, prorated (subscription_update). */
  changeSubscriptionPrice(
    subscriptionId: string,
    plan: { unitAmount: number; nickname: string },
    options?: BillingOptions,
  ): BilledInvoice {
    return changeSubscriptionPrice(this, subscriptionId, plan, options);
  }

  cancelSubscription(subscriptionId: string, options?: BillingOptions): Stripe.Subscription {
    return cancelSubscription(this, subscriptionId, options);
  }

  private deliverEventsOf(account: AccountData): void {
    account.events.onAdd((event) => this.webhooks.emitted(account, event));
  }

  /** Converts a charge-currency amount into the account's settlement currency at the charge's rate. */
  private settle(account: AccountData, amount: number, currency: string, rate?: number | null): { amount: number; rate: number | null } {
    if (currency === account.settlementCurrency) return { amount, rate: null };
    const r = rate ?? referenceRate(currency, account.settlementCurrency);
    return { amount: convertMinor(amount, currency, account.settlementCurrency, r), rate: r };
  }

  /** A balance transaction moving part of a charge's money (refund, dispute), at the charge's rate. */
  private addMovement(
    account: AccountData,
    charge: Stripe.Charge,
    amount: number,
    at: number,
    source: string,
    type: Stripe.BalanceTransaction.Type,
    reportingCategory: string,
    fee = 0,
  ): Stripe.BalanceTransaction | null {
    const original = account.balanceTransactions.get(refOf(charge.balance_transaction) ?? '');
    if (!original) return null;
    const settled = this.settle(account, amount, charge.currency, original.exchange_rate);
    const bt = makeBalanceTransaction({
      id: this.newId('txn'),
      created: at,
      amount: settled.amount,
      fee,
      currency: account.settlementCurrency,
      exchangeRate: settled.rate,
      source,
      type,
      reportingCategory,
      description: null,
    });
    account.balanceTransactions.add(bt);
    return bt;
  }
}
