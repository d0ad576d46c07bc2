import { isOwnUnitCurrency } from '@revtrail/shared';
import { ATTRIBUTION_MODELS, addDays, daysBetween, zoneRange, type AttributionModel } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import type { FxConverter } from '../fx/types';
import {
  ledgerCombos,
  ledgerGroupsAndTotal,
  linkChannels,
  partnerNames,
  customerAggregates,
  customerEmailHashes,
  customerKeyOf,
  dailyLedger,
  identitiesOf,
  ledgerRows,
  stripeCustomer,
  unconvertedLedger,
  type ClickCount,
  type ComboAgg,
  type GroupKey,
  type LedgerFact,
  type MoneyAgg,
  type ReportFilter,
  type Scope,
  type ScopeParams,
} from './reports-repo';
import { startsBy, type StartKey } from '../telegram/repo';
import { customerLabel } from './customer-label';
import { customerTouchpoints } from './touchpoints';
import { trafficBy, trafficByBuckets, trafficTotal, type TrafficBasis, type TrafficOptions } from './traffic';

/** A report's range: whole days in a time zone, and what it is computed in. */
export interface ReportRange {
  from: string;
  to: string;
  timeZone: string;
  model: AttributionModel;
  currency: string;
  /** Only the rows of one channel, link, campaign or partner; null or absent: all. */
  filter?: ReportFilter | null;
  /** [start, end) in UTC ms: from's midnight to the midnight after `to`, in the zone. */
  start: number;
  end: number;
}

export interface ReportSource {
  db: Db;
  /** The currency the ledger was built in: other currencies are converted row by row at report time. */
  ledgerCurrency: string;
  /** Made only when a report needs another currency than the ledger's. */
  fx: () => FxConverter;
  /** false: count clicks and visitors from the clicks even where the daily rollups could (tests compare both). */
  clickDays?: boolean;
  /**
   * Reads shared by the reports of one call (dashboardReport), by what they read: each range of the ledger is read
   * once for all its groupings. Absent: every report reads its own.
   */
  shared?: Map<string, unknown>;
}

/** What a money report left out because it could not be converted: never counted 1:1, always said. */
export interface Unconverted {
  rows: number;
  amounts: { currency: string; amountMinor: number }[];
}

export interface Money {
  grossMinor: number;
  refundsMinor: number;
  /** Disputes opened (provisionally) and lost, less those won. */
  disputesMinor: number;
  netMinor: number;
  feesMinor: number;
  netOfFeesMinor: number;
}

export interface ChannelRow extends Money {
  channel: string;
  clicks: number;
  uniqueVisitors: number;
  /**
   * Customers with a payment in the range credited here: first payments and renewals alike, the same rows
   * the money is summed over (so no revenue shows without its customer).
   */
  customers: number;
  /** Conversions (one-off or first subscription payments) in the range credited here: fractions under the linear model. */
  conversions: number;
  /** conversions / clicks; null without clicks (channels of pageviews, Direct). */
  conversionRate: number | null;
  /** The net credited to this row's clicks: its net less what pageviews and Direct (no click) brought. */
  clickNetMinor: number;
  /**
   * Net per click: clickNetMinor / clicks, so money that came with no click is never divided by clicks that
   * did not earn it. Null without clicks.
   */
  revenuePerClickMinor: number | null;
  currency: string;
  /**
   * Telegram Stars credited here, net of refunds (the bot's payments in XTR). Never converted into the report's
   * currency nor counted in its money: shown in Stars beside it. Their payments count as conversions and customers.
   */
  stars: number;
  /** Presses of Start in the Telegram bot that came from a click credited here (the click that made the bot link's token). */
  botStarts: number;
}

export interface Report<Row> {
  range: Omit<ReportRange, 'start' | 'end'>;
  rows: Row[];
  totals: Money & { conversions: number; customers: number; stars: number; botStarts?: number };
  unconverted: Unconverted;
  currency: string;
  /** How its clicks and visitors were counted (visitors estimated from the daily rollups, or exactly); absent: it counts none. */
  traffic?: TrafficBasis;
}

/** Sums of one group, in the report's currency. */
type Sum = Omit<MoneyAgg, 'k'>;
interface Sums {
  groups: Map<string | null, Sum>;
  total: Sum;
  unconverted: Unconverted;
}

const zero = (): Sum => ({ gross: 0, refunds: 0, disputes: 0, fees: 0, conversions: 0, customers: 0, first_payments: 0, renewals: 0, click_net: 0, click_conversions: 0, stars: 0 });
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

function money(s: Sum): Money {
  const net = s.gross - s.refunds - s.disputes;
  return { grossMinor: s.gross, refundsMinor: s.refunds, disputesMinor: s.disputes, netMinor: net, feesMinor: s.fees, netOfFeesMinor: net - s.fees };
}

