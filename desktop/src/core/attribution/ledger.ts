import { DAY_MS, systemClock, type Clock } from '@revtrail/shared';
import { ATTRIBUTION_MODELS, DIRECT, channelGrouper, inWindow, modelCredits, splitCredits, type AttributionModel } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import type { FxConverter } from '../fx/types';
import {
  chargeFactPages,
  clearLedger,
  disputeFactsOf,
  insertLedgerRow,
  recordBuild,
  recordDisputesSeen,
  refundFactsOf,
  subscriptionCharges,
  type ChargeFact,
  type DisputeFact,
  type LedgerRowValues,
  type RefundFact,
  type SubscriptionCharge,
} from './ledger-repo';
import { telegramLedgerRows } from '../telegram/ledger';
import { getSettings, type AttributionSettings } from './settings-repo';
import { touchpointsFromRows, type Touchpoint } from './touchpoints';
import { allBoundTouchRows, bindAllCustomers, unbindAllCustomers, type TouchRow } from './touchpoints-repo';

/** The credit of one touchpoint, or of Direct (`touchpoint` null), in one model. */
interface Share {
  touchpoint: Touchpoint | null;
  weight: number;
}

/** A charge's credits: once for 'all' models when they agree, else once per model. */
type Credits = { model: AttributionModel | 'all'; shares: Share[] }[];

export interface RebuildResult {
  rows: number;
  charges: number;
  /** Charges credited through touchpoints (one-off and first subscription payments). */
  conversions: number;
  /** Renewals, upgrades and downgrades that inherited their subscription's first payment. */
  renewals: number;
  /** Money events (a charge, a refund, a dispute step) whose currency could not be converted. */
  unconvertedEvents: number;
  tookMs: number;
}

/** Disputes that are only inquiries (warning_*) or were prevented move no money. */
const OPEN_DISPUTE = new Set(['needs_response', 'under_review']);
/**
 * Charges read and credited at a time, with their refunds and disputes: the rebuild holds one page of them,
 * whatever the number of charges, instead of all of them (about 1 KB of heap each: 105,000 charges held 110 MB).
 * Measured on 105,000 charges: pages of 500 to 2,000 took the same time and heap; 5,000 grew the heap by 65 MB
 * more, 20,000 by 110 MB more.
 */
export const CHARGE_PAGE = 1_000;

/**
 * Rebuilds the attribution ledger from the facts: every succeeded charge credited under every model,
 * with its refunds and disputes as rows of their own dates attached to the same credits, each converted
 * into the reporting currency. A subscription's later payments (billing_reason subscription_cycle,
 * subscription_update, ...) take the credits of its first payment (subscription_create), however long ago.
 * Set-based reads (the visitor binding happens in SQL, then one stream of touchpoints), the charges then read a
 * page at a time in their order with their refunds and disputes, all in one transaction that replaces the
 * derived table wholesale, so readers see either the old ledger or the new one. The same facts and settings give
 * the same rows. Memory: the touchpoints of bound customers, one page of charges and the credits of
 * subscriptions' first payments, never every charge.
 */
