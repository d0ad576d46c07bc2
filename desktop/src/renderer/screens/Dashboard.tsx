import { useEffect, useState } from 'react';
import { formatStars } from '@revtrail/shared/money';
import type { CampaignRow, ChannelRow, DashboardReports, Headline, LinkRow, PartnerRow, Report, Summary } from '../../core/attribution/reports';
import type { ReportFilter } from '../../core/attribution/reports-repo';
import { useApp, useIsSample, useWorkspace } from '../app-context';
import { bucketTitle, formatChange } from '../chart-format';
import { ErrorNote, Loading } from '../components/Notice';
import { ReportControls, type ReportChoice } from '../components/ReportControls';
import type * as ChartsExports from '../components/Charts';
import { UnconvertedNote } from '../components/UnconvertedNote';
import { formatAgo, formatCount, formatMoney, formatPercent, plural } from '../format';
import { hashOf, useHashLocation } from '../hash-route';
import { useDataVersion, useResult, type Loaded } from '../hooks';
import { takeFirstDashboard } from '../first-reports';
import { DATA_RENDERED_MARK } from '../marks';
import { lastDays, rangeLabel, readReportQuery, reportParams } from '../report-range';

type RangeOf = { range: { from: string; to: string; timeZone: string }; currency: string };

// The charts library is most of the renderer's code: it loads in its own chunk, asked for once the reports have been
// (useCharts comes after their request), so it is fetched and compiled while the core answers them rather than
// before the page can ask for them.
type ChartsModule = typeof ChartsExports;
let chartsLoaded: ChartsModule | null = null;
let chartsLoading: Promise<ChartsModule> | null = null;

/** The charts' module once loaded (null before). */
function useCharts(): ChartsModule | null {
  const [charts, setCharts] = useState(chartsLoaded);
  useEffect(() => {
    if (charts) return;
    let live = true;
    chartsLoading ??= import('../components/Charts').then((m) => (chartsLoaded = m));
    void chartsLoading.then((m) => live && setCharts(m));
    return () => {
      live = false;
    };
  }, [charts]);
  return charts;
}

/**
 * The founder's morning screen: the headline numbers against the previous period, revenue and traffic over
 * time, and the channels, links, campaigns and partners behind them, all over one range, model and currency
 * (kept in the address). A row narrows every panel to itself; Back widens it again.
 */
export function Dashboard() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings] = useResult(() => rpc.call('settings.get', { workspace: ws.id }), [ws.id]);
  const [currencies] = useResult(() => rpc.call('reports.currencies', { workspace: ws.id }), [ws.id]);
  const [location, go] = useHashLocation();
  // No choice in the address: the workspace's own model, currency, zone and last 30 days, which the reports
  // apply by themselves, so the first reports need not wait for the settings.
  const { choice, filter } = readReportQuery(location.params);
  const shown = choice ?? (settings.state === 'ok' ? { model: settings.value.model, currency: settings.value.currency, days: 30 } : null);
  // A new range, model or currency replaces the address; a filter is a step Back undoes.
  const setChoice = (c: ReportChoice) => go(hashOf('dashboard', null, reportParams({ choice: c, filter })), { replace: true });
  const setFilter = (f: ReportFilter | null) => go(hashOf('dashboard', null, reportParams({ choice, filter: f })));
  return (
    <section>
      <div className="row spread">
        <h1>{ws.name}</h1>
        {shown && (
          <div className="row">
            <ReportControls value={shown} onChange={setChoice} currencies={currencies.state === 'ok' ? currencies.value.currencies : []} />
            <a href={hashOf('models', null, reportParams({ choice: shown, filter: null }))}>Compare models</a>
          </div>
        )}
      </div>
      {settings.state === 'error' && <ErrorNote error={settings.error} />}
      <Status />
      {filter && <FilterNote filter={filter} clear={() => setFilter(null)} />}
      <Reports choice={choice} filter={filter} setFilter={setFilter} timeZone={settings.state === 'ok' ? settings.value.timeZone : null} />
    </section>
  );
}

const FILTER_WORDS: Record<ReportFilter['by'], [string, string]> = {
  channel: ['channel', 'no channel'],
  link: ['link', 'money that came through no link'],
  campaign: ['campaign', 'links without a campaign and money with no link'],
  partner: ['partner', 'links of no partner and money with no link'],
};

function FilterNote({ filter, clear }: { filter: ReportFilter; clear(): void }) {
  const [what, none] = FILTER_WORDS[filter.by];
  return (
    <p className="filter-note" role="status">
      Showing only {filter.value === null ? none : <>{what} <strong>{filter.value}</strong></>}.{' '}
      <button type="button" className="small secondary" onClick={clear}>
        Show everything
      </button>
    </p>
  );
}

