import type { Statement } from 'better-sqlite3';
import { STARS_CURRENCY } from '@revtrail/shared';
import type { Db } from '../db/open';
import { preparedOnDemand, statementsPerDb } from '../db/statements';

// SQL of the reports. Money is summed in SQL, in the ledger's currency, over one model's rows of a range
// (attribution_ledger_model_at); a report in another currency reads the rows themselves and converts them
// (ledgerRows). Clicks are counted over a range through clicks_report.

/** Which rows a report reads, always of one model (its own rows and those shared by all models). */
export type Scope = 'range' | 'cohort' | 'all' | 'customer';
/** What a report groups by. */
export type GroupKey = 'channel' | 'slug' | 'campaign' | 'partner' | 'customer' | 'total';

/** What a dashboard's report can be narrowed to: one channel, link, campaign or partner (null: rows without one). */
export type FilterBy = 'channel' | 'link' | 'campaign' | 'partner';
export const FILTER_BY: readonly FilterBy[] = ['channel', 'link', 'campaign', 'partner'];
export interface ReportFilter {
  by: FilterBy;
  value: string | null;
}
/** The column a filter reads, the same name in the ledger and in clicks. */
const FILTER_COLUMN: Record<FilterBy, string> = { channel: 'channel', link: 'slug', campaign: 'campaign', partner: 'partner_id' };

export interface ScopeParams {
  model: string;
  start?: number;
  end?: number;
  customerKey?: string;
  /** Only rows of this filter (with `filter` given to the statement). */
  filter?: ReportFilter | null;
}

/** Sums of one group in the ledger's currency; unconvertible rows add nothing but still make the group. */
export interface MoneyAgg {
  k: string | null;
  gross: number;
  refunds: number;
  disputes: number;
  fees: number;
  conversions: number;
  customers: number;
  first_payments: number;
  renewals: number;
  /** Net (gross less refunds and disputes) of the rows credited to a click: what a group's clicks earned. */
  click_net: number;
  /** Conversions credited to a click (fractions under linear). */
  click_conversions: number;
  /** Telegram Stars (XTR) credited here, net of refunds: never converted, so summed in their own unit. */
  stars: number;
}

export interface UnconvertedAgg {
  currency: string;
  rows: number;
  amount: number;
}

/** A ledger row as a report in another currency, or a customer's journey, reads it. */
export interface LedgerFact {
  kind: 'charge' | 'refund' | 'dispute_opened' | 'dispute_reinstated' | 'dispute_lost';
  at: number;
  charge_id: string;
  source_id: string;
  customer_key: string;
  customer_id: string | null;
  touchpoint_id: string | null;
  touchpoint_kind: 'click' | 'pageview' | null;
  channel: string;
  slug: string | null;
  campaign: string | null;
  partner_id: string | null;
  weight: number;
  amount_minor: number;
  currency: string;
  converted_minor: number | null;
  unconverted: number;
  fee_minor: number | null;
  fee_currency: string | null;
  fee_converted_minor: number | null;
  renewal: number;
  conversion: number;
  /** From the charge, for converting into another currency than the ledger's. */
  exchange_rate: number | null;
  settlement_currency: string | null;
}

export interface ClickCount {
  key: string | null;
  clicks: number;
  visitors: number;
}

