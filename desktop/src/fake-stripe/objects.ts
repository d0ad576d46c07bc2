/**
 * Factories for Stripe objects in the shape of the installed `stripe` package's types (the newest API
 * version it pins). Each takes the few facts that vary and fills every other required field the way a
 * plain card payment in test mode has it. Older API versions are derived from these in versions.ts.
 */
import type Stripe from 'stripe';

type Metadata = Record<string, string>;

const NO_ADDRESS: Stripe.Address = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };

export interface ChargeFacts {
  id: string;
  created: number;
  amount: number;
  currency: string;
  customer: string | null;
  paymentIntent: string | null;
  balanceTransaction: string | null;
  billingEmail: string | null;
  billingName: string | null;
  receiptEmail: string | null;
  description: string | null;
  metadata: Metadata;
  status: Stripe.Charge.Status;
  cardCountry: string;
}

export function makeCharge(f: ChargeFacts): Stripe.Charge {
  const succeeded = f.status === 'succeeded';
  return {
    id: f.id,
    object: 'charge',
    amount: f.amount,
    amount_captured: succeeded ? f.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: f.balanceTransaction,
    billing_details: { address: NO_ADDRESS, email: f.billingEmail, name: f.billingName, phone: null, tax_id: null },
    calculated_statement_descriptor: 'REVTRAIL FAKE',
    captured: succeeded,
    created: f.created,
    currency: f.currency,
    customer: f.customer,
    description: f.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: f.status === 'failed' ? 'card_declined' : null,
    failure_message: f.status === 'failed' ? 'Your card was declined.' : null,
    fraud_details: {},
    livemode: false,
    metadata: f.metadata,
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: f.status === 'failed' ? 'declined_by_network' : 'approved_by_network',
      reason: f.status === 'failed' ? 'generic_decline' : null,
      risk_level: 'normal',
      risk_score: 32,
      seller_message: f.status === 'failed' ? 'The bank did not return any further details with this decline.' : 'Payment complete.',
      type: f.status === 'failed' ? 'issuer_declined' : 'authorized',
    },
    paid: succeeded,
    payment_intent: f.paymentIntent,
    payment_method: `pm_${f.id.slice(3)}`,
    payment_method_details: { type: 'card', card: makeCard(f.amount, f.cardCountry) },
    receipt_email: f.receiptEmail,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/fake_${f.id}`,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: f.status,
    transfer_data: null,
    transfer_group: null,
  };
}

function makeCard(amount: number, country: string): Stripe.Charge.PaymentMethodDetails.Card {
  return {
    amount_authorized: amount,
    authorization_code: '123456',
    brand: 'visa',
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
    country,
    electronic_commerce_indicator: null,
    exp_month: 12,
    exp_year: 2034,
    funding: 'credit',
    installments: null,
    last4: '4242',
    mandate: null,
    network: 'visa',
    network_transaction_id: '000000000000000',
    regulated_status: 'unregulated',
    three_d_secure: null,
    transaction_link_id: null,
    wallet: null,
  };
}

export interface PaymentIntentFacts {
  id: string;
  created: number;
  amount: number;
  currency: string;
  customer: string | null;
  latestCharge: string | null;
  description: string | null;
  metadata: Metadata;
  receiptEmail: string | null;
  status: Stripe.PaymentIntent.Status;
}

export function makePaymentIntent(f: PaymentIntentFacts): Stripe.PaymentIntent {
  return {
    id: f.id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: f.amount,
    amount_capturable: 0,
    amount_received: f.status === 'succeeded' ? f.amount : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: { allow_redirects: 'always', enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${f.id}_secret_fake`,
    confirmation_method: 'automatic',
    created: f.created,
    currency: f.currency,
    customer: f.customer,
    customer_account: null,
    description: f.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: f.latestCharge,
    livemode: false,
    managed_payments: null,
    metadata: f.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: f.latestCharge ? `pm_${f.latestCharge.slice(3)}` : null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: f.receiptEmail,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: f.status,
    transfer_group: null,
  };
}

export interface BalanceTransactionFacts {
  id: string;
  created: number;
  /** Settlement currency amount (minor units); negative for money leaving the balance. */
  amount: number;
  fee: number;
  currency: string;
  exchangeRate: number | null;
  source: string;
  type: Stripe.BalanceTransaction.Type;
  reportingCategory: string;
  description: string | null;
}