/** The value of one ledger row in another currency (null: not convertible). */
function converter(src: ReportSource, currency: string): (r: LedgerFact) => { amount: number | null; fee: number } {
  const fx = src.fx();
  return (r) => {
    const c = fx.convert({ amountMinor: r.amount_minor, currency: r.currency, at: r.at, to: currency, stripe: { exchangeRate: r.exchange_rate, settlementCurrency: r.settlement_currency } });
    let fee = 0;
    if (r.fee_minor !== null && r.fee_currency !== null) {
      const f = fx.convert({ amountMinor: r.fee_minor, currency: r.fee_currency, at: r.at, to: currency });
      if (f.ok) fee = f.amountMinor;
    }
    return { amount: c.ok ? c.amountMinor : null, fee };
  };
}

/**
 * Sums rows in JS, converting each into `currency`: the same figures the SQL sums give in the ledger's
 * currency (a group exists even when all its money was unconvertible).
 */
function sumRows(rows: readonly LedgerFact[], value: (r: LedgerFact) => { amount: number | null; fee: number }, key: (r: LedgerFact) => string | null): Sums {
  const groups = new Map<string | null, Sum & { buyers: Set<string> }>();
  const total = { ...zero(), buyers: new Set<string>() };
  const missing = new Map<string, number>();
  let missingRows = 0;
  for (const r of rows) {
    const k = key(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ...zero(), buyers: new Set() }));
    // Stars stay Stars (as the SQL sums them): a payer and a conversion, no money, and nothing missing.
    if (isOwnUnitCurrency(r.currency)) {
      for (const s of [g, total]) {
        s.stars += r.amount_minor;
        if (r.kind !== 'charge') continue;
        s.buyers.add(r.customer_key);
        if (r.conversion) {
          s.conversions += r.weight;
          if (r.touchpoint_kind === 'click') s.click_conversions += r.weight;
        }
      }
      continue;
    }
    const v = value(r);
    if (v.amount === null) {
      missingRows += 1;
      missing.set(r.currency, (missing.get(r.currency) ?? 0) + r.amount_minor);
      continue;
    }
    for (const s of [g, total]) {
      if (r.touchpoint_kind === 'click') s.click_net += v.amount;
      if (r.kind === 'charge') {
        s.gross += v.amount;
        s.fees += v.fee;
        s.buyers.add(r.customer_key);
        if (r.conversion) {
          s.conversions += r.weight;
          if (r.touchpoint_kind === 'click') s.click_conversions += r.weight;
          s.first_payments += v.amount;
        } else if (r.renewal) s.renewals += v.amount;
      } else if (r.kind === 'refund') s.refunds -= v.amount;
      else s.disputes -= v.amount;
    }
  }
  const done = ({ buyers, ...s }: Sum & { buyers: Set<string> }): Sum => ({ ...s, customers: buyers.size });
  const amounts = [...missing].map(([currency, amountMinor]) => ({ currency, amountMinor })).sort((a, b) => (a.currency < b.currency ? -1 : 1));
  return { groups: new Map([...groups].map(([k, g]) => [k, done(g)])), total: done(total), unconverted: { rows: missingRows, amounts } };
}

const ROW_KEY: Record<GroupKey, (r: LedgerFact) => string | null> = {
  channel: (r) => r.channel,
  slug: (r) => r.slug,
  campaign: (r) => r.campaign,
  partner: (r) => r.partner_id,
  customer: (r) => r.customer_key,
  total: () => null,
};

/** A read kept for the other reports of the same call (src.shared), else made for this one alone. */
function sharedRead<T>(src: ReportSource, id: string, read: () => T): T {
  if (!src.shared) return read();
  if (!src.shared.has(id)) src.shared.set(id, read());
  return src.shared.get(id) as T;
}
const rangeId = (p: ScopeParams) => JSON.stringify([p.model, p.start, p.end, p.filter?.by ?? null, p.filter?.value ?? null]);
/** A range's ledger rows, for a report in another currency than the ledger's. */
const rangeRows = (src: ReportSource, params: ScopeParams) => sharedRead(src, `rows ${rangeId(params)}`, () => ledgerRows(src.db, 'range', params));

const SUM_FIELDS = ['gross', 'refunds', 'disputes', 'fees', 'conversions', 'first_payments', 'renewals', 'click_net', 'click_conversions', 'stars'] as const;
/** Where a grouping's value is in a combination (and in its buying rows): channel, link, campaign, partner; total: none. */
const COMBO_COLUMN: Record<GroupKey, 0 | 1 | 2 | 3 | null> = { channel: 0, slug: 1, campaign: 2, partner: 3, customer: null, total: null };
const comboValue = (c: ComboAgg, col: 0 | 1 | 2 | 3) => (col === 0 ? c.k : col === 1 ? c.slug : col === 2 ? c.campaign : c.partner);
interface Combos {
  combos: ComboAgg[];
  /** Each buying row's combination (its index in combos) and customer (numbered from 0 to customers - 1). */
  buyerCombo: Int32Array;
  buyerCustomer: Int32Array;
  /** The distinct customers who bought in the range. */
  customers: number;
  unconverted: Unconverted;
}