const MODEL = `l.model IN (@model, 'all')`;
const WHERE: Record<Scope, string> = {
  range: `${MODEL} AND l.at >= @start AND l.at < @end`,
  // Subscriptions whose first payment falls in the range, and all their money to date: the LTV cohort.
  cohort: `${MODEL} AND l.subscription_id IN (
    SELECT subscription_id FROM attribution_ledger WHERE model IN (@model, 'all') AND at >= @start AND at < @end
      AND kind = 'charge' AND conversion = 1 AND subscription_id IS NOT NULL)`,
  all: MODEL,
  customer: `${MODEL} AND l.customer_key = @customerKey`,
};
const KEY: Record<GroupKey, string> = { channel: 'l.channel', slug: 'l.slug', campaign: 'l.campaign', partner: 'l.partner_id', customer: 'l.customer_key', total: 'NULL' };
/** The filter's condition on a table aliased `alias` (IS: null matches the rows without one); '' without a filter. */
const filterSql = (filter: FilterBy | undefined, alias = '') => (filter ? ` AND ${alias}${FILTER_COLUMN[filter]} IS @fv` : '');
/** The statement parameters of a filter: its value as @fv. */
const fv = (p: { filter?: ReportFilter | null }) => (p.filter ? { fv: p.filter.value } : {});
const strip = <T extends { filter?: ReportFilter | null }>({ filter, ...rest }: T) => ({ ...rest, ...fv({ filter }) });
const CONVERTED_CHARGE = `l.kind = 'charge' AND l.unconverted = 0`;
const CUSTOMERS = `count(DISTINCT CASE WHEN ${CONVERTED_CHARGE} THEN l.customer_key END) AS customers`;
const AGG = `
  coalesce(sum(CASE WHEN l.kind = 'charge' THEN ifnull(l.converted_minor, 0) ELSE 0 END), 0) AS gross,
  coalesce(sum(CASE WHEN l.kind = 'refund' THEN -ifnull(l.converted_minor, 0) ELSE 0 END), 0) AS refunds,
  coalesce(sum(CASE WHEN l.kind LIKE 'dispute%' THEN -ifnull(l.converted_minor, 0) ELSE 0 END), 0) AS disputes,
  coalesce(sum(CASE WHEN ${CONVERTED_CHARGE} THEN ifnull(l.fee_converted_minor, 0) ELSE 0 END), 0) AS fees,
  coalesce(sum(CASE WHEN ${CONVERTED_CHARGE} AND l.conversion = 1 THEN l.weight ELSE 0 END), 0) AS conversions,
  ${CUSTOMERS},
  coalesce(sum(CASE WHEN ${CONVERTED_CHARGE} AND l.conversion = 1 THEN l.converted_minor ELSE 0 END), 0) AS first_payments,
  coalesce(sum(CASE WHEN ${CONVERTED_CHARGE} AND l.renewal = 1 THEN l.converted_minor ELSE 0 END), 0) AS renewals,
  coalesce(sum(CASE WHEN l.touchpoint_kind = 'click' THEN ifnull(l.converted_minor, 0) ELSE 0 END), 0) AS click_net,
  coalesce(sum(CASE WHEN ${CONVERTED_CHARGE} AND l.conversion = 1 AND l.touchpoint_kind = 'click' THEN l.weight ELSE 0 END), 0) AS click_conversions,
  coalesce(sum(CASE WHEN l.currency = '${STARS_CURRENCY}' THEN l.amount_minor ELSE 0 END), 0) AS stars`;
const ROW_COLUMNS = `l.kind, l.at, l.charge_id, l.source_id, l.customer_key, l.customer_id, l.touchpoint_id, l.touchpoint_kind, l.channel, l.slug, l.campaign, l.partner_id,
  l.weight, l.amount_minor, l.currency, l.converted_minor, l.unconverted, l.fee_minor, l.fee_currency, l.fee_converted_minor,
  l.renewal, l.conversion, ch.exchange_rate, ch.settlement_currency`;
const CLICK_FILTER = `at >= @start AND at < @end AND bot = 0 AND duplicate = 0`;

// The money of a scope's groups; its customers are counted from buyersSql: count(DISTINCT) over the range's rows
// cost SQLite as much as all the sums, and again for the total beside the groups.
const SUMS = AGG.replace(CUSTOMERS, '0 AS customers');
const sumsSql = (scope: Scope, key: GroupKey, filter?: FilterBy) =>
  `SELECT ${KEY[key]} AS k, ${SUMS} FROM attribution_ledger l WHERE ${WHERE[scope]}${filterSql(filter, 'l.')}${key === 'total' ? '' : ` GROUP BY ${KEY[key]}`}`;
