/**
 * Data sets for the fake: `defaultSeed`, a small fixed merchant whose ids and times (relative to the
 * state's clock) are the same on every run, and `bulkSeed`, a generator for benchmarks.
 *
 * The default merchant covers what a sync must get right: charges in USD, EUR, GBP, JPY (zero-decimal)
 * and KWD (three-decimal); a customer without an email and a guest without a customer; partial, full,
 * late (a charge from last year refunded yesterday) and failed refunds; disputes won, lost and an
 * inquiry; subscriptions with a first invoice, renewals, an upgrade and a cancellation; events older
 * than 30 days (in state, not listed); a visitor id in metadata; a connected account settling in EUR.
 * The platform upgraded its API version 20 days ago, so older events carry the pre-basil shapes.
 */
import type Stripe from 'stripe';
import type { FakeStripeState } from './state';
import { seededRandom } from '@revtrail/shared';

/** Populates a fresh state. */
export type FakeStripeSeed = (state: FakeStripeState) => void;

const DAY = 86_400;
const HOUR = 3_600;

/** The platform's API version before its upgrade (pre-basil shapes). */
export const LEGACY_API_VERSION = '2024-06-20';
export const CONNECTED_ACCOUNT = 'acct_1FakeConnected000';
/** A visitor id (22 chars, base64url) carried in metadata.revtrail_vid of one charge and its PaymentIntent. */
export const SEED_VISITOR_ID = 'vQ3x9Lk2PzR7mW4tB8nC1d';

/** Handles on the default seed's objects, for tests to name what they assert. */
export interface DefaultSeed {
  customers: Record<'alice' | 'bruno' | 'chloe' | 'kenji' | 'khalid', Stripe.Customer>;
  charges: Record<
    | 'visitor'
    | 'eurPartialRefund'
    | 'gbpFullRefund'
    | 'jpy'
    | 'kwd'
    | 'failedRefund'
    | 'disputeLost'
    | 'disputeWon'
    | 'inquiry'
    | 'lastYear'
    | 'guest',
    Stripe.Charge
  >;
  subscriptions: Record<'alice' | 'bruno' | 'chloe', Stripe.Subscription>;
  connectedCharges: Stripe.Charge[];
}

export const defaultSeed: FakeStripeSeed = (state) => {
  seedDefault(state);
};

export function seedDefault(state: FakeStripeState): DefaultSeed {
  const now = state.now();
  const ago = (days: number, hours = 0) => now - days * DAY - hours * HOUR;
  const current = state.platform.defaultApiVersion;
  state.platform.setApiVersionHistory(LEGACY_API_VERSION, [{ at: ago(20), version: current }]);

  const customers = {
    alice: state.addCustomer({ email: 'alice@example.com', name: 'Alice Martin', at: ago(100) }),
    bruno: state.addCustomer({ email: 'bruno@example.de', name: 'Bruno Keller', at: ago(90) }),
    chloe: state.addCustomer({ email: 'chloe@example.co.uk', name: 'Chloe Evans', at: ago(80) }),
    kenji: state.addCustomer({ email: null, name: 'Kenji Sato', at: ago(28) }),
    khalid: state.addCustomer({ email: 'khalid@example.com.kw', name: 'Khalid Al-Sabah', at: ago(25) }),
  };

  const charge = (input: Parameters<FakeStripeState['addCharge']>[0]) => state.addCharge(input).charge;
  const charges = {
    lastYear: charge({ amount: 19_900, currency: 'usd', customer: customers.alice.id, at: ago(400), description: 'Workshop ticket' }),
    disputeLost: charge({ amount: 15_000, currency: 'usd', customer: customers.chloe.id, at: ago(60) }),
    disputeWon: charge({ amount: 9_900, currency: 'usd', customer: customers.alice.id, at: ago(40) }),
    gbpFullRefund: charge({ amount: 7_500, currency: 'gbp', customer: customers.chloe.id, at: ago(20) }),
    failedRefund: charge({ amount: 2_500, currency: 'usd', customer: customers.alice.id, at: ago(12) }),
    eurPartialRefund: charge({ amount: 10_000, currency: 'eur', customer: customers.bruno.id, at: ago(10) }),
    inquiry: charge({ amount: 3_000, currency: 'usd', customer: customers.khalid.id, at: ago(8) }),
    // Kenji has no email on his customer; only the receipt address names him.
    jpy: charge({
      amount: 5_000,
      currency: 'jpy',
      customer: customers.kenji.id,
      billingEmail: null,
      receiptEmail: 'kenji@example.jp',
      at: ago(5),
    }),
    kwd: charge({ amount: 12_345, currency: 'kwd', customer: customers.khalid.id, at: ago(3) }),
    visitor: charge({
      amount: 4_900,
      currency: 'usd',
      customer: customers.alice.id,
      at: ago(2),
      description: 'Course: Pricing Pages',
      metadata: { revtrail_vid: SEED_VISITOR_ID },
    }),
    guest: charge({ amount: 2_000, currency: 'usd', billingEmail: 'guest@example.org', receiptEmail: 'guest@example.org', at: ago(1) }),
  };

  state.refund(charges.eurPartialRefund.id, 2_500, { at: ago(9) });
  state.refund(charges.gbpFullRefund.id, 7_500, { at: ago(18), reason: 'duplicate' });
  state.refund(charges.failedRefund.id, 2_500, { at: ago(11), status: 'failed', failedAt: ago(6) });
  state.refund(charges.lastYear.id, 5_000, { at: ago(1) });

  const lost = state.openDispute(charges.disputeLost.id, { at: ago(45), reason: 'fraudulent' });
  state.closeDispute(lost.id, 'lost', { at: ago(20) });
  const won = state.openDispute(charges.disputeWon.id, { at: ago(35), reason: 'product_not_received' });
  state.closeDispute(won.id, 'won', { at: ago(10) });
  state.openDispute(charges.inquiry.id, { at: ago(2), status: 'warning_needs_response', reason: 'general' });

  const alice = state.addSubscription(
    customers.alice.id,
    { unitAmount: 2_900, currency: 'usd', interval: 'month', nickname: 'Starter' },
    { at: ago(75) },
  ).subscription;
  state.renewSubscription(alice.id);
  state.renewSubscription(alice.id);
  state.changeSubscriptionPrice(alice.id, { unitAmount: 4_900, nickname: 'Pro' }, { at: ago(10) });

  const bruno = state.addSubscription(
    customers.bruno.id,
    { unitAmount: 1_900, currency: 'eur', interval: 'month', nickname: 'Starter EU' },
    { at: ago(50) },
  ).subscription;
  state.renewSubscription(bruno.id);
  state.cancelSubscription(bruno.id, { at: ago(5) });

  const chloe = state.addSubscription(
    customers.chloe.id,
    { unitAmount: 9_900, currency: 'gbp', interval: 'year', nickname: 'Annual' },
    { at: ago(25) },
  ).subscription;

  state.addConnectedAccount(CONNECTED_ACCOUNT, { settlementCurrency: 'eur', country: 'DE', apiVersion: current });
  const lena = state.addCustomer({ account: CONNECTED_ACCOUNT, email: 'lena@example.at', name: 'Lena Huber', at: ago(7) });
  const connectedCharges = [
    state.addCharge({ account: CONNECTED_ACCOUNT, amount: 4_500, currency: 'usd', customer: lena.id, at: ago(6) }).charge,
    state.addCharge({ account: CONNECTED_ACCOUNT, amount: 3_000, currency: 'eur', customer: lena.id, at: ago(4) }).charge,
  ];

  return { customers, charges, subscriptions: { alice, bruno, chloe }, connectedCharges };
}