export function rebuildAttribution(db: Db, fx: FxConverter, settings?: AttributionSettings, opts: { clock?: Clock; pageSize?: number } = {}): RebuildResult {
  const clock = opts.clock ?? systemClock;
  const started = performance.now();
  const s = settings ?? getSettings(db);
  const windowMs = s.windowDays * DAY_MS;

  return db.transaction(() => {
    recordDisputesSeen(db, clock.now());
    const touchpoints = loadTouchpoints(db, s);
    const firstPayment = firstPayments(subscriptionCharges(db));
    // Only these charges' credits are asked for again (by their subscriptions' later payments).
    const firsts = new Set(firstPayment.values());
    const creditsOfFirst = new Map<string, Credits>();

    clearLedger(db);
    let charges = 0;
    let renewals = 0;
    let unconvertedEvents = 0;
    let total = 0;
    // Each row written as it is made: rows held back in a batch outlive V8's young-generation collections and
    // fill the old generation until a full one (10,000 held: 115 MB more heap over 105,000 charges), and
    // better-sqlite3 runs an insert per row either way.
    const write = (row: LedgerRowValues) => {
      insertLedgerRow(db, row);
      total += 1;
    };

    for (const { ch, refunds, disputes } of chargesWithMoney(db, opts.pageSize ?? CHARGE_PAGE)) {
      charges += 1;
      const first = ch.subscription_id ? firstPayment.get(ch.subscription_id) : undefined;
      const inherited = first !== undefined && first !== ch.id ? creditsOfFirst.get(first) : undefined;
      const credits = inherited ?? creditsFor(touchpoints.get(ch.customer_key) ?? [], ch.created_at, windowMs);
      if (firsts.has(ch.id)) creditsOfFirst.set(ch.id, credits);
      const renewal = inherited !== undefined;
      if (renewal) renewals += 1;

      const events = moneyEvents(ch, refunds, disputes);
      for (const ev of events) {
        const converted = fx.convert({ amountMinor: ev.amountMinor, currency: ch.currency, at: ev.at, to: s.currency, stripe: stripeRate(ch) });
        const fee = ev.kind === 'charge' ? chargeFee(ch, fx, s.currency) : null;
        if (!converted.ok) unconvertedEvents += 1;
        for (const { model, shares: list } of credits) {
          const native = split(ev.amountMinor, list);
          const conv = converted.ok ? split(converted.amountMinor, list) : null;
          const fees = fee ? split(fee.amountMinor, list) : null;
          const feesConv = fee && fee.convertedMinor !== null ? split(fee.convertedMinor, list) : null;
          list.forEach((share, i) => {
            const tp = share.touchpoint;
            write([
              model, ev.kind, ev.at, ch.id, ev.sourceId, ch.customer_key, ch.customer_id,
              tp?.id ?? null, tp?.kind ?? null, tp?.at ?? null, tp?.channel ?? DIRECT, tp?.slug ?? null, tp?.campaign ?? null, tp?.partnerId ?? null,
              share.weight, native[i]!, ch.currency,
              conv ? conv[i]! : null, converted.ok ? converted.rate : null, converted.ok ? converted.rateDate : null, converted.ok ? converted.source : null,
              converted.ok && converted.provisional ? 1 : 0, converted.ok ? 0 : 1,
              fees ? fees[i]! : null, fee?.currency ?? null, feesConv ? feesConv[i]! : null,
              ch.subscription_id, ch.invoice_id, ch.billing_reason, renewal ? 1 : 0, ev.kind === 'charge' && !renewal ? 1 : 0,
            ]);
          });
        }
      }
    }
    // The Telegram bot's payments, by the same rules (core/telegram/ledger.ts).
    const telegram = telegramLedgerRows(db, { touchpoints, credit: (tps, at) => creditsFor(tps, at, windowMs), fx, to: s.currency });
    for (const row of telegram.rows) write(row);
    const tookMs = Math.round(performance.now() - started);
    recordBuild(db, { builtAt: clock.now(), windowDays: s.windowDays, currency: s.currency, rows: total, tookMs });
    return {
      rows: total,
      charges: charges + telegram.payments,
      conversions: charges - renewals + telegram.conversions,
      renewals: renewals + telegram.renewals,
      unconvertedEvents: unconvertedEvents + telegram.unconvertedEvents,
      tookMs,
    };
  })();
}

/**
 * Every bound customer's touchpoints (all time), by customer key. The rows come one customer after another and
 * each customer's are turned into touchpoints once read: holding every customer's rows first (1.2 KB each, with
 * their JSON) took 185 MB for 154,000 rows, their touchpoints 45 MB.
 */
function loadTouchpoints(db: Db, s: AttributionSettings): Map<string, Touchpoint[]> {
  const group = channelGrouper(s.channelRules);
  const out = new Map<string, Touchpoint[]>();
  bindAllCustomers(db);
  try {
    let key: string | null = null;
    let rows: TouchRow[] = [];
    const done = () => {
      if (key !== null) out.set(key, touchpointsFromRows(rows, group, 0));
    };
    for (const row of allBoundTouchRows(db, Number.MAX_SAFE_INTEGER)) {
      if (row.customer_key !== key) {
        done();
        key = row.customer_key;
        rows = [];
      }
      rows.push(row);
    }
    done();
  } finally {
    unbindAllCustomers(db);
  }
  return out;
}

/** No touchpoint in the window: Direct under every model. One object for every such charge (it is only read). */
const DIRECT_ONLY: Credits = [{ model: 'all', shares: [{ touchpoint: null, weight: 1 }] }];

function creditsFor(touchpoints: readonly Touchpoint[], at: number, windowMs: number): Credits {
  const windowed = inWindow(touchpoints, at, windowMs);
  if (windowed.length === 0) return DIRECT_ONLY;
  const out: Credits = ATTRIBUTION_MODELS.map((model) => {
    const credits = modelCredits(model, windowed);
    return { model, shares: credits.length > 0 ? credits : [{ touchpoint: null, weight: 1 }] };
  });
  const first = out[0]!.shares;
  const same = out.every(({ shares }) => shares.length === first.length && shares.every((x, i) => x.touchpoint?.id === first[i]!.touchpoint?.id && x.weight === first[i]!.weight));
  return same ? [{ model: 'all', shares: first }] : out;
}