const buyersSql = (scope: Scope, key: GroupKey, filter?: FilterBy) =>
  `SELECT ${KEY[key]} AS k, l.customer_key AS c FROM attribution_ledger l WHERE ${WHERE[scope]}${filterSql(filter, 'l.')} AND ${CONVERTED_CHARGE}`;
// The channels come from clicks_report one seek at a time (a loose index scan), then each is counted over
// its own range of that index: no sort of the range's clicks by channel, which cost as much as the counting.
const HUMAN = `bot = 0 AND duplicate = 0`;
const CLICKS_BY_CHANNEL_SQL = `WITH RECURSIVE ch(c) AS (
    SELECT (SELECT min(channel) FROM clicks WHERE ${HUMAN})
    UNION ALL SELECT (SELECT min(channel) FROM clicks WHERE channel > ch.c AND ${HUMAN}) FROM ch WHERE c IS NOT NULL),
  counted AS MATERIALIZED (SELECT c AS key,
    (SELECT count(*) FROM clicks WHERE channel = ch.c AND ${CLICK_FILTER}) AS clicks,
    (SELECT count(DISTINCT visitor_id) FROM clicks WHERE channel = ch.c AND ${CLICK_FILTER}) AS visitors
    FROM ch WHERE c IS NOT NULL)
  SELECT key, clicks, visitors FROM counted WHERE clicks > 0`;

// The days come as [[day, start, end], ...]: each day is one index range of the ledger. CROSS JOIN keeps
// the days as the outer loop; left to itself SQLite walked every ledger row of the model once per day.
const dailySql = (filter?: FilterBy) => `WITH d(day, s, e) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(@days))
  SELECT d.day AS day, l.channel AS k, ${SUMS}
  FROM d CROSS JOIN attribution_ledger l ON ${MODEL} AND l.at >= d.s AND l.at < d.e${filterSql(filter, 'l.')}
  GROUP BY d.day, l.channel`;
const DAILY_SQL = dailySql();
// Clicks and visitors per bucket ([[label, start, end], ...]), each bucket one range of clicks_at.
const trafficSql = (filter?: FilterBy) => `WITH d(day, s, e) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(@days))
  SELECT d.day AS day, count(c.id) AS clicks, count(DISTINCT c.visitor_id) AS visitors
  FROM d CROSS JOIN clicks c ON c.at >= d.s AND c.at < d.e AND c.bot = 0 AND c.duplicate = 0${filterSql(filter, 'c.')}
  GROUP BY d.day`;
/** Clicks of a range grouped by one column (the channels' own loose scan is CLICKS_BY_CHANNEL_SQL). */
const clicksBySql = (column: string, filter?: FilterBy) =>
  `SELECT ${column} AS key, max(channel) AS channel, count(*) AS clicks, count(DISTINCT visitor_id) AS visitors FROM clicks
   WHERE ${CLICK_FILTER}${filterSql(filter)} GROUP BY ${column}`;