export function makeBalanceTransaction(f: BalanceTransactionFacts): Stripe.BalanceTransaction {
  return {
    id: f.id,
    object: 'balance_transaction',
    amount: f.amount,
    available_on: f.created + 2 * 86_400,
    balance_type: 'payments',
    created: f.created,
    currency: f.currency,
    description: f.description,
    exchange_rate: f.exchangeRate,
    fee: f.fee,
    fee_details:
      f.fee === 0
        ? []
        : [{ amount: f.fee, application: null, currency: f.currency, description: 'Stripe processing fees', type: 'stripe_fee' }],
    net: f.amount - f.fee,
    reporting_category: f.reportingCategory,
    source: f.source,
    status: 'available',
    type: f.type,
  };
}

export interface RefundFacts {
  id: string;
  created: number;
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string | null;
  customer: string | null;
  balanceTransaction: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled' | 'requires_action';
  reason: Stripe.Refund.Reason | null;
}

export function makeRefund(f: RefundFacts): Stripe.Refund {
  return {
    id: f.id,
    object: 'refund',
    amount: f.amount,
    balance_transaction: f.balanceTransaction,
    charge: f.charge,
    created: f.created,
    currency: f.currency,
    customer: f.customer,
    customer_account: null,
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
      type: 'card',
    },
    metadata: {},
    payment_intent: f.paymentIntent,
    payment_method: null,
    reason: f.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: f.status,
    transfer_reversal: null,
  };
}

export interface DisputeFacts {
  id: string;
  created: number;
  amount: number;
  currency: string;
  charge: string;
  paymentIntent: string | null;
  reason: string;
  status: Stripe.Dispute.Status;
  balanceTransactions: Stripe.BalanceTransaction[];
}

export function makeDispute(f: DisputeFacts): Stripe.Dispute {
  return {
    id: f.id,
    object: 'dispute',
    amount: f.amount,
    balance_transactions: f.balanceTransactions,
    charge: f.charge,
    created: f.created,
    currency: f.currency,
    enhanced_eligibility_types: [],
    evidence: {
      access_activity_log: null,
      billing_address: null,
      cancellation_policy: null,
      cancellation_policy_disclosure: null,
      cancellation_rebuttal: null,
      customer_communication: null,
      customer_email_address: null,
      customer_name: null,
      customer_purchase_ip: null,
      customer_signature: null,
      duplicate_charge_documentation: null,
      duplicate_charge_explanation: null,
      duplicate_charge_id: null,
      enhanced_evidence: {},
      product_description: null,
      receipt: null,
      refund_policy: null,
      refund_policy_disclosure: null,
      refund_refusal_explanation: null,
      service_date: null,
      service_documentation: null,
      shipping_address: null,
      shipping_carrier: null,
      shipping_date: null,
      shipping_documentation: null,
      shipping_tracking_number: null,
      uncategorized_file: null,
      uncategorized_text: null,
    },
    evidence_details: {
      due_by: f.created + 14 * 86_400,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: 'not_submitted',
    },
    intended_submission_method: null,
    is_charge_refundable: f.status.startsWith('warning_'),
    livemode: false,
    metadata: {},
    payment_intent: f.paymentIntent,
    reason: f.reason,
    status: f.status,
  };
}

export interface CustomerFacts {
  id: string;
  created: number;
  email: string | null;
  name: string | null;
  metadata: Metadata;
}

