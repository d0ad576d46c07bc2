import { isOwnUnitCurrency } from '@revtrail/shared';
import { DIRECT, splitCredits, type AttributionModel } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import type { LedgerRowValues } from '../attribution/ledger-repo';
import type { Touchpoint } from '../attribution/touchpoints';
import type { FxConverter } from '../fx/types';
import { telegramCustomerKey, telegramPaymentFacts } from './repo';

/** A payment's credits: once for 'all' models when they agree, else per model (as ledger.ts computes them). */
type Credits = { model: AttributionModel | 'all'; shares: { touchpoint: Touchpoint | null; weight: number }[] }[];

export interface TelegramLedger {
  rows: LedgerRowValues[];
  payments: number;
  conversions: number;
  renewals: number;
  unconvertedEvents: number;
}

/**
 * The attribution ledger's rows of the bot's payments, by the rules Stripe charges follow (ledger.ts): each
 * payment credited by every model over the touchpoints of the visitors its payer's bot starts bound
 * (`telegram:<user hash>` in the touchpoints), at the payment's time and within the window; a refund attached to
 * its payment's credits on its own date. A subscription's later payments (is_recurring after the payer's first)
 * are renewals, not conversions. Amounts stay in their currency and are converted like any: Telegram Stars (XTR)
 * never are (the converter refuses them): their rows carry no converted amount and are not marked unconverted
 * (nothing is missing), and reports sum them in Stars, apart from money.
 * `charge_id` is `tg:<telegram_payment_charge_id>`, which no Stripe id can be.
 */
export function telegramLedgerRows(
  db: Db,
  opts: { touchpoints: ReadonlyMap<string, Touchpoint[]>; credit: (touchpoints: readonly Touchpoint[], at: number) => Credits; fx: FxConverter; to: string },
): TelegramLedger {
  const out: TelegramLedger = { rows: [], payments: 0, conversions: 0, renewals: 0, unconvertedEvents: 0 };
  const paid = new Map<string, { credits: Credits; renewal: boolean }>();
  const subscribed = new Set<string>();
  for (const p of telegramPaymentFacts(db)) {
    const key = telegramCustomerKey(p);
    const chargeId = `tg:${p.charge_id}`;
    let credits: Credits;
    let renewal = false;
    // Telegram dates a message to the second: the click that led to it may fall later in that same second.
    const creditAt = p.paid_at + 999;
    if (p.kind === 'payment') {
      credits = opts.credit(opts.touchpoints.get(key) ?? [], creditAt);
      renewal = p.recurring === 1 && subscribed.has(key);
      if (p.recurring === 1) subscribed.add(key);
      paid.set(chargeId, { credits, renewal });
      out.payments += 1;
      if (renewal) out.renewals += 1;
      else out.conversions += 1;
    } else {
      const payment = paid.get(chargeId);
      credits = payment?.credits ?? opts.credit(opts.touchpoints.get(key) ?? [], creditAt);
      renewal = payment?.renewal ?? false;
    }
    const amount = p.kind === 'payment' ? p.amount_minor : -p.amount_minor;
    const ownUnit = isOwnUnitCurrency(p.currency);
    const converted = ownUnit
      ? null
      : ((c) => (c.ok ? c : null))(opts.fx.convert({ amountMinor: amount, currency: p.currency, at: p.paid_at, to: opts.to }));
    if (converted === null && !ownUnit) out.unconvertedEvents += 1;
    const sourceId = p.kind === 'payment' ? chargeId : `tg-refund:${p.charge_id}`;
    for (const { model, shares } of credits) {
      const native = splitCredits(amount, shares);
      const conv = converted ? splitCredits(converted.amountMinor, shares) : null;
      shares.forEach((share, i) => {
        const tp = share.touchpoint;
        out.rows.push([
          model, p.kind === 'payment' ? 'charge' : 'refund', p.paid_at, chargeId, sourceId, key, null,
          tp?.id ?? null, tp?.kind ?? null, tp?.at ?? null, tp?.channel ?? DIRECT, tp?.slug ?? null, tp?.campaign ?? null, tp?.partnerId ?? null,
          share.weight, native[i]!, p.currency,
          conv ? conv[i]! : null, converted?.rate ?? null, converted?.rateDate ?? null, converted?.source ?? null,
          // Stars are not "unconverted": they are kept in their own unit (no converted amount), and reports sum them apart.
          converted?.provisional ? 1 : 0, converted || ownUnit ? 0 : 1,
          null, null, null,
          null, null, null, renewal ? 1 : 0, p.kind === 'payment' && !renewal ? 1 : 0,
        ]);
      });
    }
  }
  return out;
}