function Status() {
  const { rpc, info } = useApp();
  const ws = useWorkspace();
  const sample = useIsSample();
  const version = useDataVersion();
  const [status] = useResult(() => rpc.call('status.get', { workspace: ws.id }), [ws.id, version]);
  // The sample has no redirector and no Stripe by design: its banner says so (known once the shell's info is in).
  if (status.state !== 'ok' || info === null || sample) return null;
  const here = status.value.workspaces[0];
  if (!here) return null;
  if (!here.redirector.connected || !here.stripe.connected) {
    return (
      <p className="warning">
        {!here.redirector.connected ? 'No redirector connected: clicks are not counted.' : 'Stripe is not connected: there is no revenue to show.'}{' '}
        <a href="#/onboarding">Set up</a>
      </p>
    );
  }
  return (
    <p className="muted">
      Clicks pulled {formatAgo(here.redirector.lastPullAt)}, payments {formatAgo(here.stripe.lastPullAt)}. <a href="#/sync">Sync</a>
    </p>
  );
}

function Reports({ choice, filter, setFilter, timeZone }: { choice: ReportChoice | null; filter: ReportFilter | null; setFilter(f: ReportFilter | null): void; timeZone: string | null }) {
  const { rpc } = useApp();
  const ws = useWorkspace();
  // One query for every panel: the range, model and currency chosen (before a choice, the workspace's own).
  const query = { ...(choice && timeZone ? { ...lastDays(choice.days, timeZone), model: choice.model, currency: choice.currency } : {}), filter };
  // Read again when a sync (or a Stripe webhook) changed the data, without the screen being opened again.
  const version = useDataVersion();
  const key = [ws.id, choice?.model, choice?.currency, choice?.days, timeZone !== null && choice !== null, filter?.by, filter?.value, version];
  const args = { workspace: ws.id, ...query };
  // The six panels' reports in one call: the core reads the range once for all of them (each the same as asked alone).
  const ask = () => rpc.call('reports.dashboard', args);
  // The first query, nothing chosen: the answer the page asked for as it started, if it is this workspace's.
  const [all] = useResult(() => (choice === null && filter === null && version === 0 ? takeFirstDashboard(ws.id, ask) : null) ?? ask(), key);
  const part = <K extends keyof DashboardReports>(k: K): Loaded<DashboardReports[K]> => (all.state === 'ok' ? { state: 'ok', value: all.value[k] } : all);
  const summary = part('summary');
  const series = part('series');
  const channels = part('channels');
  const links = part('links');
  const campaigns = part('campaigns');
  const partners = part('partners');
  // Each heading says the range and currency its own report answered with, so it cannot say another.
  const asked = `last ${choice?.days ?? 30} days`;
  const heading = (r: Loaded<RangeOf>) => (r.state === 'ok' ? `${rangeLabel(r.value.range)} (${r.value.currency})` : asked);

  const charts = useCharts();
  const ready = series.state === 'ok' && channels.state === 'ok' && charts !== null;
  useEffect(() => {
    if (!ready) return;
    // After the browser has painted the data, not merely when React committed it.
    const id = requestAnimationFrame(() => setTimeout(() => performance.mark(DATA_RENDERED_MARK), 0));
    return () => cancelAnimationFrame(id);
  }, [ready]);

  return (
    <>
      <Headlines summary={summary} />
      <div className="chart-pair">
        <div className="card">
          <h2>Net revenue per channel, {heading(series)}</h2>
          {(series.state === 'loading' || (series.state === 'ok' && charts === null && series.value.channels.length > 0)) && <Loading what="revenue" />}
          {series.state === 'error' && <ErrorNote error={series.error} />}
          {series.state === 'ok' &&
            (series.value.channels.length === 0 ? <p className="muted">No revenue in these days yet.</p> : charts && <charts.RevenueChart series={series.value} />)}
          {series.state === 'ok' && <UnconvertedNote unconverted={series.value.unconverted} currency={series.value.currency} />}
          {series.state === 'ok' && charts && <charts.SeriesTable series={series.value} />}
        </div>
        <div className="card">
          <h2>Clicks and visitors, {series.state === 'ok' ? rangeLabel(series.value.range) : asked}</h2>
          {series.state === 'ok' &&
            (series.value.points.every((p) => p.clicks === 0) ? <p className="muted">No clicks in these days yet.</p> : charts && <charts.TrafficChart series={series.value} />)}
        </div>
      </div>
      <div className="card">
        <h2>Top channels, {heading(channels)}</h2>
        {channels.state === 'loading' && <Loading what="channels" />}
        {channels.state === 'error' && <ErrorNote error={channels.error} />}
        {channels.state === 'ok' && <ChannelTable rows={channels.value.rows} range={rangeLabel(channels.value.range)} filter={filter} onPick={(v) => setFilter({ by: 'channel', value: v })} />}
        {channels.state === 'ok' && <UnconvertedNote unconverted={channels.value.unconverted} currency={channels.value.currency} />}
      </div>
      <div className="breakdowns">
        <Breakdown<LinkRow>
          title="Top links"
          report={links}
          heading={heading}
          rows={(r) => r.rows.map((x) => ({ key: x.slug, name: x.slug ?? 'No link', row: x }))}
          by="link"
          filter={filter}
          setFilter={setFilter}
        />
        <Breakdown<CampaignRow>
          title="Campaigns"
          report={campaigns}
          heading={heading}
          rows={(r) => r.rows.map((x) => ({ key: x.campaign, name: x.campaign ?? 'No campaign', row: x }))}
          by="campaign"
          filter={filter}
          setFilter={setFilter}
        />
        <Breakdown<PartnerRow>
          title="Partners"
          report={partners}
          heading={heading}
          rows={(r) => r.rows.map((x) => ({ key: x.partnerId, name: x.partnerId === null ? 'No partner' : (x.name ?? x.partnerId), row: x }))}
          by="partner"
          filter={filter}
          setFilter={setFilter}
        />
      </div>
    </>
  );
}