const stmts = statementsPerDb((db: Db) => {
  const prepared = preparedOnDemand(db);
  return {
    sums: (scope: Scope, key: GroupKey, filter?: FilterBy) => prepared(sumsSql(scope, key, filter)) as Statement<[object], MoneyAgg>,
    buyers: (scope: Scope, key: GroupKey, filter?: FilterBy) => prepared(buyersSql(scope, key, filter)).raw() as Statement<[object], [string | null, string]>,
    combos: (filter?: FilterBy) =>
      prepared(
        `SELECT l.channel AS k, l.slug AS slug, l.campaign AS campaign, l.partner_id AS partner, ${SUMS} FROM attribution_ledger l
         WHERE ${WHERE.range}${filterSql(filter, 'l.')} GROUP BY l.channel, l.slug, l.campaign, l.partner_id`,
      ) as Statement<[object], ComboAgg>,
    comboBuyers: (filter?: FilterBy) =>
      prepared(`SELECT l.channel, l.slug, l.campaign, l.partner_id, l.customer_key FROM attribution_ledger l WHERE ${WHERE.range}${filterSql(filter, 'l.')} AND ${CONVERTED_CHARGE}`).raw() as Statement<
        [object],
        [string, string | null, string | null, string | null, string]
      >,
    unconverted: (scope: Scope, filter?: FilterBy) =>
      prepared(`SELECT l.currency, count(*) AS rows, sum(l.amount_minor) AS amount FROM attribution_ledger l
        WHERE ${WHERE[scope]}${filterSql(filter, 'l.')} AND l.unconverted = 1 GROUP BY l.currency ORDER BY l.currency`) as Statement<[object], UnconvertedAgg>,
    rows: (scope: Scope, filter?: FilterBy) =>
      prepared(`SELECT ${ROW_COLUMNS} FROM attribution_ledger l LEFT JOIN stripe_charges ch ON ch.id = l.charge_id
        WHERE ${WHERE[scope]}${filterSql(filter, 'l.')} ORDER BY l.at, l.id`) as Statement<[object], LedgerFact>,
    daily: (filter?: FilterBy) => prepared(dailySql(filter)) as Statement<[object], MoneyAgg & { day: string }>,
    traffic: (filter?: FilterBy) => prepared(trafficSql(filter)) as Statement<[object], { day: string; clicks: number; visitors: number }>,
    clicksBy: (column: string, filter?: FilterBy) => prepared(clicksBySql(column, filter)) as Statement<[object], ClickCount & { channel: string }>,
    clickTotals: (filter?: FilterBy) =>
      prepared(`SELECT count(*) AS clicks, count(DISTINCT visitor_id) AS visitors FROM clicks WHERE ${CLICK_FILTER}${filterSql(filter)}`) as Statement<[object], { clicks: number; visitors: number }>,
    partnerNames: db.prepare<[], { id: string; name: string }>(`SELECT id, name FROM affiliate_partners`),
    customers: (scope: 'range' | 'all') =>
      prepared(`SELECT l.customer_key AS k, max(l.customer_id) AS customer_id, min(CASE WHEN l.kind = 'charge' THEN l.at END) AS first_payment_at,
          count(DISTINCT CASE WHEN l.kind = 'charge' THEN l.charge_id END) AS payments, ${AGG}
        FROM attribution_ledger l WHERE ${WHERE[scope]} GROUP BY l.customer_key
        ORDER BY gross - refunds - disputes DESC, k LIMIT @limit`) as Statement<[ScopeParams & { limit: number }], MoneyAgg & { customer_id: string | null; first_payment_at: number | null; payments: number }>,
    customerCount: (scope: 'range' | 'all') =>
      prepared(`SELECT count(DISTINCT l.customer_key) AS n FROM attribution_ledger l WHERE ${WHERE[scope]}`) as Statement<[ScopeParams], { n: number }>,
    // The channel of each customer's first payment: its largest share, ties to the earlier row.
    firstChannels: (scope: 'range' | 'all') =>
      prepared(`SELECT customer_key AS k, channel FROM (
          SELECT l.customer_key, l.channel, row_number() OVER (PARTITION BY l.customer_key ORDER BY l.at, l.weight DESC, l.id) AS n
          FROM attribution_ledger l WHERE ${WHERE[scope]} AND l.kind = 'charge')
        WHERE n = 1`) as Statement<[ScopeParams], { k: string; channel: string }>,
    clicksByChannel: db.prepare<{ start: number; end: number }, ClickCount>(CLICKS_BY_CHANNEL_SQL),
    linkChannels: db.prepare<[], { slug: string; channel: string }>(`SELECT slug, channel FROM links`),
    customerKeyOf: db.prepare<{ ref: string }, { customer_key: string }>(
      `SELECT customer_key FROM attribution_ledger WHERE customer_key = @ref
       UNION ALL SELECT customer_key FROM attribution_ledger WHERE customer_id = @ref LIMIT 1`,
    ),
    stripeCustomer: db.prepare<{ id: string }, { id: string; created_at: number; email_hash: string | null }>(
      `SELECT id, created_at, email_hash FROM stripe_customers WHERE id = @id`,
    ),
    identities: db.prepare<{ visitors: string; emails: string }, { id: string; at: number; visitor_id: string; source: string }>(
      `SELECT id, at, visitor_id, source FROM identities
       WHERE visitor_id IN (SELECT value FROM json_each(@visitors)) OR email_hash IN (SELECT value FROM json_each(@emails))
       ORDER BY at, id`,
    ),
    customerEmails: db.prepare<{ id: string }, { e: string }>(
      `SELECT email_hash AS e FROM stripe_customers WHERE id = @id AND email_hash IS NOT NULL
       UNION SELECT email_hash FROM stripe_charges WHERE customer_id = @id AND email_hash IS NOT NULL`,
    ),
  };
});