// \u0001 for none, which no name holds ('' is a name).
const comboId = (channel: string | null, slug: string | null, campaign: string | null, partner: string | null) =>
  `${channel ?? '\u0001'}\u0000${slug ?? '\u0001'}\u0000${campaign ?? '\u0001'}\u0000${partner ?? '\u0001'}`;

/** The range's combinations, with its buying rows numbered once: regrouping them then sorts numbers instead of filling sets of keys. */
function readCombos(src: ReportSource, params: ScopeParams): Combos {
  const { combos, buyers } = ledgerCombos(src.db, params);
  const index = new Map(combos.map((c, i) => [comboId(c.k, c.slug, c.campaign, c.partner), i]));
  const customers = new Map<string, number>();
  const buyerCombo = new Int32Array(buyers.length);
  const buyerCustomer = new Int32Array(buyers.length);
  buyers.forEach(([channel, slug, campaign, partner, customer], i) => {
    const combo = index.get(comboId(channel, slug, campaign, partner));
    // Read in the same transaction as the sums: every buying row is one of their rows.
    if (combo === undefined) throw new Error('a buying row outside the range read with it');
    buyerCombo[i] = combo;
    let id = customers.get(customer);
    if (id === undefined) customers.set(customer, (id = customers.size));
    buyerCustomer[i] = id;
  });
  return { combos, buyerCombo, buyerCustomer, customers: customers.size, unconverted: unconvertedOf(src, 'range', params) };
}

/** A range's sums per (channel, link, campaign, partner) regrouped by one of them, or all into the total: integer sums, the same as summing by that key. */
function regroup(read: Combos, key: GroupKey): Sums {
  const col = COMBO_COLUMN[key];
  const groups = new Map<string | null, Sum>();
  const sums: Sum[] = [];
  const groupOf = new Int32Array(read.combos.length);
  const total = zero();
  const numbers = new Map<string | null, number>();
  read.combos.forEach((c, i) => {
    const k = col === null ? null : comboValue(c, col);
    let n = numbers.get(k);
    if (n === undefined) {
      numbers.set(k, (n = sums.length));
      sums.push(zero());
      groups.set(k, sums[n]!);
    }
    groupOf[i] = n;
    const g = sums[n]!;
    for (const f of SUM_FIELDS) {
      g[f] += c[f];
      total[f] += c[f];
    }
  });
  // A group's customers: its distinct (group, customer) pairs, counted over the pairs sorted as numbers.
  const pairs = new Float64Array(read.buyerCombo.length);
  for (let i = 0; i < pairs.length; i++) pairs[i] = groupOf[read.buyerCombo[i]!]! * read.customers + read.buyerCustomer[i]!;
  pairs.sort();
  for (let i = 0; i < pairs.length; i++) if (i === 0 || pairs[i] !== pairs[i - 1]) sums[Math.floor(pairs[i]! / read.customers)]!.customers += 1;
  total.customers = read.customers;
  return { groups, total, unconverted: read.unconverted };
}

const unconvertedOf = (src: ReportSource, scope: Scope, params: ScopeParams): Unconverted => {
  const missing = unconvertedLedger(src.db, scope, params);
  return { rows: missing.reduce((n, m) => n + m.rows, 0), amounts: missing.map((m) => ({ currency: m.currency, amountMinor: m.amount })) };
};

/** Money of one model's rows in a scope, grouped: summed in SQL in the ledger's currency, else row by row. */
function sums(src: ReportSource, scope: Scope, key: GroupKey, params: ScopeParams, currency: string): Sums {
  if (src.shared && scope === 'range' && key !== 'customer') {
    // One call's reports: a range read once, for every grouping of it (a total alone, as the previous period's, reads only its sums).
    if (currency !== src.ledgerCurrency) return sumRows(rangeRows(src, params), converter(src, currency), ROW_KEY[key]);
    const id = `combos ${rangeId(params)}`;
    if (key !== 'total' || src.shared.has(id)) {
      return regroup(
        sharedRead(src, id, () => readCombos(src, params)),
        key,
      );
    }
  }
  if (currency !== src.ledgerCurrency) return sumRows(ledgerRows(src.db, scope, params), converter(src, currency), ROW_KEY[key]);
  const summed = ledgerGroupsAndTotal(src.db, scope, key, params);
  const groups = new Map(summed.groups.map(({ k, ...s }) => [k, s]));
  const total = summed.total ?? { k: null, ...zero() };
  return { groups, total, unconverted: unconvertedOf(src, scope, params) };
}