export function makeCustomer(f: CustomerFacts): Stripe.Customer {
  return {
    id: f.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: f.created,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    email: f.email,
    invoice_prefix: f.id.slice(-8).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: f.metadata,
    name: f.name,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export interface PriceFacts {
  id: string;
  product: string;
  created: number;
  unitAmount: number;
  currency: string;
  interval: 'month' | 'year';
  nickname: string;
}

export function makePrice(f: PriceFacts): Stripe.Price {
  return {
    id: f.id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: f.created,
    currency: f.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: f.nickname,
    product: f.product,
    recurring: { interval: f.interval, interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: f.unitAmount,
    unit_amount_decimal: null,
  };
}

/** The legacy Plan view of a recurring price, which subscription items still carry. */
export function planOf(price: Stripe.Price): Stripe.Plan {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: null,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

export interface SubscriptionItemFacts {
  id: string;
  subscription: string;
  created: number;
  price: Stripe.Price;
  periodStart: number;
  periodEnd: number;
}

export function makeSubscriptionItem(f: SubscriptionItemFacts): Stripe.SubscriptionItem {
  return {
    id: f.id,
    object: 'subscription_item',
    billing_thresholds: null,
    created: f.created,
    current_period_end: f.periodEnd,
    current_period_start: f.periodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(f.price),
    price: f.price,
    quantity: 1,
    subscription: f.subscription,
    tax_rates: [],
  };
}

export interface SubscriptionFacts {
  id: string;
  created: number;
  customer: string;
  currency: string;
  item: Stripe.SubscriptionItem;
  latestInvoice: string | null;
  metadata: Metadata;
}

export function makeSubscription(f: SubscriptionFacts): Stripe.Subscription {
  return {
    id: f.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: f.created,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: f.created,
    currency: f.currency,
    customer: f.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: {
      object: 'list',
      data: [f.item],
      has_more: false,
      url: `/v1/subscription_items?subscription=${f.id}`,
    },
    latest_invoice: f.latestInvoice,
    livemode: false,
    managed_payments: null,
    metadata: f.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: f.created,
    status: 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: null,
  };
}

export interface InvoiceFacts {
  id: string;
  number: string;
  created: number;
  customer: Stripe.Customer;
  subscription: string | null;
  subscriptionItem: string | null;
  billingReason: Stripe.Invoice.BillingReason;
  amount: number;
  currency: string;
  periodStart: number;
  periodEnd: number;
  lineDescription: string;
  price: Stripe.Price | null;
  paidAt: number;
}

export function makeInvoice(f: InvoiceFacts): Stripe.Invoice {
  const line: Stripe.InvoiceLineItem = {
    id: `il_${f.id.slice(3)}`,
    object: 'line_item',
    amount: f.amount,
    currency: f.currency,
    description: f.lineDescription,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: f.id,
    livemode: false,
    metadata: {},
    parent:
      f.subscription && f.subscriptionItem
        ? {
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: null,
              proration: f.billingReason === 'subscription_update',
              proration_details: { credited_items: null },
              subscription: f.subscription,
              subscription_item: f.subscriptionItem,
            },
            type: 'subscription_item_details',
          }
        : null,
    period: { end: f.periodEnd, start: f.periodStart },
    pretax_credit_amounts: [],
    pricing: f.price
      ? { price_details: { price: f.price.id, product: String(f.price.product) }, type: 'price_details', unit_amount_decimal: null }
      : null,
    quantity: 1,
    quantity_decimal: null,
    subscription: f.subscription,
    subtotal: f.amount,
    taxes: [],
  };
  return {
    id: f.id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Revtrail Fake Merchant',
    account_tax_ids: null,
    amount_due: f.amount,
    amount_overpaid: 0,
    amount_paid: f.amount,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 1,
    attempted: true,
    auto_advance: false,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: f.billingReason,
    collection_method: 'charge_automatically',
    created: f.created,
    currency: f.currency,
    custom_fields: null,
    customer: f.customer.id,
    customer_account: null,
    customer_address: null,
    customer_email: f.customer.email,
    customer_name: f.customer.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: f.created,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/fake_${f.id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/fake_${f.id}/pdf`,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: [line], has_more: false, url: `/v1/invoices/${f.id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: f.number,
    on_behalf_of: null,
    parent: f.subscription
      ? {
          quote_details: null,
          subscription_details: { metadata: {}, subscription: f.subscription },
          type: 'subscription_details',
        }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: f.periodEnd,
    period_start: f.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'paid',
    status_transitions: { finalized_at: f.created, marked_uncollectible_at: null, paid_at: f.paidAt, voided_at: null },
    subtotal: f.amount,
    subtotal_excluding_tax: f.amount,
    test_clock: null,
    total: f.amount,
    total_discount_amounts: [],
    total_excluding_tax: f.amount,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: f.created,
  };
}

export interface InvoicePaymentFacts {
  id: string;
  created: number;
  invoice: string;
  amount: number;
  currency: string;
  paymentIntent: string;
  paidAt: number;
}

export function makeInvoicePayment(f: InvoicePaymentFacts): Stripe.InvoicePayment {
  return {
    id: f.id,
    object: 'invoice_payment',
    amount_paid: f.amount,
    amount_requested: f.amount,
    created: f.created,
    currency: f.currency,
    invoice: f.invoice,
    is_default: true,
    livemode: false,
    payment: { payment_intent: f.paymentIntent, type: 'payment_intent' },
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: f.paidAt },
  };
}

/** An event carries the object as it was when the event happened. */
export function snapshot<T>(object: T): T {
  return structuredClone(object);
}

export function refOf(ref: string | { id: string } | null): string | null {
  return ref === null ? null : typeof ref === 'string' ? ref : ref.id;
}