/**
 * splitCredits, skipped for the one share most charges have (Direct, or a single touchpoint): that share is the
 * whole amount, as splitCredits gives it (-0, a dispute of nothing taken back, as 0). Its arrays and sort were a
 * quarter of what a rebuild allocated.
 */
const split = (amountMinor: number, shares: readonly Share[]): number[] =>
  shares.length === 1 && Number.isSafeInteger(amountMinor) ? [amountMinor === 0 ? 0 : amountMinor] : splitCredits(amountMinor, shares);

/**
 * The charge that pays a subscription's first invoice (billing_reason subscription_create), or the
 * subscription's earliest charge when that invoice is not here: every later payment inherits its credits.
 */
function firstPayments(charges: Iterable<SubscriptionCharge>): Map<string, string> {
  const first = new Map<string, string>();
  const created = new Set<string>();
  for (const ch of charges) {
    if (!ch.subscription_id) continue;
    const isCreate = ch.billing_reason === 'subscription_create';
    if (!first.has(ch.subscription_id) || (isCreate && !created.has(ch.subscription_id))) {
      first.set(ch.subscription_id, ch.id);
      if (isCreate) created.add(ch.subscription_id);
    }
  }
  return first;
}

interface MoneyEvent {
  kind: 'charge' | 'refund' | 'dispute_opened' | 'dispute_reinstated' | 'dispute_lost';
  at: number;
  sourceId: string;
  /** Signed: money in is positive, money taken back negative. */
  amountMinor: number;
}

/**
 * The charge, its refunds (partial ones too) and its disputes as dated events. An opened dispute takes
 * its amount back provisionally; won gives it back; lost moves nothing more but makes the reversal final.
 * The outcome's date is when a sync first saw it, unless the dispute was first seen already closed (then
 * nothing is known of its course and the outcome is dated at its opening).
 */
function moneyEvents(ch: ChargeFact, refunds: readonly { id: string; created_at: number; amount_minor: number }[], disputes: readonly DisputeFact[]): MoneyEvent[] {
  const events: MoneyEvent[] = [{ kind: 'charge', at: ch.created_at, sourceId: ch.id, amountMinor: ch.amount_minor }];
  for (const r of refunds) events.push({ kind: 'refund', at: r.created_at, sourceId: r.id, amountMinor: -r.amount_minor });
  for (const d of disputes) {
    const closed = d.status === 'won' || d.status === 'lost';
    if (!closed && !OPEN_DISPUTE.has(d.status)) continue;
    events.push({ kind: 'dispute_opened', at: d.created_at, sourceId: d.id, amountMinor: -d.amount_minor });
    if (!closed) continue;
    const seenOpenFirst = d.status_seen_at !== null && d.first_seen_at !== null && d.first_seen_at < d.status_seen_at;
    const at = seenOpenFirst ? Math.max(d.status_seen_at!, d.created_at) : d.created_at;
    events.push(d.status === 'won' ? { kind: 'dispute_reinstated', at, sourceId: d.id, amountMinor: d.amount_minor } : { kind: 'dispute_lost', at, sourceId: d.id, amountMinor: 0 });
  }
  return events;
}

const stripeRate = (ch: ChargeFact) => ({ exchangeRate: ch.exchange_rate, settlementCurrency: ch.settlement_currency });

/** Stripe's fee on the charge, in its settlement currency and converted (null when not convertible). */
function chargeFee(ch: ChargeFact, fx: FxConverter, to: string): { amountMinor: number; currency: string; convertedMinor: number | null } | null {
  if (ch.fee_minor === null || ch.settlement_currency === null) return null;
  const c = fx.convert({ amountMinor: ch.fee_minor, currency: ch.settlement_currency, at: ch.created_at, to });
  return { amountMinor: ch.fee_minor, currency: ch.settlement_currency, convertedMinor: c.ok ? c.amountMinor : null };
}

/** The credited charges in their order, each with its refunds and disputes, read a page at a time (CHARGE_PAGE). */
function* chargesWithMoney(db: Db, pageSize: number): Generator<{ ch: ChargeFact; refunds: RefundFact[]; disputes: DisputeFact[] }> {
  for (const page of chargeFactPages(db, pageSize)) {
    const ids = page.map((ch) => ch.id);
    const refunds = groupBy(refundFactsOf(db, ids), (r) => r.charge_id);
    const disputes = groupBy(disputeFactsOf(db, ids), (d) => d.charge_id);
    for (const ch of page) yield { ch, refunds: refunds.get(ch.id) ?? [], disputes: disputes.get(ch.id) ?? [] };
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