const publicRange = (r: ReportRange) => ({ from: r.from, to: r.to, timeZone: r.timeZone, model: r.model, currency: r.currency, filter: r.filter ?? null });
const totalsOf = (s: Sum) => ({ ...money(s), conversions: round4(s.conversions), customers: s.customers, stars: s.stars });
/** Bot starts in the range by the report's key (the click that led to each); with the report's filter. */
const starts = (src: ReportSource, key: StartKey, range: ReportRange) => new Map(startsBy(src.db, key, range.start, range.end, range.filter).map((s) => [s.key, s.starts]));
const sumOf = (m: Map<unknown, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const byNetThenName = <T extends { netMinor: number }>(name: (t: T) => string) => (a: T, b: T) => b.netMinor - a.netMinor || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);
const rangeParams = (r: ReportRange): ScopeParams => ({ model: r.model, start: r.start, end: r.end, filter: r.filter });
const trafficOptions = (src: ReportSource): TrafficOptions => ({ rollups: src.clickDays, shared: src.shared });

function clickRow(sum: Sum | undefined, clicks: ClickCount | undefined, currency: string, botStarts = 0) {
  const s = sum ?? zero();
  const m = money(s);
  const n = clicks?.clicks ?? 0;
  return {
    clicks: n,
    uniqueVisitors: clicks?.visitors ?? 0,
    customers: s.customers,
    conversions: round4(s.conversions),
    ...m,
    conversionRate: n > 0 ? round4(s.conversions / n) : null,
    clickNetMinor: s.click_net,
    revenuePerClickMinor: n > 0 ? Math.round(s.click_net / n) : null,
    currency,
    stars: s.stars,
    botStarts,
  };
}

/** The "Top channels" table: traffic from the clicks, money from the ledger, per channel. */
export function channelsReport(src: ReportSource, range: ReportRange): Report<ChannelRow> {
  const { groups, total, unconverted } = sums(src, 'range', 'channel', rangeParams(range), range.currency);
  const traffic = trafficBy(src.db, range, 'channel', trafficOptions(src));
  const clicks = new Map(traffic.rows.map((c) => [c.key ?? '', c]));
  const bot = starts(src, 'channel', range);
  const names = new Set([...[...groups.keys()].map((k) => k ?? ''), ...clicks.keys(), ...[...bot.keys()].map((k) => k ?? '')]);
  const rows = [...names].map((channel) => ({ channel, ...clickRow(groups.get(channel), clicks.get(channel), range.currency, bot.get(channel) ?? 0) })).sort(byNetThenName((r) => r.channel));
  return { range: publicRange(range), rows, totals: { ...totalsOf(total), botStarts: sumOf(bot) }, unconverted, currency: range.currency, traffic: traffic.basis };
}

export interface LinkRow extends Omit<ChannelRow, 'channel'> {
  /** Null: money credited to no link (pageviews with a source, or Direct). */
  slug: string | null;
  channel: string | null;
}

export function linksReport(src: ReportSource, range: ReportRange): Report<LinkRow> {
  const { groups, total, unconverted } = sums(src, 'range', 'slug', rangeParams(range), range.currency);
  const traffic = trafficBy(src.db, range, 'slug', trafficOptions(src));
  const clicks = traffic.rows;
  const byKey = new Map<string | null, (typeof clicks)[number]>(clicks.map((c) => [c.key, c]));
  // The channel a link's clicks carried in the range, else the link's channel now.
  const channels = new Map<string | null, string>(linkChannels(src.db));
  for (const c of clicks) channels.set(c.key, c.channel);
  const bot = starts(src, 'slug', range);
  const keys = new Set([...groups.keys(), ...byKey.keys(), ...bot.keys()]);
  const rows = [...keys]
    .map((slug) => ({ slug, channel: slug === null ? null : (channels.get(slug) ?? null), ...clickRow(groups.get(slug), byKey.get(slug), range.currency, bot.get(slug) ?? 0) }))
    .sort(byNetThenName((r) => r.slug ?? ''));
  return { range: publicRange(range), rows, totals: { ...totalsOf(total), botStarts: sumOf(bot) }, unconverted, currency: range.currency, traffic: traffic.basis };
}

export interface CampaignRow extends Omit<ChannelRow, 'channel'> {
  campaign: string | null;
}

export function campaignsReport(src: ReportSource, range: ReportRange): Report<CampaignRow> {
  const { groups, total, unconverted } = sums(src, 'range', 'campaign', rangeParams(range), range.currency);
  const traffic = trafficBy(src.db, range, 'campaign', trafficOptions(src));
  const clicks = new Map(traffic.rows.map((c) => [c.key, c]));
  const bot = starts(src, 'campaign', range);
  const keys = new Set([...groups.keys(), ...clicks.keys(), ...bot.keys()]);
  const rows = [...keys].map((campaign) => ({ campaign, ...clickRow(groups.get(campaign), clicks.get(campaign), range.currency, bot.get(campaign) ?? 0) })).sort(byNetThenName((r) => r.campaign ?? ''));
  return { range: publicRange(range), rows, totals: { ...totalsOf(total), botStarts: sumOf(bot) }, unconverted, currency: range.currency, traffic: traffic.basis };
}

export interface PartnerRow extends Omit<ChannelRow, 'channel'> {
  /** Null: money and clicks of no partner's link. */
  partnerId: string | null;
  /** The partner's name on the Affiliates screen; null for no partner or one since deleted. */
  name: string | null;
}

