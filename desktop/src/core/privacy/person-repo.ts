import { settleClickDays } from '../attribution/click-days';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';
import { eraseMetaOf } from '../meta/repo';
import { erasedCheck, markErased, tombstoneId } from './erased-repo';
import { scrubCharge } from './scrub';

// SQL for one person's rows: which identifiers belong together, every row they name, and their erasure.

/** The identifiers of one person: those given, and those the data links to them. */
export interface PersonIds {
  visitors: Set<string>;
  emails: Set<string>;
  customers: Set<string>;
  /** Keyed hashes of Telegram user ids. */
  telegrams: Set<string>;
}

/** What is held locally about a person, table by table, in the order an export lists it. */
export const PERSON_TABLES = [
  'clicks',
  'pageviews',
  'identities',
  'stripe_customers',
  'stripe_charges',
  'stripe_refunds',
  'stripe_disputes',
  'stripe_subscriptions',
  'stripe_invoices',
  'stripe_invoice_payments',
  'attribution_ledger',
  'affiliate_bindings',
  'affiliate_lines',
  'meta_events',
  'meta_click_agents',
  'meta_browser_ids',
  'telegram_starts',
  'telegram_payments',
] as const;
export type PersonTable = (typeof PERSON_TABLES)[number];
export type PersonRows = Record<PersonTable, Record<string, unknown>[]>;

const IN = (param: string) => `(SELECT value FROM json_each(@${param}))`;
/** The bot starts that bound one of the visitors: named by the redirector, or found by their click's token digest. */
const STARTS_OF_VISITORS = `SELECT * FROM telegram_starts WHERE visitor_id IN ${IN('visitors')}
  OR token_digest IN (SELECT telegram_start FROM clicks WHERE visitor_id IN ${IN('visitors')} AND telegram_start IS NOT NULL)`;

