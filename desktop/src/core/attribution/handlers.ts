import { err, isPlainObject, ok, type Result } from '@revtrail/shared';
import {
  DEFAULT_CHANNEL_RULES,
  addDays,
  dayInZone,
  isAttributionModel,
  isDay,
  isTimeZone,
  parseChannelRules,
  zoneRange,
  type AttributionModel,
  type ChannelRule,
} from '@revtrail/shared/attribution/index';
import type { CoreContext } from '../context';
import type { Workspace } from '../workspaces/registry';
import type { Db } from '../db/open';
import { createFxConverter } from '../fx/rates';
import type Stripe from 'stripe';
import { getDataSettings } from '../privacy/settings-repo';
import { ensureClickDays } from './click-days';
import { checkReportCurrency, reportCurrencies, type ReportCurrencies } from './currencies';
import { CustomerNames, MAX_NAMES_PER_REQUEST, type CustomerName } from './customer-names';
import { rebuildAttribution, type RebuildResult } from './ledger';
import { lastBuild, type LedgerBuild } from './ledger-repo';
import {
  campaignsReport,
  dashboardReport,
  channelsReport,
  customerJourney,
  customersReport,
  dailyReport,
  linksReport,
  ltvReport,
  modelsReport,
  partnersReport,
  seriesReport,
  summaryReport,
  BUCKETS,
  type Bucket,
  type CampaignRow,
  type DashboardReports,
  type ChannelRow,
  type CustomerRow,
  type DailyRow,
  type Journey,
  type LinkRow,
  type LtvRow,
  type ModelsRow,
  type Money,
  type PartnerRow,
  type Series,
  type Summary,
  type Report,
  type ReportRange,
  type ReportSource,
  type Unconverted,
} from './reports';
import { FILTER_BY, type ReportFilter } from './reports-repo';
import { getSettings, saveSettings, type AttributionSettings } from './settings-repo';

/** Range arguments of every report: days in `tz` (the setting when absent), the last 30 days by default. */
export interface RangeArgs {
  workspace?: string;
  from?: string;
  to?: string;
  tz?: string;
  model?: AttributionModel;
  currency?: string;
  /** Only one channel, link, campaign or partner (value null: the rows without one). */
  filter?: ReportFilter | null;
}

export interface SettingsInput {
  workspace?: string;
  model?: AttributionModel;
  windowDays?: number;
  currency?: string;
  timeZone?: string;
  /** null: back to the shipped default grouping. */
  channelRules?: ChannelRule[] | null;
}

export type AttributionHandlers = {
  'settings.get': (args: { workspace?: string }) => Promise<Result<AttributionSettings & { defaultChannelRules: ChannelRule[]; lastBuild: LedgerBuild | null }>>;
  /** Validates and stores; a change of window, currency or channel rules rebuilds the ledger. */
  'settings.set': (args: SettingsInput) => Promise<Result<{ settings: AttributionSettings; rebuilt: RebuildResult | null }>>;
  'attribution.rebuild': (args: { workspace?: string }) => Promise<Result<RebuildResult>>;
  'reports.channels': (args: RangeArgs) => Promise<Result<Report<ChannelRow>>>;
  'reports.daily': (args: RangeArgs) => Promise<Result<Report<DailyRow> & { days: string[]; channels: string[] }>>;
  'reports.links': (args: RangeArgs) => Promise<Result<Report<LinkRow>>>;
  'reports.partners': (args: RangeArgs) => Promise<Result<Report<PartnerRow>>>;
  /** The headline numbers of the range and of the as many days before it. */
  'reports.summary': (args: RangeArgs) => Promise<Result<Summary>>;
  /** Net revenue per channel, clicks and visitors per day, week or month (by the range's length unless given). */
  'reports.series': (args: RangeArgs & { bucket?: Bucket }) => Promise<Result<Series>>;
  'reports.campaigns': (args: RangeArgs) => Promise<Result<Report<CampaignRow>>>;
  /** The dashboard's six reports (summary, series, channels, links, campaigns, partners) in one answer, each as asked alone. */
  'reports.dashboard': (args: RangeArgs) => Promise<Result<DashboardReports & { workspace: string }>>;
  'reports.ltv': (args: RangeArgs) => Promise<Result<Report<LtvRow>>>;
  'reports.models': (args: RangeArgs) => Promise<Result<Omit<Report<ModelsRow>, 'totals'> & { totals: Record<AttributionModel, Money & { conversions: number }> }>>;
  /** The currencies a report (and the reporting-currency setting) can be in: what the currency pickers offer. */
  'reports.currencies': (args: { workspace?: string }) => Promise<Result<ReportCurrencies>>;
  'reports.journey': (args: { workspace?: string; customer: string; model?: AttributionModel; currency?: string }) => Promise<Result<Journey>>;
  /**
   * Stripe's name and email of the given customers (cus_ ids), read now from Stripe, only where the workspace
   * allows it (Privacy): else `allowed` is false and nothing is read. `unavailable`: why none could be read.
   */
  'reports.customerNames': (args: { workspace?: string; customers: string[] }) => Promise<Result<{ allowed: boolean; names: Record<string, CustomerName>; unavailable: string | null }>>;
  /** Customers by net revenue; all time unless from/to are given. */
  'reports.customers': (args: RangeArgs & { limit?: number }) => Promise<Result<{ rows: CustomerRow[]; total: number; unconverted: Unconverted; currency: string }>>;
};