/** Money and clicks per partner (the partner of the link clicked). */
export function partnersReport(src: ReportSource, range: ReportRange): Report<PartnerRow> {
  const { groups, total, unconverted } = sums(src, 'range', 'partner', rangeParams(range), range.currency);
  const traffic = trafficBy(src.db, range, 'partner', trafficOptions(src));
  const clicks = new Map(traffic.rows.map((c) => [c.key, c]));
  const names = partnerNames(src.db);
  const bot = starts(src, 'partner_id', range);
  const keys = new Set([...groups.keys(), ...clicks.keys(), ...bot.keys()]);
  const rows = [...keys]
    .map((partnerId) => ({ partnerId, name: partnerId === null ? null : (names.get(partnerId) ?? null), ...clickRow(groups.get(partnerId), clicks.get(partnerId), range.currency, bot.get(partnerId) ?? 0) }))
    .sort(byNetThenName((r) => r.partnerId ?? ''));
  return { range: publicRange(range), rows, totals: { ...totalsOf(total), botStarts: sumOf(bot) }, unconverted, currency: range.currency, traffic: traffic.basis };
}

export interface DailyRow extends Money {
  day: string;
  channel: string;
}

/** How a chart's days are grouped: a day per bar up to a month, then weeks (from Monday), then months. */
export type Bucket = 'day' | 'week' | 'month';
export const BUCKETS: readonly Bucket[] = ['day', 'week', 'month'];

/** The bucket that keeps a range's chart readable: at most 31 days, 26 weeks or 121 months of bars. */
export const bucketFor = (days: number): Bucket => (days <= 31 ? 'day' : days <= 182 ? 'week' : 'month');

/** One bar of a chart: its first and last day (cut to the range) and [start, end) in UTC ms. */
export interface BucketSpan {
  from: string;
  to: string;
  start: number;
  end: number;
}

/** The range cut into buckets in its zone: weeks start on Monday, months on the 1st; the first and last may be partial. */
export function bucketsOf(range: Pick<ReportRange, 'from' | 'to' | 'timeZone'>, bucket: Bucket): BucketSpan[] {
  const days = daysBetween(range.from, range.to);
  const opens = (day: string) => (bucket === 'day' ? true : bucket === 'week' ? new Date(`${day}T00:00:00Z`).getUTCDay() === 1 : day.endsWith('-01'));
  const spans: { from: string; to: string }[] = [];
  for (const day of days) {
    const last = spans.at(-1);
    if (!last || opens(day)) spans.push({ from: day, to: day });
    else last.to = day;
  }
  return spans.map((b) => ({ ...b, ...zoneRange(b.from, b.to, range.timeZone) }));
}

/** Money per bucket and channel, keyed by the bucket's first day. */
function moneyByBucket(src: ReportSource, range: ReportRange, spans: readonly BucketSpan[]): { cells: Map<string, Sum>; totals: Sums } {
  const cells = new Map<string, Sum>();
  if (range.currency === src.ledgerCurrency) {
    for (const { day, k, ...s } of dailyLedger(src.db, range.model, spans.map((b) => [b.from, b.start, b.end]), range.filter)) cells.set(cell(day, k ?? ''), s);
    return { cells, totals: sums(src, 'range', 'total', rangeParams(range), range.currency) };
  }
  const bucketOf = (at: number) => {
    let i = 0;
    while (i + 1 < spans.length && spans[i + 1]!.start <= at) i++;
    return spans[i]!.from;
  };
  const byCell = sumRows(rangeRows(src, rangeParams(range)), converter(src, range.currency), (r) => cell(bucketOf(r.at), r.channel));
  for (const [k, s] of byCell.groups) cells.set(k!, s);
  return { cells, totals: { groups: new Map(), total: byCell.total, unconverted: byCell.unconverted } };
}
const cell = (bucket: string, channel: string) => `${bucket}\u0000${channel}`;
const channelsOf = (cells: Map<string, Sum>) => [...new Set([...cells.keys()].map((k) => k.split('\u0000')[1]!))].sort();

/** Money per day (in the range's zone) and channel: the revenue chart's data, every day and channel present. */
export function dailyReport(src: ReportSource, range: ReportRange): Report<DailyRow> & { days: string[]; channels: string[] } {
  const spans = bucketsOf(range, 'day');
  const { cells, totals } = moneyByBucket(src, range, spans);
  const days = spans.map((b) => b.from);
  const channels = channelsOf(cells);
  const rows = days.flatMap((day) => channels.map((channel) => ({ day, channel, ...money(cells.get(cell(day, channel)) ?? zero()) })));
  return { range: publicRange(range), days, channels, rows, totals: totalsOf(totals.total), unconverted: totals.unconverted, currency: range.currency };
}