const stmts = statementsPerDb((db: Db) => {
  const links = {
    visitorsOfEmails: db.prepare(`SELECT DISTINCT visitor_id AS v FROM identities WHERE email_hash IN ${IN('emails')}`).pluck(),
    emailsOfVisitors: db.prepare(`SELECT DISTINCT email_hash AS v FROM identities WHERE visitor_id IN ${IN('visitors')}`).pluck(),
    customersOfEmails: db.prepare(`SELECT id AS v FROM stripe_customers WHERE email_hash IN ${IN('emails')}`).pluck(),
    emailsOfCustomers: db.prepare(`SELECT email_hash AS v FROM stripe_customers WHERE id IN ${IN('customers')} AND email_hash IS NOT NULL`).pluck(),
    // A Telegram user's bot starts bound visitors: the one the redirector named, or the click with the token's digest.
    visitorsOfTelegrams: db
      .prepare(
        `SELECT st.visitor_id AS v FROM telegram_starts st WHERE st.user_hash IN ${IN('telegrams')} AND st.visitor_id IS NOT NULL
         UNION SELECT c.visitor_id FROM telegram_starts st JOIN clicks c ON c.telegram_start = st.token_digest
           WHERE st.user_hash IN ${IN('telegrams')} AND c.visitor_id IS NOT NULL`,
      )
      .pluck(),
    telegramsOfVisitors: db.prepare(`SELECT user_hash AS v FROM (${STARTS_OF_VISITORS})`).pluck(),
    charges: db.prepare<{ visitors: string; emails: string; customers: string }, { customer_id: string | null; email_hash: string | null; visitor_id: string | null }>(
      `SELECT customer_id, email_hash, visitor_id FROM stripe_charges
       WHERE customer_id IN ${IN('customers')} OR email_hash IN ${IN('emails')} OR visitor_id IN ${IN('visitors')}`,
    ),
  };
  const charges = `SELECT id FROM stripe_charges WHERE customer_id IN ${IN('customers')} OR email_hash IN ${IN('emails')} OR visitor_id IN ${IN('visitors')}`;
  const touchpoints = `SELECT id FROM clicks WHERE visitor_id IN ${IN('visitors')} UNION ALL SELECT id FROM pageviews WHERE visitor_id IN ${IN('visitors')}`;
  const rows: Record<PersonTable, string> = {
    clicks: `SELECT * FROM clicks WHERE visitor_id IN ${IN('visitors')} ORDER BY at, id`,
    pageviews: `SELECT * FROM pageviews WHERE visitor_id IN ${IN('visitors')} ORDER BY at, id`,
    identities: `SELECT * FROM identities WHERE visitor_id IN ${IN('visitors')} OR email_hash IN ${IN('emails')} ORDER BY at, id`,
    stripe_customers: `SELECT * FROM stripe_customers WHERE id IN ${IN('customers')} ORDER BY created_at, id`,
    stripe_charges: `SELECT * FROM stripe_charges WHERE id IN (${charges}) ORDER BY created_at, id`,
    stripe_refunds: `SELECT * FROM stripe_refunds WHERE charge_id IN (${charges}) ORDER BY created_at, id`,
    stripe_disputes: `SELECT * FROM stripe_disputes WHERE charge_id IN (${charges}) ORDER BY created_at, id`,
    stripe_subscriptions: `SELECT * FROM stripe_subscriptions WHERE customer_id IN ${IN('customers')} ORDER BY created_at, id`,
    stripe_invoices: `SELECT * FROM stripe_invoices WHERE customer_id IN ${IN('customers')}
      OR subscription_id IN (SELECT id FROM stripe_subscriptions WHERE customer_id IN ${IN('customers')}) ORDER BY created_at, id`,
    stripe_invoice_payments: `SELECT * FROM stripe_invoice_payments WHERE charge_id IN (${charges})
      OR payment_intent_id IN (SELECT payment_intent_id FROM stripe_charges WHERE id IN (${charges})) ORDER BY created_at, id`,
    attribution_ledger: `SELECT * FROM attribution_ledger WHERE charge_id IN (${charges})
      OR customer_key IN (SELECT 'telegram:' || value FROM json_each(@telegrams)) ORDER BY at, id`,
    affiliate_bindings: `SELECT * FROM affiliate_bindings WHERE customer_key IN ${IN('keys')} OR visitor_id IN ${IN('visitors')} OR touchpoint_id IN (${touchpoints})`,
    affiliate_lines: `SELECT * FROM affiliate_lines WHERE customer_key IN ${IN('keys')} OR charge_id IN (${charges}) OR touchpoint_id IN (${touchpoints}) ORDER BY occurred_at, id`,
    meta_events: `SELECT * FROM meta_events WHERE charge_id IN (${charges}) OR EXISTS (SELECT 1 FROM json_each(visitor_ids_json) WHERE value IN ${IN('visitors')}) ORDER BY queued_at, event_id`,
    meta_click_agents: `SELECT * FROM meta_click_agents WHERE visitor_id IN ${IN('visitors')} ORDER BY at, click_id`,
    meta_browser_ids: `SELECT * FROM meta_browser_ids WHERE visitor_id IN ${IN('visitors')} ORDER BY at, pageview_id`,
    telegram_starts: `SELECT * FROM telegram_starts WHERE user_hash IN ${IN('telegrams')} UNION SELECT * FROM (${STARTS_OF_VISITORS}) ORDER BY started_at, id`,
    telegram_payments: `SELECT * FROM telegram_payments WHERE user_hash IN ${IN('telegrams')} ORDER BY paid_at, id`,
  };
  return {
    links,
    rows: Object.fromEntries(Object.entries(rows).map(([t, sql]) => [t, db.prepare(sql)])) as Record<PersonTable, ReturnType<Db['prepare']>>,
    touchpoints: db.prepare(touchpoints).pluck(),
    chargesOf: db.prepare<Record<string, string>, { id: string; customer_id: string | null; email_hash: string | null; visitor_id: string | null; metadata_json: string }>(
      `SELECT id, customer_id, email_hash, visitor_id, metadata_json FROM stripe_charges WHERE id IN (${charges})`,
    ),
    erase: {
      clicks: db.prepare(`DELETE FROM clicks WHERE visitor_id IN ${IN('visitors')}`),
      pageviews: db.prepare(`DELETE FROM pageviews WHERE visitor_id IN ${IN('visitors')}`),
      identities: db.prepare(`DELETE FROM identities WHERE visitor_id IN ${IN('visitors')} OR email_hash IN ${IN('emails')}`),
      customers: db.prepare(`DELETE FROM stripe_customers WHERE id IN ${IN('customers')}`),
      hints: db.prepare(`DELETE FROM stripe_hints WHERE object_type = 'customers' AND id IN ${IN('customers')}`),
      // A list pass paused on an erased customer starts again from the top (the upserts make that harmless).
      checkpoints: db.prepare(`UPDATE stripe_checkpoints SET pass_top = NULL, pass_after = NULL WHERE pass_after IN ${IN('customers')}`),
      // Before clicks go: the starts found by their click's token digest need the clicks to be found.
      telegramStarts: db.prepare(`DELETE FROM telegram_starts WHERE user_hash IN ${IN('telegrams')} OR id IN (SELECT id FROM (${STARTS_OF_VISITORS}))`),
      // The money stays (the merchant's record), without the payer.
      telegramPayments: db.prepare(`UPDATE telegram_payments SET user_hash = NULL WHERE user_hash IN ${IN('telegrams')}`),
    },
    charge: db.prepare(`UPDATE stripe_charges SET customer_id = @customerId, email_hash = @emailHash, visitor_id = @visitorId, metadata_json = @metadataJson WHERE id = @id`),
    subscription: db.prepare(`UPDATE stripe_subscriptions SET customer_id = @to, metadata_json = '{}' WHERE customer_id = @from`),
    invoice: db.prepare(`UPDATE stripe_invoices SET customer_id = @to WHERE customer_id = @from`),
    binding: db.prepare(`UPDATE affiliate_bindings SET customer_key = @to WHERE customer_key = @from`),
    bindingTouch: db.prepare(`UPDATE affiliate_bindings SET touchpoint_id = 'erased', visitor_id = NULL WHERE visitor_id IN ${IN('visitors')} OR touchpoint_id IN ${IN('touchpoints')}`),
    line: db.prepare(`UPDATE affiliate_lines SET customer_key = @to WHERE customer_key = @from`),
    lineTouch: db.prepare(`UPDATE affiliate_lines SET touchpoint_id = NULL WHERE touchpoint_id IN ${IN('touchpoints')}`),
  };
});

