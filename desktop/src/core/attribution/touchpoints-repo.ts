import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

// SQL that finds the visitors bound to a customer and their touchpoints, for one customer (lookups) and for
// every customer at once (the ledger rebuild, set-based into temp tables, then one ordered stream).

/** A click or a pageview as the touchpoint logic reads it (pageviews have no link, so no channel yet). */
export interface TouchRow {
  kind: 'click' | 'pageview';
  id: string;
  at: number;
  visitor_id: string;
  channel: string | null;
  slug: string | null;
  campaign: string | null;
  partner_id: string | null;
  referrer_host: string | null;
  click_ids_json: string;
  utm_json: string;
}

const CLICK_COLUMNS = `'click' AS kind, c.id, c.at, c.visitor_id, c.channel, c.slug, c.campaign, c.partner_id, c.referrer_host, c.click_ids_json, c.utm_json`;
const PAGEVIEW_COLUMNS = `'pageview' AS kind, p.id, p.at, p.visitor_id, NULL AS channel, NULL AS slug, NULL AS campaign, NULL AS partner_id, p.referrer_host, p.click_ids_json, p.utm_json`;
/** Pageviews count only when they carry a source: an ad click id or UTM parameters. */
const PAGEVIEW_HAS_SOURCE = `(p.click_ids_json <> '{}' OR p.utm_json <> '{}')`;

/** The customer key of a charge: its Stripe customer, else its email hash, else the charge itself. */
export const CUSTOMER_KEY_SQL = (t: string) => `COALESCE(${t}.customer_id, 'email:' || ${t}.email_hash, 'charge:' || ${t}.id)`;

const single = statementsPerDb((db: Db) => ({
  // The strongest joins first: visitor ids the merchant passed into Stripe (the charge's visitor_id holds
  // client_reference_id or revtrail_vid metadata; a subscription's metadata may carry it too).
  directVisitors: db.prepare<{ customerId: string | null; emails: string; visitors: string }, { v: string }>(
    `SELECT value AS v FROM json_each(@visitors)
     UNION SELECT visitor_id FROM stripe_charges WHERE customer_id = @customerId AND visitor_id IS NOT NULL
     UNION SELECT visitor_id FROM stripe_charges WHERE email_hash IN (SELECT value FROM json_each(@emails)) AND visitor_id IS NOT NULL
     UNION SELECT json_extract(metadata_json, '$.revtrail_vid') FROM stripe_subscriptions
       WHERE customer_id = @customerId AND json_extract(metadata_json, '$.revtrail_vid') IS NOT NULL`,
  ),
  emails: db.prepare<{ customerId: string | null; emails: string; visitors: string }, { e: string }>(
    `SELECT value AS e FROM json_each(@emails)
     UNION SELECT email_hash FROM stripe_customers WHERE id = @customerId AND email_hash IS NOT NULL
     UNION SELECT email_hash FROM stripe_charges WHERE customer_id = @customerId AND email_hash IS NOT NULL
     UNION SELECT email_hash FROM identities WHERE visitor_id IN (SELECT value FROM json_each(@visitors))`,
  ),
  touchpoints: db.prepare<{ visitors: string; emails: string; from: number; until: number }, TouchRow>(
    `WITH bound(visitor_id) AS (
       SELECT value FROM json_each(@visitors)
       UNION SELECT visitor_id FROM identities WHERE email_hash IN (SELECT value FROM json_each(@emails))
     )
     SELECT ${CLICK_COLUMNS} FROM bound b JOIN clicks c ON c.visitor_id = b.visitor_id
       WHERE c.at BETWEEN @from AND @until AND c.bot = 0 AND c.duplicate = 0
     UNION ALL
     SELECT ${PAGEVIEW_COLUMNS} FROM bound b JOIN pageviews p ON p.visitor_id = b.visitor_id
       WHERE p.at BETWEEN @from AND @until AND ${PAGEVIEW_HAS_SOURCE}
     ORDER BY at, id`,
  ),
}));

export interface BindingArgs {
  customerId: string | null;
  emailHashes: readonly string[];
  visitorIds: readonly string[];
}

/**
 * The clicks and source-carrying pageviews in [from, until] of every visitor bound to one customer: the
 * visitors it names or Stripe names for it, and every visitor identified with one of its email hashes
 * (its own, its charges', and those its visitors identified with). Ordered by (at, id).
 */
