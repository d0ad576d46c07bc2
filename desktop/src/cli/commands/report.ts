import { err, formatMinor, toCsv, type CsvValue, type Result } from '@revtrail/shared';
import { ATTRIBUTION_MODELS, isAttributionModel, type AttributionModel } from '@revtrail/shared/attribution/index';
import type { RangeArgs } from '../../core/attribution/handlers';
import type { Journey, Unconverted } from '../../core/attribution/reports';
import type { Core } from '../../core/core';

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

/** A table: headers and rows of cells, numbers in major units (money) or plain counts. */
interface Table {
  title: string;
  headers: string[];
  rows: CsvValue[][];
  notes: string[];
}

const major = (minor: number | null, currency: string): number | null => (minor === null ? null : Number(formatMinor(minor, currency)));
const pct = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 100);

function unconvertedNote(u: Unconverted, currency: string): string[] {
  if (u.rows === 0) return [];
  const amounts = u.amounts.map((a) => `${formatMinor(a.amountMinor, a.currency)} ${a.currency}`).join(', ');
  return [`Not in these totals: ${u.rows} ledger rows that could not be converted to ${currency} (${amounts}).`];
}

function renderTable(t: Table): string {
  const cells = [t.headers, ...t.rows.map((r) => r.map((c) => (c === null || c === undefined ? '—' : typeof c === 'number' ? c.toLocaleString('en-US', { maximumFractionDigits: 4 }) : String(c))))];
  const widths = t.headers.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: CsvValue[]) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ').trimEnd();
  return [t.title, '', line(cells[0]!), ...cells.slice(1).map(line), ...(t.rows.length === 0 ? ['(nothing in this range)'] : []), ...(t.notes.length ? ['', ...t.notes] : [])].join('\n');
}

/** What the traffic-and-money tables' columns mean, printed under them (and said in `revtrail report` usage). */
const PER_CLICK_NOTE =
  'Net per click: the net credited to the row\'s clicks divided by its clicks; money that came with no click (Direct, or a visit with a source but no link) counts in Net but is not divided by clicks; — where there are no clicks.';
const CUSTOMERS_NOTE = 'Customers: those with a payment in the range credited to the row, new or renewing; Conversions: first payments only.';

const rangeTitle = (name: string, r: { from: string; to: string; timeZone: string; model: string; currency: string }) =>
  `${name}, ${r.from} to ${r.to} (${r.timeZone}), ${r.model.replace(/_/g, ' ')}, ${r.currency}`;