export interface BulkOptions {
  charges: number;
  customers?: number;
  /** Days the charges spread over, ending now. */
  spanDays?: number;
  /** Every n-th charge gets a partial refund (0: none). */
  refundEvery?: number;
  /** Every n-th charge gets a dispute (0: none). */
  disputeEvery?: number;
  /** Emit charge.succeeded events (costly at scale; off by default). Refunds and disputes always emit theirs. */
  events?: boolean;
  account?: string;
}

/** Deterministic generated data for benchmarks: one sync-sized merchant, built in time order. */
export function bulkSeed(options: BulkOptions): FakeStripeSeed {
  return (state) => {
    const random = seededRandom(0x5eed);
    const now = state.now();
    const span = (options.spanDays ?? 365) * DAY;
    const customerIds: string[] = [];
    for (let i = 0; i < (options.customers ?? 1_000); i++) {
      const at = now - span - DAY + i;
      customerIds.push(state.addCustomer({ account: options.account, email: `buyer${i}@example.com`, name: null, at }).id);
    }
    const refundEvery = options.refundEvery ?? 20;
    const disputeEvery = options.disputeEvery ?? 200;
    for (let i = 0; i < options.charges; i++) {
      const at = now - span + Math.floor((i * span) / options.charges);
      const currency = pickCurrency(random());
      const { charge } = state.addCharge({
        account: options.account,
        at,
        currency: currency.code,
        amount: currency.amount(random()),
        customer: customerIds.length > 0 ? customerIds[Math.floor(random() * customerIds.length)] : null,
        events: options.events ?? false,
      });
      if (refundEvery > 0 && i % refundEvery === refundEvery - 1) {
        state.refund(charge.id, Math.max(1, Math.floor(charge.amount / 2)), { account: options.account, at: at + HOUR });
      }
      if (disputeEvery > 0 && i % disputeEvery === 0 && charge.amount_refunded === 0) {
        state.openDispute(charge.id, { account: options.account, at: at + DAY });
      }
    }
  };
}

function pickCurrency(r: number): { code: string; amount: (r: number) => number } {
  if (r < 0.7) return { code: 'usd', amount: (x) => 500 + Math.floor(x * 49_500) };
  if (r < 0.85) return { code: 'eur', amount: (x) => 500 + Math.floor(x * 29_500) };
  if (r < 0.93) return { code: 'gbp', amount: (x) => 500 + Math.floor(x * 19_500) };
  if (r < 0.98) return { code: 'jpy', amount: (x) => 500 + Math.floor(x * 49_500) };
  return { code: 'kwd', amount: (x) => 1_000 + Math.floor(x * 99_000) };
}

