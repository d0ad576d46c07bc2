import { HINTED_STRIPE_OBJECTS, type HintedStripeObject, type StripeHint } from '@revtrail/shared';
import type { StripeObjectType } from './repo';

/** The table each object a Stripe event names is kept in (its `object` field, e.g. `refund`). */
export const HINTED: Readonly<Record<HintedStripeObject, StripeObjectType>> = {
  charge: 'charges',
  refund: 'refunds',
  dispute: 'disputes',
  customer: 'customers',
  subscription: 'subscriptions',
  invoice: 'invoices',
  invoice_payment: 'invoice_payments',
};

/**
 * What a Stripe id of each object looks like (https://docs.stripe.com/api: `ch_` and `py_` charges, `re_` and
 * `pyr_` refunds, `dp_` and `du_` disputes...). A hint is read by id with the workspace's key, so an id that
 * does not look like one is never sent to Stripe: a forged webhook could otherwise steer a request's path.
 */
const ID_SHAPE: Readonly<Record<HintedStripeObject, RegExp>> = {
  charge: /^(?:ch|py)_[A-Za-z0-9]{6,250}$/,
  refund: /^(?:re|pyr)_[A-Za-z0-9]{6,250}$/,
  dispute: /^(?:dp|du)_[A-Za-z0-9]{6,250}$/,
  customer: /^cus_[A-Za-z0-9]{6,250}$/,
  subscription: /^sub_[A-Za-z0-9]{6,250}$/,
  invoice: /^in_[A-Za-z0-9]{6,250}$/,
  invoice_payment: /^inpay_[A-Za-z0-9]{6,250}$/,
};

/** The Stripe account and mode the workspace's key reads: only hints from there are read. */
export interface HintScope {
  /** The connected key's mode (rk_live_ or rk_test_). */
  mode: 'live' | 'test';
  /** Connect: the account the workspace reads (`acct_...`), or null for the key's own. */
  account: string | null;
  /**
   * Events created before this were read by the last full pull (the start of its events pass, less a margin):
   * a hint of one adds nothing. Null where no pull read events (none yet, or no Events permission).
   */
  coveredBefore: number | null;
}

export interface SortedHints {
  keep: { type: StripeObjectType; id: string }[];
  /** Hints left out, by why. */
  ignored: { otherMode: number; otherAccount: number; malformed: number; covered: number };
}

/**
 * The hints of a feed page the workspace reads. A test-mode event never makes a live workspace read (nor the
 * other way round), and an event of another Connect account is not this workspace's: reading its id with this
 * key would at best answer "no such object". Ids that do not look like a Stripe id of their type are dropped,
 * and so are events the last full pull already read as events.
 */
export function sortHints(items: readonly StripeHint[], scope: HintScope): SortedHints {
  const out: SortedHints = { keep: [], ignored: { otherMode: 0, otherAccount: 0, malformed: 0, covered: 0 } };
  for (const h of items) {
    const object = (HINTED_STRIPE_OBJECTS as readonly unknown[]).includes(h?.objectType) ? h.objectType : null;
    if (object === null || typeof h.objectId !== 'string' || !ID_SHAPE[object].test(h.objectId) || typeof h.livemode !== 'boolean') out.ignored.malformed += 1;
    else if (h.livemode !== (scope.mode === 'live')) out.ignored.otherMode += 1;
    else if ((h.account ?? null) !== scope.account) out.ignored.otherAccount += 1;
    else if (scope.coveredBefore !== null && typeof h.createdAt === 'number' && h.createdAt < scope.coveredBefore) out.ignored.covered += 1;
    else out.keep.push({ type: HINTED[object], id: h.objectId });
  }
  return out;
}