export interface SeriesPoint {
  /** The bucket's first and last day in the range. */
  from: string;
  to: string;
  clicks: number;
  visitors: number;
  /** Net per channel with money in the range (every channel of `channels`, zeros included). */
  netByChannel: Record<string, number>;
  netMinor: number;
}

export interface Series {
  range: Omit<ReportRange, 'start' | 'end'>;
  bucket: Bucket;
  channels: string[];
  points: SeriesPoint[];
  totals: Money & { conversions: number; customers: number };
  unconverted: Unconverted;
  currency: string;
  /** How the clicks and visitors were counted. */
  traffic: TrafficBasis;
}

/**
 * The dashboard's charts: net revenue per channel, clicks and visitors (distinct per bucket), per bucket of
 * the range (`bucket`, else the one bucketFor chooses).
 */
export function seriesReport(src: ReportSource, range: ReportRange, bucket: Bucket = bucketFor(daysBetween(range.from, range.to).length)): Series {
  const spans = bucketsOf(range, bucket);
  const { cells, totals } = moneyByBucket(src, range, spans);
  const counted = trafficByBuckets(src.db, range, spans.map((b) => ({ label: b.from, ...b })), trafficOptions(src));
  const traffic = new Map(counted.rows.map((t) => [t.day, t]));
  const channels = channelsOf(cells);
  const points = spans.map((b) => {
    const netByChannel = Object.fromEntries(channels.map((c) => [c, money(cells.get(cell(b.from, c)) ?? zero()).netMinor]));
    const t = traffic.get(b.from);
    return { from: b.from, to: b.to, clicks: t?.clicks ?? 0, visitors: t?.visitors ?? 0, netByChannel, netMinor: Object.values(netByChannel).reduce((a, n) => a + n, 0) };
  });
  return { range: publicRange(range), bucket, channels, points, totals: totalsOf(totals.total), unconverted: totals.unconverted, currency: range.currency, traffic: counted.basis };
}

/** The headline figures of a period. */
export interface Headline {
  clicks: number;
  /** Distinct visitor ids among the clicks (anonymous clicks count as clicks only). */
  visitors: number;
  /** Customers with a payment in the period, first or renewing. */
  customers: number;
  /** First payments (conversions) in the period; fractions of them under linear for a filtered report. */
  conversions: number;
  /** Conversions credited to a link click, per visitor; null without visitors. */
  conversionRate: number | null;
  grossMinor: number;
  refundsMinor: number;
  disputesMinor: number;
  /** Revenue: gross less refunds and disputes. */
  netMinor: number;
}

export interface Summary {
  range: Omit<ReportRange, 'start' | 'end'>;
  /** The same number of days just before the range, in the same zone. */
  previousRange: { from: string; to: string };
  current: Headline;
  previous: Headline;
  currency: string;
  /** What the current period could not convert. */
  unconverted: Unconverted;
  /** How each period's clicks and visitors were counted; a period with visitorsFrom set has no conversion rate. */
  traffic: { current: TrafficBasis; previous: TrafficBasis };
}

function headline(src: ReportSource, range: ReportRange): { headline: Headline; traffic: TrafficBasis; unconverted: Unconverted } {
  const { total, unconverted } = sums(src, 'range', 'total', rangeParams(range), range.currency);
  const traffic = trafficTotal(src.db, range, trafficOptions(src));
  const m = money(total);
  return {
    headline: {
      clicks: traffic.clicks,
      visitors: traffic.visitors,
      customers: total.customers,
      conversions: round4(total.conversions),
      // Not where the visitors miss days of the range (past retention): the rate would divide by too few.
      conversionRate: traffic.visitors > 0 && traffic.basis.visitorsFrom === null ? round4(total.click_conversions / traffic.visitors) : null,
      grossMinor: m.grossMinor,
      refundsMinor: m.refundsMinor,
      disputesMinor: m.disputesMinor,
      netMinor: m.netMinor,
    },
    traffic: traffic.basis,
    unconverted,
  };
}

/** The headline numbers of the range and of the same number of days before it, for the change between them. */
export function summaryReport(src: ReportSource, range: ReportRange): Summary {
  const days = daysBetween(range.from, range.to).length;
  const before = { from: addDays(range.from, -days), to: addDays(range.from, -1) };
  const current = headline(src, range);
  const previous = headline(src, { ...range, ...before, ...zoneRange(before.from, before.to, range.timeZone) });
  return {
    range: publicRange(range),
    previousRange: before,
    current: current.headline,
    previous: previous.headline,
    currency: range.currency,
    unconverted: current.unconverted,
    traffic: { current: current.traffic, previous: previous.traffic },
  };
}

/** What the dashboard shows at once. */
export interface DashboardReports {
  summary: Summary;
  series: Series;
  channels: Report<ChannelRow>;
  links: Report<LinkRow>;
  campaigns: Report<CampaignRow>;
  partners: Report<PartnerRow>;
}

/**
 * The dashboard's six reports over one range, each the same as asked alone, from one snapshot of the database:
 * the range's ledger read once for the channels, links, campaigns, partners and totals (summed per combination
 * of the four, then regrouped), instead of once or twice by each report.
 */