const HEADLINES: { key: keyof Headline & string; label: string; kind: 'money' | 'count' | 'rate'; hint: string }[] = [
  { key: 'netMinor', label: 'Revenue', kind: 'money', hint: 'Net: payments less refunds and disputes.' },
  { key: 'customers', label: 'Customers', kind: 'count', hint: 'Who paid in these days, new or renewing.' },
  { key: 'clicks', label: 'Clicks', kind: 'count', hint: 'Clicks on your links, bots and repeats left out.' },
  { key: 'visitors', label: 'Visitors', kind: 'count', hint: 'Different people who clicked.' },
  { key: 'conversionRate', label: 'Conversion', kind: 'rate', hint: 'New paying customers credited to a click, per visitor.' },
];

function Headlines({ summary }: { summary: Loaded<Summary> }) {
  if (summary.state === 'error') return <ErrorNote error={summary.error} />;
  if (summary.state === 'loading') return <Loading what="the headline numbers" />;
  const s = summary.value;
  const days = plural(dayCount(s.previousRange.from, s.previousRange.to), 'day');
  return (
    <section aria-label="Headline numbers">
      <div className="headlines">
      {HEADLINES.map((h) => {
        const now = s.current[h.key] as number | null;
        const before = s.previous[h.key] as number | null;
        const change = formatChange(now, before, h.kind === 'rate' ? 'rate' : 'count');
        const value = now === null ? '—' : h.kind === 'money' ? formatMoney(now, s.currency) : h.kind === 'rate' ? formatPercent(now) : formatCount(now);
        const was = before === null ? '—' : h.kind === 'money' ? formatMoney(before, s.currency) : h.kind === 'rate' ? formatPercent(before) : formatCount(before);
        return (
          <div className="stat" key={h.key} data-stat={h.key} title={h.hint}>
            <p className="stat-label">{h.label}</p>
            <p className="stat-value">{value}</p>
            <p className={`stat-change ${change.direction}`}>
              {change.direction === 'up' ? '▲ ' : change.direction === 'down' ? '▼ ' : ''}
              {change.text} <span className="muted">vs {was}</span>
            </p>
          </div>
        );
      })}
      </div>
      <p className="muted small">
        Against the {days} before, {bucketTitle(s.previousRange.from, s.previousRange.to, 'week')}. Hover a figure for what it counts.
      </p>
    </section>
  );
}

const dayCount = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

function ChannelTable({ rows, range, filter, onPick }: { rows: ChannelRow[]; range: string; filter: ReportFilter | null; onPick(channel: string): void }) {
  if (rows.length === 0) {
    const when = /^\d/.test(range) ? `from ${range}` : range === 'today' ? 'today' : `in the ${range}`;
    return <p className="muted">Nothing {when} yet: share a link, then sync.</p>;
  }
  const picked = filter?.by === 'channel';
  const bot = hasBotFigures(rows);
  return (
    <>
      <div className="table-scroll">
        <table className="table" aria-label="Top channels">
          <thead>
            <tr>
              <th>Channel</th>
              <th className="num">Clicks</th>
              <th className="num">Visitors</th>
              <th className="num">Customers</th>
              <th className="num">Conversion</th>
              <th className="num">Gross</th>
              <th className="num">Refunds</th>
              <th className="num">Net</th>
              <th className="num">Per click</th>
              {bot && <BotHeads />}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.channel} data-channel={r.channel}>
                <td>
                  {picked ? (
                    r.channel
                  ) : (
                    <button type="button" className="link" title={`Show only ${r.channel}`} onClick={() => onPick(r.channel)}>
                      {r.channel}
                    </button>
                  )}
                </td>
                <td className="num">{formatCount(r.clicks)}</td>
                <td className="num">{formatCount(r.uniqueVisitors)}</td>
                <td className="num">{formatCount(r.customers)}</td>
                <td className="num">{r.conversionRate === null ? '—' : formatPercent(r.conversionRate)}</td>
                <td className="num">{formatMoney(r.grossMinor, r.currency)}</td>
                <td className="num">{formatMoney(r.refundsMinor, r.currency)}</td>
                <td className="num" data-cell="net">
                  {formatMoney(r.netMinor, r.currency)}
                </td>
                <td className="num" data-cell="per-click">
                  {r.revenuePerClickMinor === null ? '—' : formatMoney(r.revenuePerClickMinor, r.currency)}
                </td>
                {bot && <BotCells row={r} />}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted">
        Customers: those who paid in the range, new or renewing. Per click: the net that came through clicks, divided by them; money with no click (Direct, or a
        visit without a link) is not divided. Choose a channel to see only its figures.
      </p>
    </>
  );
}