export function boundTouchRows(db: Db, args: BindingArgs, from: number, until: number): TouchRow[] {
  const s = single(db);
  const params = { customerId: args.customerId, emails: JSON.stringify(args.emailHashes), visitors: JSON.stringify(args.visitorIds) };
  const visitors = s.directVisitors.all(params).map((r) => r.v);
  const emails = s.emails.all({ ...params, visitors: JSON.stringify(visitors) }).map((r) => r.e);
  return s.touchpoints.all({ visitors: JSON.stringify(visitors), emails: JSON.stringify(emails), from, until });
}

/**
 * Binds every paying customer to its visitors, set-based, into the temp table attr_bind(customer_key,
 * visitor_id): the same joins as boundTouchRows, for all customers in a handful of statements.
 */
export function bindAllCustomers(db: Db): void {
  db.exec(`
    DROP TABLE IF EXISTS temp.attr_direct;
    DROP TABLE IF EXISTS temp.attr_email;
    DROP TABLE IF EXISTS temp.attr_bind;
    CREATE TEMP TABLE attr_direct AS
      SELECT DISTINCT ${CUSTOMER_KEY_SQL('ch')} AS customer_key, ch.visitor_id
        FROM stripe_charges ch WHERE ch.visitor_id IS NOT NULL
      UNION
      SELECT s.customer_id, json_extract(s.metadata_json, '$.revtrail_vid') FROM stripe_subscriptions s
        WHERE json_extract(s.metadata_json, '$.revtrail_vid') IS NOT NULL;
    CREATE TEMP TABLE attr_email AS
      SELECT cu.id AS customer_key, cu.email_hash FROM stripe_customers cu
        WHERE cu.email_hash IS NOT NULL AND EXISTS (SELECT 1 FROM stripe_charges ch WHERE ch.customer_id = cu.id)
      UNION
      SELECT ${CUSTOMER_KEY_SQL('ch')}, ch.email_hash FROM stripe_charges ch WHERE ch.email_hash IS NOT NULL
      UNION
      SELECT d.customer_key, i.email_hash FROM attr_direct d JOIN identities i ON i.visitor_id = d.visitor_id;
    CREATE TEMP TABLE attr_bind AS
      SELECT customer_key, visitor_id FROM attr_direct
      UNION
      SELECT e.customer_key, i.visitor_id FROM attr_email e JOIN identities i ON i.email_hash = e.email_hash
      UNION
      -- A Telegram user: the visitors their bot starts bound (core/telegram/repo.ts telegramCustomerKey).
      SELECT 'telegram:' || st.user_hash, coalesce(st.visitor_id, c.visitor_id) FROM telegram_starts st
        LEFT JOIN clicks c ON st.visitor_id IS NULL AND c.telegram_start = st.token_digest
        WHERE coalesce(st.visitor_id, c.visitor_id) IS NOT NULL;
    CREATE INDEX temp.attr_bind_visitor ON attr_bind (visitor_id);
    CREATE INDEX temp.attr_bind_customer ON attr_bind (customer_key, visitor_id);
  `);
}

/** Drops the temp tables of bindAllCustomers. */
export function unbindAllCustomers(db: Db): void {
  db.exec(`DROP TABLE IF EXISTS temp.attr_direct; DROP TABLE IF EXISTS temp.attr_email; DROP TABLE IF EXISTS temp.attr_bind;`);
}

/**
 * Every bound customer's touchpoints up to `until`, one customer after another (ordered by customer key; within
 * a customer in no particular order: the caller sorts each customer's few), so a caller can turn each customer's
 * rows into touchpoints as soon as they are read, never holding every customer's rows. Needs bindAllCustomers first.
 */
export function allBoundTouchRows(db: Db, until: number): IterableIterator<TouchRow & { customer_key: string }> {
  return db
    .prepare<[number, number], TouchRow & { customer_key: string }>(
      // CROSS JOIN keeps the bound visitors outside: the few thousand of them probe clicks_visitor_at, instead
      // of every click probing them (what the planner may pick on its own through a covering index). Read
      // through attr_bind_customer, both halves come ordered by customer key and are merged without a sort.
      `SELECT b.customer_key, ${CLICK_COLUMNS} FROM attr_bind b CROSS JOIN clicks c ON c.visitor_id = b.visitor_id
         WHERE c.at <= ? AND c.bot = 0 AND c.duplicate = 0
       UNION ALL
       SELECT b.customer_key, ${PAGEVIEW_COLUMNS} FROM attr_bind b CROSS JOIN pageviews p ON p.visitor_id = b.visitor_id
         WHERE p.at <= ? AND ${PAGEVIEW_HAS_SOURCE}
       ORDER BY customer_key`,
    )
    .iterate(until, until);
}