export function dashboardReport(src: ReportSource, range: ReportRange): DashboardReports {
  const shared: ReportSource = { ...src, shared: new Map() };
  return src.db.transaction(() => {
    // The channels first: their grouping reads the range for all the others.
    const channels = channelsReport(shared, range);
    return {
      summary: summaryReport(shared, range),
      series: seriesReport(shared, range),
      channels,
      links: linksReport(shared, range),
      campaigns: campaignsReport(shared, range),
      partners: partnersReport(shared, range),
    };
  })();
}

export interface LtvRow extends Money {
  channel: string;
  /** New subscriptions in the range credited here (fractions under linear). */
  subscriptions: number;
  customers: number;
  firstPaymentsMinor: number;
  renewalsMinor: number;
  /** Net to date per subscription acquired. */
  ltvMinor: number | null;
  currency: string;
}

/**
 * Subscription lifetime value per channel: the subscriptions whose first payment falls in the range, with
 * every renewal, upgrade, refund and dispute of theirs to date (renewals keep the first payment's credit).
 */
export function ltvReport(src: ReportSource, range: ReportRange): Report<LtvRow> {
  const { groups, total, unconverted } = sums(src, 'cohort', 'channel', rangeParams(range), range.currency);
  const rows = [...groups]
    .map(([channel, s]) => ({
      channel: channel ?? '',
      subscriptions: round4(s.conversions),
      customers: s.customers,
      firstPaymentsMinor: s.first_payments,
      renewalsMinor: s.renewals,
      ...money(s),
      ltvMinor: s.conversions > 0 ? Math.round(money(s).netMinor / s.conversions) : null,
      currency: range.currency,
    }))
    .sort(byNetThenName((r) => r.channel));
  return { range: publicRange(range), rows, totals: totalsOf(total), unconverted, currency: range.currency };
}

export interface ModelsRow {
  channel: string;
  models: Record<AttributionModel, { conversions: number; netMinor: number; grossMinor: number }>;
}

/** The same range under every model, side by side, per channel. */
export function modelsReport(src: ReportSource, range: ReportRange): Omit<Report<ModelsRow>, 'totals'> & { totals: Record<AttributionModel, Money & { conversions: number }> } {
  const per = ATTRIBUTION_MODELS.map((model) => ({ model, ...sums(src, 'range', 'channel', { ...rangeParams(range), model }, range.currency) }));
  const channels = [...new Set(per.flatMap((p) => [...p.groups.keys()].map((k) => k ?? '')))].sort();
  const rows = channels.map((channel) => ({
    channel,
    models: Object.fromEntries(
      per.map((p) => {
        const s = p.groups.get(channel) ?? zero();
        return [p.model, { conversions: round4(s.conversions), netMinor: money(s).netMinor, grossMinor: s.gross }];
      }),
    ) as ModelsRow['models'],
  }));
  rows.sort((a, b) => b.models[range.model].netMinor - a.models[range.model].netMinor || (a.channel < b.channel ? -1 : 1));
  const totals = Object.fromEntries(per.map((p) => [p.model, { ...money(p.total), conversions: round4(p.total.conversions) }])) as Record<AttributionModel, Money & { conversions: number }>;
  return { range: publicRange(range), rows, totals, unconverted: per.find((p) => p.model === range.model)!.unconverted, currency: range.currency };
}

export type JourneyEvent =
  | { type: 'click' | 'pageview'; at: number; id: string; visitorId: string; channel: string; slug: string | null; campaign: string | null; partnerId: string | null }
  | { type: 'identify'; at: number; id: string; visitorId: string; source: string }
  | {
      type: LedgerFact['kind'];
      at: number;
      id: string;
      chargeId: string;
      amountMinor: number;
      currency: string;
      /** In the report's currency; null when it could not be converted. */
      convertedMinor: number | null;
      renewal: boolean;
      credits: { touchpointId: string | null; channel: string; slug: string | null; weight: number; amountMinor: number }[];
    };

export interface Journey {
  /** label: the short name the screens show (customerLabel), never the id or a hash. */
  customer: { key: string; stripeId: string | null; createdAt: number | null; label: string };
  model: AttributionModel;
  currency: string;
  events: JourneyEvent[];
  totals: Money;
  unconverted: Unconverted;
}

/**
 * One customer's story: their touchpoints (all of them, not only those in a window), identifications,
 * and every money event with the credits it gave, in time order.
 */
