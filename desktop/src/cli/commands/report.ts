import { csvDecimal, err, formatMinor, toCsv, type CsvValue, type Result } from '@revtrail/shared';
import { ATTRIBUTION_MODELS, isAttributionModel, type AttributionModel } from '@revtrail/shared/attribution/index';
import type { RangeArgs } from '../../core/attribution/handlers';
import type { Journey, LinkRow, Unconverted } from '../../core/attribution/reports';
import type { Core } from '../../core/core';
import { moneyText } from '../format';
import { starsCell } from './telegram';

export const REPORTS = ['channels', 'daily', 'links', 'campaigns', 'ltv', 'models', 'journey'] as const;
type ReportName = (typeof REPORTS)[number];

export interface ReportFlags {
  workspace?: string;
  from?: string;
  to?: string;
  tz?: string;
  model?: string;
  currency?: string;
  format?: string;
  customer?: string;
  json?: boolean;
}

/** Money in a cell: minor units and their currency, printed with the currency's decimals. */
interface MoneyCell {
  minor: number;
  currency: string;
}

/** A cell: text, a count (or a percentage), money, or nothing (— in a table, empty in CSV). */
type Cell = string | number | MoneyCell | null;

/** A table: headers, rows, and the totals row (null where the report has none). */
interface Table {
  title: string;
  headers: string[];
  rows: Cell[][];
  totals: Cell[] | null;
  notes: string[];
}

const money = (minor: number | null, currency: string): MoneyCell | null => (minor === null ? null : { minor, currency });
const pct = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 100);
const sum = <T>(rows: readonly T[], of: (r: T) => number) => rows.reduce((n, r) => n + of(r), 0);

function unconvertedNote(u: Unconverted, currency: string): string[] {
  if (u.rows === 0) return [];
  const amounts = u.amounts.map((a) => `${moneyText(a.amountMinor, a.currency)} ${a.currency}`).join(', ');
  return [`Not in these totals: ${u.rows} ledger rows that could not be converted to ${currency} (${amounts}).`];
}

const isMoney = (c: Cell): c is MoneyCell => typeof c === 'object' && c !== null;

function tableText(c: Cell): string {
  if (c === null) return '—';
  if (isMoney(c)) return moneyText(c.minor, c.currency);
  return typeof c === 'number' ? c.toLocaleString('en-US', { maximumFractionDigits: 2 }) : c;
}

const csvValue = (c: Cell): CsvValue => (isMoney(c) ? csvDecimal(formatMinor(c.minor, c.currency)) : c);

function renderTable(t: Table): string {
  const body = [...t.rows, ...(t.totals && t.rows.length > 0 ? [t.totals] : [])].map((r) => r.map(tableText));
  const cells = [t.headers, ...body];
  const widths = t.headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = [line(t.headers), ...body.slice(0, t.rows.length).map(line)];
  if (t.rows.length === 0) lines.push('(nothing in this range)');
  else if (t.totals) lines.push(rule, line(body[body.length - 1]!));
  return [t.title, '', ...lines, ...(t.notes.length ? ['', ...t.notes] : [])].join('\n');
}

function renderCsv(t: Table): string {
  const rows = [...t.rows, ...(t.totals && t.rows.length > 0 ? [t.totals] : [])];
  return toCsv([t.headers, ...rows.map((r) => r.map(csvValue))]).replace(/\r\n$/, '');
}

/**
 * The totals of a traffic table's rows: clicks add up; visitors do not (one visitor may come through several
 * rows), so the totals leave them out; the rates are the totals' own (all click conversions over all clicks).
 */
function clickTotals(rows: readonly ChannelRowLike[], currency: string) {
  const clicks = sum(rows, (r) => r.clicks);
  const clickConversions = sum(rows, (r) => (r.conversionRate ?? 0) * r.clicks);
  return {
    clicks,
    rate: clicks > 0 ? pct(clickConversions / clicks) : null,
    perClick: clicks > 0 ? money(Math.round(sum(rows, (r) => r.clickNetMinor) / clicks), currency) : null,
  };
}
type ChannelRowLike = Pick<LinkRow, 'clicks' | 'conversionRate' | 'clickNetMinor'>;