/**
 * Money per group and in all of one model's rows in a scope, in the ledger's currency: the groups' sums read once
 * (the total adds them up), and their customers (distinct keys with a converted charge) from the buying rows.
 */
export function ledgerGroupsAndTotal(db: Db, scope: Scope, key: GroupKey, params: ScopeParams): { groups: MoneyAgg[]; total: MoneyAgg | null } {
  const s = stmts(db);
  const args = strip(params);
  const groups = s.sums(scope, key, params.filter?.by).all(args);
  if (groups.length === 0) return { groups, total: null };
  const buyers = new Map<string | null, Set<string>>();
  const all = new Set<string>();
  for (const [k, c] of s.buyers(scope, key, params.filter?.by).all(args)) {
    let b = buyers.get(k);
    if (!b) buyers.set(k, (b = new Set()));
    b.add(c);
    all.add(c);
  }
  const total: MoneyAgg = { k: null, gross: 0, refunds: 0, disputes: 0, fees: 0, conversions: 0, customers: all.size, first_payments: 0, renewals: 0, click_net: 0, click_conversions: 0, stars: 0 };
  for (const g of groups) {
    g.customers = buyers.get(g.k)?.size ?? 0;
    for (const f of ['gross', 'refunds', 'disputes', 'fees', 'conversions', 'first_payments', 'renewals', 'click_net', 'click_conversions', 'stars'] as const) total[f] += g[f];
  }
  return { groups, total };
}

/** One (channel, link, campaign, partner) combination's sums in a range: what every grouping of the range is made of. */
export type ComboAgg = MoneyAgg & { slug: string | null; campaign: string | null; partner: string | null };

/**
 * The money of a range per (channel, link, campaign, partner), in the ledger's currency, and the buying rows with
 * those four columns: one read of the range from which the channels, links, campaigns, partners and total are all
 * regrouped (reports.ts's shared reads), instead of one read for each.
 */
export function ledgerCombos(db: Db, params: ScopeParams): { combos: ComboAgg[]; buyers: [string, string | null, string | null, string | null, string][] } {
  const s = stmts(db);
  const args = strip(params);
  return { combos: s.combos(params.filter?.by).all(args), buyers: s.comboBuyers(params.filter?.by).all(args) };
}

/** What a scope holds that could not be converted, per native currency. */
export const unconvertedLedger = (db: Db, scope: Scope, params: ScopeParams): UnconvertedAgg[] => stmts(db).unconverted(scope, params.filter?.by).all(strip(params));

/** The rows themselves, in time order: for another currency than the ledger's, and for journeys. */
export const ledgerRows = (db: Db, scope: Scope, params: ScopeParams): LedgerFact[] => stmts(db).rows(scope, params.filter?.by).all(strip(params));

/** Money per day (or any buckets, given as [label, start, end] in UTC ms) and channel; the charts need no customers (0). */
export const dailyLedger = (db: Db, model: string, days: readonly [string, number, number][], filter?: ReportFilter | null) =>
  stmts(db).daily(filter?.by).all({ model, days: JSON.stringify(days), ...fv({ filter }) });