export function customerJourney(src: ReportSource, ref: string, model: AttributionModel, currency: string, now: number): Journey | null {
  const key = customerKeyOf(src.db, ref);
  const stripe = ref.startsWith('cus_') ? stripeCustomer(src.db, ref) : null;
  if (key === null && stripe === null) return null;
  const customerId = stripe?.id ?? (key !== null && !key.includes(':') ? key : null);
  const emails = customerId ? customerEmailHashes(src.db, customerId) : key?.startsWith('email:') ? [key.slice(6)] : [];
  const touchpoints = customerTouchpoints(src.db, { customerId, emailHashes: emails, until: now });
  const visitors = [...new Set(touchpoints.map((t) => t.visitorId))];
  const events: JourneyEvent[] = touchpoints.map((t) => ({ type: t.kind, at: t.at, id: t.id, visitorId: t.visitorId, channel: t.channel, slug: t.slug, campaign: t.campaign, partnerId: t.partnerId }));
  for (const i of identitiesOf(src.db, visitors, emails)) events.push({ type: 'identify', at: i.at, id: i.id, visitorId: i.visitor_id, source: i.source });

  const ledger = key === null ? [] : ledgerRows(src.db, 'customer', { model, customerKey: key });
  const value =
    currency === src.ledgerCurrency ? (r: LedgerFact) => ({ amount: r.unconverted ? null : r.converted_minor, fee: r.fee_converted_minor ?? 0 }) : converter(src, currency);
  const { total, unconverted } = sumRows(ledger, value, () => null);
  const moneyEvents = new Map<string, Extract<JourneyEvent, { chargeId: string }>>();
  for (const r of ledger) {
    const id = `${r.kind}\u0000${r.source_id}`;
    const v = value(r).amount;
    let ev = moneyEvents.get(id);
    if (!ev) {
      ev = { type: r.kind, at: r.at, id: r.source_id, chargeId: r.charge_id, amountMinor: 0, currency: r.currency, convertedMinor: 0, renewal: r.renewal === 1, credits: [] };
      moneyEvents.set(id, ev);
      events.push(ev);
    }
    ev.amountMinor += r.amount_minor;
    ev.convertedMinor = v === null || ev.convertedMinor === null ? null : ev.convertedMinor + v;
    ev.credits.push({ touchpointId: r.touchpoint_id, channel: r.channel, slug: r.slug, weight: r.weight, amountMinor: r.amount_minor });
  }
  events.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { customer: { key: key ?? ref, stripeId: customerId, createdAt: stripe?.created_at ?? null, label: customerLabel(key ?? ref) }, model, currency, events, totals: money(total), unconverted };
}

export interface CustomerRow extends Money {
  customerKey: string;
  customerId: string | null;
  /** The short name the screens show (customerLabel of the key). */
  label: string;
  /** Null when the range holds only refunds or disputes of theirs. */
  firstPaymentAt: number | null;
  /** The channel credited with the customer's first payment (its largest share). */
  firstChannel: string | null;
  payments: number;
  currency: string;
}

/** The customers with money in the ledger (or in the range, when given), by net revenue: the UI's customer list. */
export function customersReport(src: ReportSource, range: ReportRange | null, model: AttributionModel, currency: string, limit: number): { rows: CustomerRow[]; total: number; unconverted: Unconverted; currency: string } {
  const scope = range ? 'range' : 'all';
  const params = range ? rangeParams({ ...range, model }) : { model };
  if (currency === src.ledgerCurrency) {
    const agg = customerAggregates(src.db, scope, params, limit);
    const missing = unconvertedLedger(src.db, scope, params);
    return {
      rows: agg.rows.map((r) => ({ customerKey: r.k!, customerId: r.customer_id, label: customerLabel(r.k!), firstPaymentAt: r.first_payment_at, firstChannel: agg.firstChannel(r.k!), payments: r.payments, ...money(r), currency })),
      total: agg.total,
      unconverted: { rows: missing.reduce((n, m) => n + m.rows, 0), amounts: missing.map((m) => ({ currency: m.currency, amountMinor: m.amount })) },
      currency,
    };
  }
  const ledger = ledgerRows(src.db, scope, params);
  const { groups, unconverted } = sumRows(ledger, converter(src, currency), (r) => r.customer_key);
  const info = new Map<string, { customerId: string | null; firstAt: number | null; firstCharge: string | null; channel: string | null; weight: number; charges: Set<string> }>();
  for (const r of ledger) {
    let i = info.get(r.customer_key);
    if (!i) info.set(r.customer_key, (i = { customerId: r.customer_id, firstAt: null, firstCharge: null, channel: null, weight: 0, charges: new Set() }));
    if (r.kind !== 'charge') continue;
    i.charges.add(r.charge_id);
    if (i.firstCharge === null) {
      i.firstCharge = r.charge_id;
      i.firstAt = r.at;
    }
    if (r.charge_id === i.firstCharge && r.weight > i.weight) {
      i.channel = r.channel;
      i.weight = r.weight;
    }
  }
  const rows = [...info]
    .map(([key, i]) => ({ customerKey: key, customerId: i.customerId, label: customerLabel(key), firstPaymentAt: i.firstAt, firstChannel: i.channel, payments: i.charges.size, ...money(groups.get(key) ?? zero()), currency }))
    .sort(byNetThenName((r) => r.customerKey));
  return { rows: rows.slice(0, limit), total: rows.length, unconverted, currency };
}
