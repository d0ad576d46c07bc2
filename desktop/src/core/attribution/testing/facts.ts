import type { Click, Identity, Pageview } from '@revtrail/shared';
import { openDatabase, type Db } from '../../db/open';
import { insertClicks, insertIdentities, insertPageviews } from '../../redirector/repo';
import {
  upsertCharges,
  upsertCustomers,
  upsertDisputes,
  upsertInvoices,
  upsertRefunds,
  upsertSubscriptions,
  type ChargeRow,
  type DisputeRow,
  type InvoiceRow,
  type RefundRow,
} from '../../stripe/repo';

// Facts for attribution tests, written through the sync's own repo functions so the rows look like synced ones.

export const factsDb = (): Db => openDatabase(':memory:');

/** A UTC instant from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'. */
export const t = (s: string): number => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : `${s}:00Z`);

/** A synced click with plain defaults (link `link`, channel Newsletter); `c` sets the rest. */
export function factClick(c: Pick<Click, 'id' | 'at' | 'visitorId'> & Partial<Click>): Click {
  return {
    slug: 'link',
    referrerHost: null,
    referrerUrl: null,
    device: 'desktop',
    browser: null,
    os: null,
    country: null,
    ipHash: null,
    clickIds: {},
    utm: {},
    bot: false,
    botReason: null,
    duplicate: false,
    channel: 'Newsletter',
    campaign: null,
    partnerId: null,
    ...c,
  };
}

export function addClick(db: Db, c: Pick<Click, 'id' | 'at' | 'visitorId'> & Partial<Click>): void {
  insertClicks(db, [factClick(c)]);
}

export function addPageview(db: Db, p: Pick<Pageview, 'id' | 'at' | 'visitorId'> & Partial<Pageview>): void {
  insertPageviews(db, [{ url: 'https://brand.com/', referrerHost: null, referrerUrl: null, clickIds: {}, utm: {}, ipHash: null, ...p }]);
}

export function addIdentity(db: Db, i: Pick<Identity, 'id' | 'visitorId' | 'emailHash'> & Partial<Identity>): void {
  insertIdentities(db, [{ at: 0, source: 'api', ...i }]);
}

export function addCustomer(db: Db, id: string, emailHash: string | null = null, createdAt = 0): void {
  upsertCustomers(db, [{ id, createdAt, emailHash }]);
}

export function addCharge(db: Db, c: Pick<ChargeRow, 'id' | 'createdAt' | 'amountMinor' | 'currency'> & Partial<ChargeRow>): void {
  upsertCharges(db, [
    {
      status: 'succeeded',
      amountCapturedMinor: c.amountMinor,
      amountRefundedMinor: 0,
      refunded: false,
      disputed: false,
      customerId: null,
      paymentIntentId: null,
      invoiceId: null,
      billingEmailHash: null,
      receiptEmailHash: null,
      visitorId: null,
      metadataJson: '{}',
      feeMinor: null,
      netMinor: null,
      settlementCurrency: null,
      exchangeRate: null,
      ...c,
    },
  ]);
}

export function addRefund(db: Db, r: Pick<RefundRow, 'id' | 'createdAt' | 'chargeId' | 'amountMinor' | 'currency'> & Partial<RefundRow>): void {
  upsertRefunds(db, [{ status: 'succeeded', reason: null, ...r }]);
}

export function addDispute(db: Db, d: Pick<DisputeRow, 'id' | 'createdAt' | 'chargeId' | 'amountMinor' | 'currency' | 'status'> & Partial<DisputeRow>): void {
  upsertDisputes(db, [{ reason: null, ...d }]);
}

export function addSubscription(db: Db, id: string, customerId: string, createdAt: number, currency = 'USD', metadata: Record<string, string> = {}): void {
  upsertSubscriptions(db, [{ id, createdAt, customerId, status: 'active', currency, canceledAt: null, metadataJson: JSON.stringify(metadata) }]);
}

export function addInvoice(db: Db, i: Pick<InvoiceRow, 'id' | 'createdAt' | 'subscriptionId' | 'billingReason' | 'amountPaidMinor' | 'currency'> & Partial<InvoiceRow>): void {
  upsertInvoices(db, [{ customerId: null, status: 'paid', totalMinor: i.amountPaidMinor, ...i }]);
}