/** Clicks and distinct visitors per bucket ([label, start, end] in UTC ms); buckets without clicks are absent. */
export const trafficByBucket = (db: Db, buckets: readonly [string, number, number][], filter?: ReportFilter | null) =>
  stmts(db).traffic(filter?.by).all({ days: JSON.stringify(buckets), ...fv({ filter }) });

/** Clicks and distinct visitors of a range (humans, first clicks of a visit). */
export const clickTotals = (db: Db, start: number, end: number, filter?: ReportFilter | null) => stmts(db).clickTotals(filter?.by).get({ start, end, ...fv({ filter }) })!;

/** Partner ids to names (affiliate_partners). */
export const partnerNames = (db: Db): Map<string, string> => new Map(stmts(db).partnerNames.all().map((r) => [r.id, r.name]));

export function customerAggregates(db: Db, scope: 'range' | 'all', params: ScopeParams, limit: number) {
  const s = stmts(db);
  const firsts = new Map(s.firstChannels(scope).all(params).map((r) => [r.k, r.channel]));
  return { rows: s.customers(scope).all({ ...params, limit }), total: s.customerCount(scope).get(params)!.n, firstChannel: (k: string) => firsts.get(k) ?? null };
}

export const clicksByChannel = (db: Db, start: number, end: number, filter?: ReportFilter | null): ClickCount[] =>
  filter ? stmts(db).clicksBy('channel', filter.by).all({ start, end, fv: filter.value }) : stmts(db).clicksByChannel.all({ start, end });
export const clicksBySlug = (db: Db, start: number, end: number, filter?: ReportFilter | null) => stmts(db).clicksBy('slug', filter?.by).all({ start, end, ...fv({ filter }) });
export const clicksByCampaign = (db: Db, start: number, end: number, filter?: ReportFilter | null): ClickCount[] =>
  stmts(db).clicksBy('campaign', filter?.by).all({ start, end, ...fv({ filter }) });
export const clicksByPartner = (db: Db, start: number, end: number, filter?: ReportFilter | null): ClickCount[] =>
  stmts(db).clicksBy('partner_id', filter?.by).all({ start, end, ...fv({ filter }) });

export const linkChannels = (db: Db): [string, string][] => stmts(db).linkChannels.all().map((r) => [r.slug, r.channel]);

/** The ledger's key for a customer named by its Stripe id or by the key itself; null when it has no money rows. */
export const customerKeyOf = (db: Db, ref: string): string | null => stmts(db).customerKeyOf.get({ ref })?.customer_key ?? null;

export const stripeCustomer = (db: Db, id: string) => stmts(db).stripeCustomer.get({ id }) ?? null;

export const customerEmailHashes = (db: Db, id: string): string[] => stmts(db).customerEmails.all({ id }).map((r) => r.e);

/** Identify events of the given visitors or email hashes (the pixel's identify or a form). */
export const identitiesOf = (db: Db, visitors: readonly string[], emails: readonly string[]) =>
  stmts(db).identities.all({ visitors: JSON.stringify(visitors), emails: JSON.stringify(emails) });

/** The query plan of the channels report's reads, for the test that keeps them on their indexes. */
export function channelsReportPlan(db: Db): string[] {
  const plan = (sql: string, params: object) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail);
  const p = { model: 'last_click', start: 0, end: 1 };
  return [...plan(sumsSql('range', 'channel'), p), ...plan(buyersSql('range', 'channel'), p), ...plan(CLICKS_BY_CHANNEL_SQL, { start: 0, end: 1 })];
}

/** The query plan of the daily report's ledger read. */
export function dailyReportPlan(db: Db): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${DAILY_SQL}`).all({ model: 'last_click', days: '[["2026-01-01",0,1]]' }) as { detail: string }[]).map((r) => r.detail);
}

/** The query plan of the charts' clicks per bucket. */
export function trafficReportPlan(db: Db): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${trafficSql()}`).all({ days: '[["2026-01-01",0,1]]' }) as { detail: string }[]).map((r) => r.detail);
}