const params = (ids: PersonIds) => ({
  visitors: JSON.stringify([...ids.visitors]),
  emails: JSON.stringify([...ids.emails]),
  customers: JSON.stringify([...ids.customers]),
  telegrams: JSON.stringify([...ids.telegrams]),
  keys: JSON.stringify(customerKeys(ids)),
});

/** How attribution and commissions key this person (touchpoints-repo.ts CUSTOMER_KEY_SQL). */
const customerKeys = (ids: PersonIds) => [...ids.customers, ...[...ids.emails].map((e) => `email:${e}`)];

/**
 * Follows the links between identifiers until nothing new turns up: the visitors an email was identified on,
 * the emails those visitors gave, the Stripe customers of those emails, and whatever a charge of theirs names
 * (its customer, billing email, the visitor id passed in metadata). The redirector erases the visitors bound to
 * an email the same way.
 */
export function linkIdentifiers(db: Db, start: PersonIds): PersonIds {
  const s = stmts(db).links;
  const ids: PersonIds = { visitors: new Set(start.visitors), emails: new Set(start.emails), customers: new Set(start.customers), telegrams: new Set(start.telegrams) };
  const add = (set: Set<string>, values: unknown[]) => {
    let added = 0;
    for (const v of values) if (typeof v === 'string' && v.length > 0 && !set.has(v) && (set.add(v), true)) added += 1;
    return added;
  };
  for (let round = 0; round < 20; round++) {
    const p = params(ids);
    let added = add(ids.visitors, s.visitorsOfEmails.all(p));
    added += add(ids.emails, s.emailsOfVisitors.all(p));
    added += add(ids.customers, s.customersOfEmails.all(p));
    added += add(ids.emails, s.emailsOfCustomers.all(p));
    added += add(ids.visitors, s.visitorsOfTelegrams.all(p));
    added += add(ids.telegrams, s.telegramsOfVisitors.all(p));
    for (const c of s.charges.all(p)) {
      added += add(ids.customers, [c.customer_id]) + add(ids.emails, [c.email_hash]) + add(ids.visitors, [c.visitor_id]);
    }
    if (added === 0) break;
  }
  return ids;
}