/** The longest range a report accepts: ten years of days. */
const MAX_RANGE_DAYS = 3660;
const DEFAULT_RANGE_DAYS = 30;

/**
 * Rebuilds a workspace's ledger with the ECB rates it holds (the bundled snapshot at least), and counts the clicks'
 * days in the reports' zone when they are not counted in it yet (a database from before the rollups).
 */
export function rebuildWorkspaceAttribution(ctx: Pick<CoreContext, 'clock' | 'ratesSnapshotPath'>, db: Db, settings?: AttributionSettings): RebuildResult {
  const rebuilt = rebuildAttribution(db, createFxConverter(db, { snapshotPath: ctx.ratesSnapshotPath }), settings, { clock: ctx.clock });
  ensureClickDays(db, (settings ?? getSettings(db)).timeZone);
  return rebuilt;
}

/** A report's currency: the setting when absent, else one Revtrail can convert to (./currencies.ts). */
type CurrencyCheck = (value: unknown) => Result<string>;

function readRange(args: RangeArgs, s: AttributionSettings, now: number, checkCurrency: CurrencyCheck): Result<ReportRange> {
  const problems: string[] = [];
  const timeZone = args.tz ?? s.timeZone;
  if (!isTimeZone(timeZone)) problems.push(`tz: "${String(args.tz)}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  const model = args.model ?? s.model;
  if (!isAttributionModel(model)) problems.push('model: one of last_click, first_click, linear, last_non_direct');
  const checked = args.currency === undefined ? ok(s.currency) : checkCurrency(args.currency);
  if (!checked.ok) problems.push(checked.error.message);
  const currency = checked.ok ? checked.value : s.currency;
  for (const key of ['from', 'to'] as const) {
    if (args[key] !== undefined && !isDay(args[key])) problems.push(`${key}: a day as YYYY-MM-DD`);
  }
  const filter = readFilter(args.filter);
  if (typeof filter === 'string') problems.push(filter);
  if (problems.length > 0) return err('invalid_input', problems.join('; '));
  const to = args.to ?? (args.from !== undefined ? addDays(args.from, DEFAULT_RANGE_DAYS - 1) : dayInZone(now, timeZone));
  const from = args.from ?? addDays(to, -(DEFAULT_RANGE_DAYS - 1));
  if (from > to) return err('invalid_input', `from (${from}) is after to (${to}).`);
  if (addDays(from, MAX_RANGE_DAYS) <= to) return err('invalid_input', `A report covers at most ${MAX_RANGE_DAYS} days.`);
  return ok({ from, to, timeZone, model, currency, filter: filter as ReportFilter | null, ...zoneRange(from, to, timeZone) });
}

/** A report's filter, or what is wrong with it. */
function readFilter(raw: unknown): ReportFilter | null | string {
  if (raw === undefined || raw === null) return null;
  const problem = `filter: { by: one of ${FILTER_BY.join(', ')}; value: its name (up to 200 characters) or null for none }`;
  if (!isPlainObject(raw)) return problem;
  const { by, value } = raw as Record<string, unknown>;
  if (!FILTER_BY.includes(by as ReportFilter['by'])) return problem;
  if (value !== null && !(typeof value === 'string' && value.length > 0 && value.length <= 200)) return problem;
  // A channel is never null: every click and ledger row has one.
  if (by === 'channel' && value === null) return problem;
  return { by: by as ReportFilter['by'], value };
}

function readSettings(input: SettingsInput, current: AttributionSettings, checkCurrency: CurrencyCheck): Result<Omit<AttributionSettings, 'channelRules' | 'customRules'> & { channelRules: ChannelRule[] | null }> {
  const raw: unknown = input;
  if (!isPlainObject(raw)) return err('invalid_input', 'settings: a JSON object');
  const problems: string[] = [];
  const known = ['workspace', 'model', 'windowDays', 'currency', 'timeZone', 'channelRules'];
  for (const key of Object.keys(raw)) if (!known.includes(key)) problems.push(`${key}: unknown setting (known: ${known.slice(1).join(', ')})`);
  if (input.model !== undefined && !isAttributionModel(input.model)) problems.push('model: one of last_click, first_click, linear, last_non_direct');
  if (input.windowDays !== undefined && !(Number.isInteger(input.windowDays) && input.windowDays >= 1 && input.windowDays <= 365)) problems.push('windowDays: a whole number of days from 1 to 365');
  if (input.currency !== undefined) {
    const checked = checkCurrency(input.currency);
    if (!checked.ok) problems.push(checked.error.message);
  }
  if (input.timeZone !== undefined && !isTimeZone(input.timeZone)) problems.push('timeZone: an IANA time zone such as Europe/Berlin or UTC');
  let rules: ChannelRule[] | null = current.customRules ? current.channelRules : null;
  if (input.channelRules === null) rules = null;
  else if (input.channelRules !== undefined) {
    const parsed = parseChannelRules(input.channelRules);
    if (parsed.ok) rules = parsed.value;
    else problems.push(...parsed.problems);
  }
  if (problems.length > 0) return err('invalid_input', problems.join('; '));
  return ok({
    model: input.model ?? current.model,
    windowDays: input.windowDays ?? current.windowDays,
    currency: (input.currency ?? current.currency).toUpperCase(),
    timeZone: input.timeZone ?? current.timeZone,
    channelRules: rules,
  });
}

/** What the attribution handlers need beyond the context: Stripe, for the names a workspace allows. */
export interface AttributionDeps {
  /** The official client on the workspace's Stripe (its account and API address). */
  stripeClient(ws: Workspace, key: string): Stripe;
}

export function createAttributionHandlers(ctx: CoreContext, deps: AttributionDeps): AttributionHandlers {
  const names = new CustomerNames(ctx.clock);
  /** The workspace's database with a ledger built at least once (an upgraded workspace builds on first use). */
  const open = (ref: string | undefined): { ok: true; db: Db; settings: AttributionSettings; workspace: Workspace } | { ok: false; error: Result<never> } => {
    const found = ctx.resolve(ref);
    if (!found.ok) return found;
    const settings = getSettings(found.db);
    if (lastBuild(found.db) === null) rebuildWorkspaceAttribution(ctx, found.db, settings);
    return { ok: true, db: found.db, settings, workspace: found.workspace };
  };
  const currencyCheck =
    (db: Db, s: AttributionSettings): CurrencyCheck =>
    (value) =>
      checkReportCurrency(db, value, { snapshotPath: ctx.ratesSnapshotPath, current: s.currency });
  const source = (db: Db): ReportSource => {
    let fx: ReturnType<typeof createFxConverter> | null = null;
    return { db, ledgerCurrency: lastBuild(db)?.currency ?? getSettings(db).currency, fx: () => (fx ??= createFxConverter(db, { snapshotPath: ctx.ratesSnapshotPath })) };
  };
  const report =
    <T>(run: (src: ReportSource, range: ReportRange) => T) =>
    async (args: RangeArgs): Promise<Result<T>> => {
      const w = open(args?.workspace);
      if (!w.ok) return w.error;
      const range = readRange(args ?? {}, w.settings, ctx.clock.now(), currencyCheck(w.db, w.settings));
      if (!range.ok) return range;
      return ok(run(source(w.db), range.value));
    };

  return {
    'settings.get': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      return ok({ ...getSettings(found.db), defaultChannelRules: [...DEFAULT_CHANNEL_RULES], lastBuild: lastBuild(found.db) });
    },

    'settings.set': async (input) => {
      const found = ctx.resolve(input?.workspace);
      if (!found.ok) return found.error;
      const current = getSettings(found.db);
      const next = readSettings(input, current, currencyCheck(found.db, current));
      if (!next.ok) return next;
      saveSettings(found.db, next.value, ctx.clock.now());
      const settings = getSettings(found.db);
      // The clicks' days are counted in the reports' zone: another zone counts them again.
      ensureClickDays(found.db, settings.timeZone);
      const changesLedger =
        settings.windowDays !== current.windowDays || settings.currency !== current.currency || JSON.stringify(settings.channelRules) !== JSON.stringify(current.channelRules);
      // Model and time zone only choose how the ledger is read: every model is in it already.
      const rebuilt = changesLedger || lastBuild(found.db) === null ? rebuildWorkspaceAttribution(ctx, found.db, settings) : null;
      if (rebuilt) ctx.log.info({ workspace: found.workspace.id, rows: rebuilt.rows, tookMs: rebuilt.tookMs }, 'attribution rebuilt');
      return ok({ settings, rebuilt });
    },

    'attribution.rebuild': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const r = rebuildWorkspaceAttribution(ctx, found.db);
      ctx.log.info({ workspace: found.workspace.id, rows: r.rows, tookMs: r.tookMs }, 'attribution rebuilt');
      return ok(r);
    },

    'reports.channels': report(channelsReport),
    'reports.daily': report(dailyReport),
    'reports.links': report(linksReport),
    'reports.partners': report(partnersReport),
    'reports.summary': report(summaryReport),
    'reports.series': async (args) => {
      if (args?.bucket !== undefined && !BUCKETS.includes(args.bucket)) return err('invalid_input', `bucket: one of ${BUCKETS.join(', ')}`);
      return report((src, range) => seriesReport(src, range, args.bucket))(args);
    },
    'reports.campaigns': report(campaignsReport),
    // With the workspace it answered for: the page asks before it knows which it shows (renderer/first-reports.ts).
    'reports.dashboard': async (args) => {
      // The longest call a page makes, asked right behind the workspace list: one turn of the event loop first, so
      // the answers ahead of it leave before it holds the thread (else they wait for it, and the page with them).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const w = open(args?.workspace);
      if (!w.ok) return w.error;
      const range = readRange(args ?? {}, w.settings, ctx.clock.now(), currencyCheck(w.db, w.settings));
      if (!range.ok) return range;
      return ok({ workspace: w.workspace.id, ...dashboardReport(source(w.db), range.value) });
    },
    'reports.ltv': report(ltvReport),
    'reports.models': report(modelsReport),

    'reports.currencies': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      return ok(reportCurrencies(found.db, { snapshotPath: ctx.ratesSnapshotPath, current: getSettings(found.db).currency }));
    },

    'reports.journey': async (args) => {
      const w = open(args?.workspace);
      if (!w.ok) return w.error;
      if (typeof args.customer !== 'string' || args.customer.trim() === '') return err('invalid_input', 'customer: a Stripe customer id (cus_...)');
      const model = args.model ?? w.settings.model;
      if (!isAttributionModel(model)) return err('invalid_input', 'model: one of last_click, first_click, linear, last_non_direct');
      const currency = args.currency === undefined ? ok(w.settings.currency) : currencyCheck(w.db, w.settings)(args.currency);
      if (!currency.ok) return currency;
      const journey = customerJourney(source(w.db), args.customer.trim(), model, currency.value, ctx.clock.now());
      if (!journey) return err('not_found', `No customer ${args.customer} in this workspace: check the id in Stripe, then sync (${ctx.step({ app: 'Sync screen', cli: 'revtrail sync --stripe' })}).`);
      return ok(journey);
    },

    'reports.customerNames': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const ids = args?.customers;
      if (!Array.isArray(ids) || ids.length > MAX_NAMES_PER_REQUEST || !ids.every((id) => typeof id === 'string' && id.length <= 255)) {
        return err('invalid_input', `customers: a list of up to ${MAX_NAMES_PER_REQUEST} Stripe customer ids (cus_...)`);
      }
      const { workspace, db } = found;
      if (!getDataSettings(db).customerNames) {
        names.forget(workspace.id);
        return ok({ allowed: false, names: {}, unavailable: null });
      }
      const wanted = ids.filter((id) => /^cus_[A-Za-z0-9]+$/.test(id));
      if (wanted.length === 0) return ok({ allowed: true, names: {}, unavailable: null });
      const key = await ctx.secret(workspace, 'stripe_key').catch(() => null);
      const stripeStep = ctx.step({ app: 'connect it on the Set up screen', cli: 'connect it with revtrail connect stripe' });
      if (!key) return ok({ allowed: true, names: {}, unavailable: `Stripe is not connected to this workspace, so names cannot be read (${stripeStep}); customers keep their labels.` });
      try {
        return ok({ allowed: true, names: await names.read(workspace.id, deps.stripeClient(workspace, key), wanted), unavailable: null });
      } catch (e) {
        // The error's type and code only: a Stripe message may quote a customer id.
        ctx.log.warn({ workspace: workspace.id, type: (e as { type?: string }).type, code: (e as { code?: string }).code }, 'customer names not read from Stripe');
        return ok({ allowed: true, names: {}, unavailable: 'Stripe did not give the names now (the key may lack Customers read, or Stripe was out of reach); customers keep their labels. Try again later.' });
      }
    },

    'reports.customers': async (args) => {
      const w = open(args?.workspace);
      if (!w.ok) return w.error;
      const limit = args?.limit ?? 1000;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) return err('invalid_input', 'limit: a whole number from 1 to 100000');
      const ranged = args?.from !== undefined || args?.to !== undefined;
      const range = readRange(args ?? {}, w.settings, ctx.clock.now(), currencyCheck(w.db, w.settings));
      if (!range.ok) return range;
      const r = range.value;
      return ok(customersReport(source(w.db), ranged ? r : null, r.model, r.currency, limit));
    },
  };
}
