import { useEffect, useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { currencyExponent } from '@revtrail/shared/money';
import type { ChannelRow } from '../../core/attribution/reports';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { ReportControls, type ReportChoice } from '../components/ReportControls';
import { UnconvertedNote } from '../components/UnconvertedNote';
import { formatAgo, formatCount, formatMoney, formatPercent } from '../format';
import { useDataVersion, useResult, type Loaded } from '../hooks';
import { DATA_RENDERED_MARK } from '../marks';
import { lastDays, rangeLabel } from '../report-range';

const PALETTE = ['#3a5ccc', '#e8793a', '#2f9e6e', '#c2417a', '#8a63d2', '#c9a227', '#2b9bb3', '#7a7f8c', '#d65151', '#5c8a2e'];

/** Which channel pays: net revenue per channel and day (stacked), and the top channels, over one chosen range. */
export function Dashboard() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings] = useResult(() => rpc.call('settings.get', { workspace: ws.id }), [ws.id]);
  const [currencies] = useResult(() => rpc.call('reports.currencies', { workspace: ws.id }), [ws.id]);
  // null: the workspace's own model, currency, zone and last 30 days, which the reports apply by
  // themselves, so the first reports need not wait for the settings.
  const [choice, setChoice] = useState<ReportChoice | null>(null);
  const shown = choice ?? (settings.state === 'ok' ? { model: settings.value.model, currency: settings.value.currency, days: 30 } : null);
  return (
    <section>
      <div className="row spread">
        <h1>{ws.name}</h1>
        {shown && <ReportControls value={shown} onChange={setChoice} currencies={currencies.state === 'ok' ? currencies.value.currencies : []} />}
      </div>
      {settings.state === 'error' && <ErrorNote error={settings.error} />}
      <Status />
      <Reports choice={choice} timeZone={settings.state === 'ok' ? settings.value.timeZone : null} />
    </section>
  );
}

function Status() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const version = useDataVersion();
  const [status] = useResult(() => rpc.call('status.get', { workspace: ws.id }), [ws.id, version]);
  if (status.state !== 'ok') return null;
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

function Reports({ choice, timeZone }: { choice: ReportChoice | null; timeZone: string | null }) {
  const { rpc } = useApp();
  const ws = useWorkspace();
  // One query for every panel: the range, model and currency chosen (before a choice, the workspace's own).
  const query = choice && timeZone ? { ...lastDays(choice.days, timeZone), model: choice.model, currency: choice.currency } : {};
  // Read again when a sync (or a Stripe webhook) changed the data, without the screen being opened again.
  const version = useDataVersion();
  const key = [ws.id, choice?.model, choice?.currency, choice?.days, timeZone !== null && choice !== null, version];
  const [daily] = useResult(() => rpc.call('reports.daily', { workspace: ws.id, ...query }), key);
  const [channels] = useResult(() => rpc.call('reports.channels', { workspace: ws.id, ...query }), key);
  // Each heading says the range and currency its own report answered with, so it cannot say another.
  const asked = `last ${choice?.days ?? 30} days`;
  const heading = (r: Loaded<{ range: { from: string; to: string; timeZone: string }; currency: string }>) =>
    r.state === 'ok' ? `${rangeLabel(r.value.range)} (${r.value.currency})` : asked;

  const chart = useMemo(() => {
    if (daily.state !== 'ok') return null;
    const byDay = new Map<string, Record<string, number | string>>(daily.value.days.map((d) => [d, { day: d }]));
    const scale = 10 ** currencyExponent(daily.value.currency);
    for (const r of daily.value.rows) {
      const row = byDay.get(r.day);
      if (row) row[r.channel] = ((row[r.channel] as number | undefined) ?? 0) + r.netMinor / scale;
    }
    return { data: [...byDay.values()], channels: daily.value.channels, currency: daily.value.currency, scale };
  }, [daily]);

  const ready = daily.state === 'ok' && channels.state === 'ok';
  useEffect(() => {
    if (!ready) return;
    // After the browser has painted the data, not merely when React committed it.
    const id = requestAnimationFrame(() => setTimeout(() => performance.mark(DATA_RENDERED_MARK), 0));
    return () => cancelAnimationFrame(id);
  }, [ready]);

  return (
    <>
      <div className="card">
        <h2>Net revenue per channel, {heading(daily)}</h2>
        {daily.state === 'loading' && <Loading what="revenue" />}
        {daily.state === 'error' && <ErrorNote error={daily.error} />}
        {chart && (chart.channels.length === 0 ? (
          <p className="muted">No revenue in these days yet.</p>
        ) : (
          <div className="chart" data-chart="daily">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={chart.data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} minTickGap={16} />
                <YAxis tickFormatter={(v: number) => formatMoney(Math.round(v * chart.scale), chart.currency)} width={90} />
                <Tooltip formatter={(v) => formatMoney(Math.round(Number(v) * chart.scale), chart.currency)} />
                <Legend />
                {chart.channels.map((c, i) => (
                  <Bar key={c} dataKey={c} stackId="net" fill={PALETTE[i % PALETTE.length]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        ))}
        {daily.state === 'ok' && <UnconvertedNote unconverted={daily.value.unconverted} currency={daily.value.currency} />}
      </div>
      <div className="card">
        <h2>Top channels, {heading(channels)}</h2>
        {channels.state === 'loading' && <Loading what="channels" />}
        {channels.state === 'error' && <ErrorNote error={channels.error} />}
        {channels.state === 'ok' && <ChannelTable rows={channels.value.rows} range={rangeLabel(channels.value.range)} />}
        {channels.state === 'ok' && <UnconvertedNote unconverted={channels.value.unconverted} currency={channels.value.currency} />}
      </div>
    </>
  );
}

function ChannelTable({ rows, range }: { rows: ChannelRow[]; range: string }) {
  if (rows.length === 0) {
    const when = /^\d/.test(range) ? `from ${range}` : range === 'today' ? 'today' : `in the ${range}`;
    return <p className="muted">Nothing {when} yet: share a link, then sync.</p>;
  }
  return (
    <>
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
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.channel} data-channel={r.channel}>
              <td>{r.channel}</td>
              <td className="num">{formatCount(r.clicks)}</td>
              <td className="num">{formatCount(r.uniqueVisitors)}</td>
              <td className="num">{formatCount(r.customers)}</td>
              <td className="num">{r.conversionRate === null ? '—' : formatPercent(r.conversionRate)}</td>
              <td className="num">{formatMoney(r.grossMinor, r.currency)}</td>
              <td className="num">{formatMoney(r.refundsMinor, r.currency)}</td>
              <td className="num" data-cell="net">
                {formatMoney(r.netMinor, r.currency)}
              </td>
              <td className="num" data-cell="per-click">{r.revenuePerClickMinor === null ? '—' : formatMoney(r.revenuePerClickMinor, r.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        Customers: those who paid in the range, new or renewing. Per click: the net that came through clicks, divided by them; money with no click (Direct, or a
        visit without a link) is not divided.
      </p>
    </>
  );
}