/** Every local row that names the person (or is one of their payments), table by table. */
export function personRows(db: Db, ids: PersonIds): PersonRows {
  const s = stmts(db);
  const p = params(ids);
  return Object.fromEntries(PERSON_TABLES.map((t) => [t, s.rows[t].all(p) as Record<string, unknown>[]])) as PersonRows;
}

export type ErasedCounts = Record<
  | 'clicks'
  | 'pageviews'
  | 'identities'
  | 'stripe_customers'
  | 'telegram_starts'
  | 'charges_anonymised'
  | 'subscriptions_anonymised'
  | 'invoices_anonymised'
  | 'commission_lines_anonymised'
  | 'telegram_payments_anonymised',
  number
>;

/**
 * Erases a person here, in one transaction: the identifiers are recorded as erased (digests) first, so a pull
 * writing at the same time refuses them; events, identities and customers are deleted; the money rows stay, with
 * the person replaced by a tombstone id exactly as a later Stripe pull would scrub them (scrub.ts); commission
 * lines and bindings keep their amounts under the same tombstone. The attribution ledger is derived: the caller
 * rebuilds it.
 */
export function erasePerson(db: Db, ids: PersonIds, at: number): ErasedCounts {
  const s = stmts(db);
  return db.transaction(() => {
    for (const v of ids.visitors) markErased(db, 'visitor', v, at);
    for (const e of ids.emails) markErased(db, 'email', e, at);
    for (const c of ids.customers) markErased(db, 'customer', c, at);
    for (const t of ids.telegrams) markErased(db, 'telegram', t, at);
    const erased = erasedCheck(db);
    const p = params(ids);
    const touchpoints = JSON.stringify(s.touchpoints.all(p));
    const counts: ErasedCounts = {
      clicks: 0,
      pageviews: 0,
      identities: 0,
      stripe_customers: 0,
      telegram_starts: 0,
      charges_anonymised: 0,
      subscriptions_anonymised: 0,
      invoices_anonymised: 0,
      commission_lines_anonymised: 0,
      telegram_payments_anonymised: 0,
    };
    const charges = s.chargesOf.all(p);
    // What Meta forwarding kept of the person: its events (journey visitors, charges), user agents, browser ids.
    eraseMetaOf(db, { visitors: ids.visitors, charges: charges.map((ch) => ch.id) });
    for (const ch of charges) {
      const scrubbed = scrubCharge(
        { customerId: ch.customer_id, billingEmailHash: ch.email_hash, receiptEmailHash: null, visitorId: ch.visitor_id, metadataJson: ch.metadata_json },
        erased,
      );
      s.charge.run({ id: ch.id, customerId: scrubbed.customerId, emailHash: scrubbed.billingEmailHash, visitorId: scrubbed.visitorId, metadataJson: scrubbed.metadataJson });
      counts.charges_anonymised += 1;
    }
    const renames = [
      ...[...ids.customers].map((c) => ({ from: c, to: tombstoneId('customer', c) })),
      ...[...ids.emails].map((e) => ({ from: `email:${e}`, to: tombstoneId('email', e) })),
    ];
    for (const r of renames) {
      counts.subscriptions_anonymised += s.subscription.run(r).changes;
      counts.invoices_anonymised += s.invoice.run(r).changes;
      s.binding.run(r);
      counts.commission_lines_anonymised += s.line.run(r).changes;
    }
    s.bindingTouch.run({ ...p, touchpoints });
    s.lineTouch.run({ touchpoints });
    counts.telegram_starts = s.erase.telegramStarts.run(p).changes;
    counts.telegram_payments_anonymised = s.erase.telegramPayments.run(p).changes;
    counts.clicks = s.erase.clicks.run(p).changes;
    settleClickDays(db);
    counts.pageviews = s.erase.pageviews.run(p).changes;
    counts.identities = s.erase.identities.run(p).changes;
    counts.stripe_customers = s.erase.customers.run(p).changes;
    s.erase.hints.run(p);
    s.erase.checkpoints.run(p);
    return counts;
  })();
}