const TOTALS_NOTE = 'Total: visitors are not added up across rows (one visitor may come through several), and customers are counted once.';

/** What the traffic-and-money tables' columns mean, printed under them (and said in `revtrail report` usage). */
const PER_CLICK_NOTE =
  'Net per click: the net credited to the row\'s clicks divided by its clicks; money that came with no click (Direct, or a visit with a source but no link) counts in Net but is not divided by clicks; — where there are no clicks.';
const CUSTOMERS_NOTE = 'Customers: those with a payment in the range credited to the row, new or renewing; Conversions: first payments only.';

const rangeTitle = (name: string, r: { from: string; to: string; timeZone: string; model: string; currency: string }) =>
  `${name}, ${r.from} to ${r.to} (${r.timeZone}), ${r.model.replace(/_/g, ' ')}, ${r.currency}`;

function journeyTable(j: Journey): Table {
  const rows: Cell[][] = j.events.map((e) => {
    const when = new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if ('source' in e) return [when, 'identify', `visitor ${e.visitorId} (${e.source})`, null, null, null];
    if (!('credits' in e)) return [when, e.type, [e.channel, e.slug, e.campaign].filter(Boolean).join(' / '), null, null, null];
    const credit = e.credits.map((c) => `${c.channel}${c.weight < 1 ? ` ${Math.round(c.weight * 100)}%` : ''}`).join(', ');
    return [when, e.renewal && e.type === 'charge' ? 'renewal' : e.type, e.id, money(e.amountMinor, e.currency), e.currency, credit];
  });
  return {
    title: `Journey of ${j.customer.stripeId ?? j.customer.key}, ${j.model.replace(/_/g, ' ')}; net ${moneyText(j.totals.netMinor, j.currency)} ${j.currency}`,
    headers: ['When (UTC)', 'Event', 'Detail', 'Amount', 'Currency', 'Credited to'],
    rows,
    totals: ['Net', null, null, money(j.totals.netMinor, j.currency), j.currency, null],
    notes: unconvertedNote(j.unconverted, j.currency),
  };
}

/**
 * Bot starts and Telegram Stars, as two more columns, when the range has any: Stars are never converted into the
 * report's currency nor counted in its money, so they stand in their own column, in Stars.
 */
function withTelegram(t: Table, rows: readonly { botStarts: number; stars: number }[], totals: { botStarts?: number; stars: number }): Table {
  if (!rows.some((r) => r.botStarts > 0 || r.stars !== 0)) return t;
  return {
    ...t,
    headers: [...t.headers, 'Bot starts', 'Stars'],
    rows: t.rows.map((cells, i) => [...cells, rows[i]!.botStarts, starsCell(rows[i]!.stars)]),
    totals: t.totals ? [...t.totals, totals.botStarts ?? null, starsCell(totals.stars)] : t.totals,
    notes: [...t.notes, 'Bot starts: Start pressed in the Telegram bot after a click credited here. Stars: Telegram Stars paid in the bot, net of refunds, credited like any payment; never converted, so not in Gross or Net.'],
  };
}

/** The money columns every traffic table ends with, of a row or of the totals. */
const moneyCells = (x: { grossMinor: number; refundsMinor: number; disputesMinor: number; netMinor: number }, c: string) => [
  money(x.grossMinor, c),
  money(x.refundsMinor, c),
  money(x.disputesMinor, c),
  money(x.netMinor, c),
];