function journeyTable(j: Journey): Table {
  const rows: CsvValue[][] = j.events.map((e) => {
    const when = new Date(e.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if ('source' in e) return [when, 'identify', `visitor ${e.visitorId} (${e.source})`, null, null, null];
    if (!('credits' in e)) return [when, e.type, [e.channel, e.slug, e.campaign].filter(Boolean).join(' / '), null, null, null];
    const credit = e.credits.map((c) => `${c.channel}${c.weight < 1 ? ` ${Math.round(c.weight * 100)}%` : ''}`).join(', ');
    return [when, e.renewal && e.type === 'charge' ? 'renewal' : e.type, e.id, major(e.amountMinor, e.currency), e.currency, credit];
  });
  return {
    title: `Journey of ${j.customer.stripeId ?? j.customer.key}, ${j.model.replace(/_/g, ' ')}; net ${formatMinor(j.totals.netMinor, j.currency)} ${j.currency}`,
    headers: ['When (UTC)', 'Event', 'Detail', 'Amount', 'Currency', 'Credited to'],
    rows,
    notes: unconvertedNote(j.unconverted, j.currency),
  };
}

async function build(core: Core, name: ReportName, args: RangeArgs, customer: string | undefined): Promise<Result<{ value: unknown; table: Table }>> {
  const done = (value: unknown, table: Table) => ({ ok: true as const, value: { value, table } });
  switch (name) {
    case 'channels': {
      const r = await core.call('reports.channels', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Channels', v.range),
        headers: ['Channel', 'Clicks', 'Visitors', 'Customers', 'Conversions', 'Gross', 'Refunds', 'Disputes', 'Net', 'Fees', 'Conv. rate %', 'Net per click'],
        rows: v.rows.map((x) => [x.channel, x.clicks, x.uniqueVisitors, x.customers, x.conversions, major(x.grossMinor, c), major(x.refundsMinor, c), major(x.disputesMinor, c), major(x.netMinor, c), major(x.feesMinor, c), pct(x.conversionRate), major(x.revenuePerClickMinor, c)]),
        notes: [CUSTOMERS_NOTE, PER_CLICK_NOTE, ...unconvertedNote(v.unconverted, c)],
      });
    }
    case 'daily': {
      const r = await core.call('reports.daily', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Revenue per day', v.range),
        headers: ['Day', 'Channel', 'Gross', 'Refunds', 'Disputes', 'Net'],
        rows: v.rows.map((x) => [x.day, x.channel, major(x.grossMinor, c), major(x.refundsMinor, c), major(x.disputesMinor, c), major(x.netMinor, c)]),
        notes: unconvertedNote(v.unconverted, c),
      });
    }
    case 'links': {
      const r = await core.call('reports.links', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Links', v.range),
        headers: ['Link', 'Channel', 'Clicks', 'Visitors', 'Customers', 'Conversions', 'Gross', 'Refunds', 'Disputes', 'Net', 'Net per click'],
        rows: v.rows.map((x) => [x.slug ?? '(no link)', x.channel, x.clicks, x.uniqueVisitors, x.customers, x.conversions, major(x.grossMinor, c), major(x.refundsMinor, c), major(x.disputesMinor, c), major(x.netMinor, c), major(x.revenuePerClickMinor, c)]),
        notes: [CUSTOMERS_NOTE, PER_CLICK_NOTE, ...unconvertedNote(v.unconverted, c)],
      });
    }
    case 'campaigns': {
      const r = await core.call('reports.campaigns', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Campaigns', v.range),
        headers: ['Campaign', 'Clicks', 'Visitors', 'Customers', 'Conversions', 'Gross', 'Refunds', 'Disputes', 'Net', 'Net per click'],
        rows: v.rows.map((x) => [x.campaign ?? '(none)', x.clicks, x.uniqueVisitors, x.customers, x.conversions, major(x.grossMinor, c), major(x.refundsMinor, c), major(x.disputesMinor, c), major(x.netMinor, c), major(x.revenuePerClickMinor, c)]),
        notes: ['(none): clicks on links without a campaign, and money that came with no click.', CUSTOMERS_NOTE, PER_CLICK_NOTE, ...unconvertedNote(v.unconverted, c)],
      });
    }
    case 'ltv': {
      const r = await core.call('reports.ltv', args);
      if (!r.ok) return r;
      const v = r.value;
      const c = v.currency;
      return done(v, {
        title: rangeTitle('Subscription lifetime value (subscriptions started in the range, money to date)', v.range),
        headers: ['Channel', 'Subscriptions', 'Customers', 'First payments', 'Renewals', 'Refunds', 'Disputes', 'Net', 'LTV'],
        rows: v.rows.map((x) => [x.channel, x.subscriptions, x.customers, major(x.firstPaymentsMinor, c), major(x.renewalsMinor, c), major(x.refundsMinor, c), major(x.disputesMinor, c), major(x.netMinor, c), major(x.ltvMinor, c)]),
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
        rows: v.rows.map((x) => [x.channel, ...ATTRIBUTION_MODELS.flatMap((m: AttributionModel) => [x.models[m].conversions, major(x.models[m].netMinor, c)])]),
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
  const text = format === 'json' ? JSON.stringify(value, null, 2) : format === 'csv' ? toCsv([table.headers, ...table.rows]).replace(/\r\n$/, '') : renderTable(table);
  return { ok: true, value, text };
}