/**
 * Telegram bot figures get columns only when a row of the range has any, so a workspace without a bot sees the
 * tables it always had. Stars stay in their own unit: never converted, never in Gross or Net.
 */
const hasBotFigures = (rows: readonly Pick<ChannelRow, 'botStarts' | 'stars'>[]) => rows.some((r) => r.botStarts > 0 || r.stars > 0);

function BotHeads() {
  return (
    <>
      <th className="num" title="Presses of Start in your Telegram bot that came from a click credited here.">
        Bot starts
      </th>
      <th className="num" title="Telegram Stars paid through your bot, net of refunds: in Stars, not converted nor counted in Net.">
        Stars
      </th>
    </>
  );
}

function BotCells({ row }: { row: Pick<ChannelRow, 'botStarts' | 'stars'> }) {
  return (
    <>
      <td className="num" data-cell="bot-starts">
        {formatCount(row.botStarts)}
      </td>
      <td className="num" data-cell="stars">
        {formatStars(row.stars)}
      </td>
    </>
  );
}

const SHOWN_ROWS = 8;

/** A compact breakdown (name, clicks, customers, net): a row narrows the dashboard to itself. */
function Breakdown<R extends Omit<ChannelRow, 'channel'>>({
  title,
  report,
  heading,
  rows,
  by,
  filter,
  setFilter,
}: {
  title: string;
  report: Loaded<Report<R>>;
  heading(r: Loaded<RangeOf>): string;
  rows(r: Report<R>): { key: string | null; name: string; row: R }[];
  by: ReportFilter['by'];
  filter: ReportFilter | null;
  setFilter(f: ReportFilter): void;
}) {
  const all = report.state === 'ok' ? rows(report.value) : [];
  // Decided over every row of the range, not only the rows shown, as the channel table does.
  const bot = hasBotFigures(all.map((x) => x.row));
  return (
    <div className="card" data-breakdown={by}>
      <h2>
        {title}, {heading(report)}
      </h2>
      {report.state === 'loading' && <Loading what={title.toLowerCase()} />}
      {report.state === 'error' && <ErrorNote error={report.error} />}
      {report.state === 'ok' && all.length === 0 && <p className="muted">Nothing in these days.</p>}
      {all.length > 0 && (
        <table className={`table compact${bot ? ' with-bot' : ''}`} aria-label={title}>
          <thead>
            <tr>
              <th>{by === 'link' ? 'Link' : by === 'campaign' ? 'Campaign' : 'Partner'}</th>
              <th className="num">Clicks</th>
              <th className="num">Customers</th>
              <th className="num">Net</th>
              {bot && <BotHeads />}
            </tr>
          </thead>
          <tbody>
            {all.slice(0, SHOWN_ROWS).map(({ key, name, row }) => (
              <tr key={key ?? '\u0000'} data-key={key ?? ''}>
                <td className="truncate" title={name}>
                  {filter?.by === by ? (
                    <span className={key === null ? 'muted' : undefined}>{name}</span>
                  ) : (
                    <button type="button" className={`link${key === null ? ' none' : ''}`} title={`Show only ${name}`} onClick={() => setFilter({ by, value: key })}>
                      {name}
                    </button>
                  )}
                </td>
                <td className="num">{formatCount(row.clicks)}</td>
                <td className="num">{formatCount(row.customers)}</td>
                <td className="num" data-cell="net">
                  {formatMoney(row.netMinor, row.currency)}
                </td>
                {bot && <BotCells row={row} />}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {all.length > SHOWN_ROWS && (
        <p className="muted">
          Top {formatCount(SHOWN_ROWS)} of {plural(all.length, by)}.
        </p>
      )}
    </div>
  );
}