async function build(core: Core, name: ReportName, args: RangeArgs, customer: string | undefined): Promise<Result<{ value: unknown; table: Table }>> {
  const done = (value: unknown, table: Table) => ({ ok: true as const, value: { value, table } });
  switch (name) {
    case 'channels': {
      const r = await core.call('reports.channels', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      const t = clickTotals(v.rows, c);
      return done(v, withTelegram({
        title: rangeTitle('Channels', v.range),
        headers: ['Channel', 'Clicks', 'Visitors', 'Customers', 'Conversions', 'Gross', 'Refunds', 'Disputes', 'Net', 'Fees', 'Conv. rate %', 'Net per click'],
        rows: v.rows.map((x) => [x.channel, x.clicks, x.uniqueVisitors, x.customers, x.conversions, ...moneyCells(x, c), money(x.feesMinor, c), pct(x.conversionRate), money(x.revenuePerClickMinor, c)]),
        totals: ['Total', t.clicks, null, v.totals.customers, v.totals.conversions, ...moneyCells(v.totals, c), money(v.totals.feesMinor, c), t.rate, t.perClick],
        notes: [CUSTOMERS_NOTE, PER_CLICK_NOTE, TOTALS_NOTE, ...unconvertedNote(v.unconverted, c)],
      }, v.rows, v.totals));
    }
    case 'daily': {
      const r = await core.call('reports.daily', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Revenue per day', v.range),
        headers: ['Day', 'Channel', 'Gross', 'Refunds', 'Disputes', 'Net'],
        rows: v.rows.map((x) => [x.day, x.channel, ...moneyCells(x, c)]),
        totals: ['Total', null, ...moneyCells(v.totals, c)],
        notes: unconvertedNote(v.unconverted, c),
      });
    }
    case 'links': {
      const r = await core.call('reports.links', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      const t = clickTotals(v.rows, c);
      return done(v, withTelegram({
        title: rangeTitle('Links', v.range),
        headers: ['Link', 'Channel', 'Clicks', 'Visitors', 'Customers', 'Conversions', 'Gross', 'Refunds', 'Disputes', 'Net', 'Net per click'],
        rows: v.rows.map((x) => [x.slug ?? '(no link)', x.channel, x.clicks, x.uniqueVisitors, x.customers, x.conversions, ...moneyCells(x, c), money(x.revenuePerClickMinor, c)]),
        totals: ['Total', null, t.clicks, null, v.totals.customers, v.totals.conversions, ...moneyCells(v.totals, c), t.perClick],
        notes: [CUSTOMERS_NOTE, PER_CLICK_NOTE, TOTALS_NOTE, ...unconvertedNote(v.unconverted, c)],
      }, v.rows, v.totals));
    }
    case 'campaigns': {
      const r = await core.call('reports.campaigns', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      const t = clickTotals(v.rows, c);
      return done(v, withTelegram({
        title: rangeTitle('Campaigns', v.range),
        headers: ['Campaign', 'Clicks', 'Visitors', 'Customers', 'Conversions', 'Gross', 'Refunds', 'Disputes', 'Net', 'Net per click'],
        rows: v.rows.map((x) => [x.campaign ?? '(none)', x.clicks, x.uniqueVisitors, x.customers, x.conversions, ...moneyCells(x, c), money(x.revenuePerClickMinor, c)]),
        totals: ['Total', t.clicks, null, v.totals.customers, v.totals.conversions, ...moneyCells(v.totals, c), t.perClick],
        notes: ['(none): clicks on links without a campaign, and money that came with no click.', CUSTOMERS_NOTE, PER_CLICK_NOTE, TOTALS_NOTE, ...unconvertedNote(v.unconverted, c)],
      }, v.rows, v.totals));
    }
    case 'ltv': {
      const r = await core.call('reports.ltv', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      const subscriptions = v.totals.conversions;
      return done(v, {
        title: rangeTitle('Subscription lifetime value (subscriptions started in the range, money to date)', v.range),
        headers: ['Channel', 'Subscriptions', 'Customers', 'First payments', 'Renewals', 'Refunds', 'Disputes', 'Net', 'LTV'],
        rows: v.rows.map((x) => [x.channel, x.subscriptions, x.customers, money(x.firstPaymentsMinor, c), money(x.renewalsMinor, c), money(x.refundsMinor, c), money(x.disputesMinor, c), money(x.netMinor, c), money(x.ltvMinor, c)]),
        totals: [
          'Total',
          subscriptions,
          v.totals.customers,
          money(sum(v.rows, (x) => x.firstPaymentsMinor), c),
          money(sum(v.rows, (x) => x.renewalsMinor), c),
          money(v.totals.refundsMinor, c),
          money(v.totals.disputesMinor, c),
          money(v.totals.netMinor, c),
          subscriptions > 0 ? money(Math.round(v.totals.netMinor / subscriptions), c) : null,
        ],
        notes: unconvertedNote(v.unconverted, c),
      });
    }
    case 'models': {
      const r = await core.call('reports.models', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Net revenue per channel under each model', v.range),
        headers: ['Channel', ...ATTRIBUTION_MODELS.flatMap((m) => [`${m} conv.`, `${m} net`])],
        rows: v.rows.map((x) => [x.channel, ...ATTRIBUTION_MODELS.flatMap((m: AttributionModel) => [x.models[m].conversions, money(x.models[m].netMinor, c)])]),
        totals: ['Total', ...ATTRIBUTION_MODELS.flatMap((m) => [v.totals[m].conversions, money(v.totals[m].netMinor, c)])],
        notes: unconvertedNote(v.unconverted, c),
      });
    }
    case 'journey': {
      if (!customer) return err('invalid_input', 'report journey needs --customer cus_...');
      const r = await core.call('reports.journey', { workspace: args.workspace, customer, model: args.model, currency: args.currency });
      if (!r.ok) return r;
      return done(r.value, journeyTable(r.value));
    }
  }
}

/**
 * `revtrail report channels|daily|links|campaigns|ltv|models|journey [--from --to --tz --model --currency
 * --format table|csv|json] [--customer cus_..]`: the same handlers the app's screens call.
 */
export async function reportCommand(core: Core, positionals: string[], flags: ReportFlags): Promise<Result<unknown> & { text?: string }> {
  const [name, ...extra] = positionals;
  if (!name || !(REPORTS as readonly string[]).includes(name) || extra.length > 0) {
    return err(
      'invalid_input',
      `Which report? revtrail report ${REPORTS.join('|')} [--from YYYY-MM-DD --to YYYY-MM-DD --tz ZONE --model MODEL --currency CODE --format table|csv|json]\n` +
        `--currency: the euro, a currency the ECB publishes rates for, or one this workspace's charges are in.\n${CUSTOMERS_NOTE}\n${PER_CLICK_NOTE}`,
    );
  }
  const format = flags.format ?? (flags.json ? 'json' : 'table');
  if (!['table', 'csv', 'json'].includes(format)) return err('invalid_input', '--format is table, csv or json.');
  if (flags.model !== undefined && !isAttributionModel(flags.model)) return err('invalid_input', `--model is one of ${ATTRIBUTION_MODELS.join(', ')}.`);
  if (flags.currency !== undefined) {
    // The core refuses it too; asked here first so the message names the flag and this workspace's choices.
    const known = await core.call('reports.currencies', { workspace: flags.workspace });
    if (!known.ok) return known;
    if (!known.value.currencies.includes(flags.currency.toUpperCase())) {
      const own = known.value.own.filter((c) => !known.value.ecb.includes(c));
      return err(
        'invalid_input',
        `--currency ${flags.currency.slice(0, 20)}: Revtrail cannot convert money to that. Choose one of ${known.value.currencies.join(', ')} ` +
          `(the euro, the currencies the ECB publishes rates for${own.length > 0 ? `, and this workspace's own ${own.join(', ')}` : ''}).`,
      );
    }
  }
  const args: RangeArgs = {
    workspace: flags.workspace,
    ...(flags.from !== undefined ? { from: flags.from } : {}),
    ...(flags.to !== undefined ? { to: flags.to } : {}),
    ...(flags.tz !== undefined ? { tz: flags.tz } : {}),
    ...(flags.model !== undefined ? { model: flags.model as AttributionModel } : {}),
    ...(flags.currency !== undefined ? { currency: flags.currency.toUpperCase() } : {}),
  };
  const r = await build(core, name as ReportName, args, flags.customer);
  if (!r.ok) return r;
  const { value, table } = r.value;
  const text = format === 'json' ? JSON.stringify(value, null, 2) : format === 'csv' ? renderCsv(table) : renderTable(table);
  return { ok: true, value, text };
}
