import { useEffect, useState } from 'react';
import type { AppError } from '@revtrail/shared/result';
import type { CoreEvents } from '../../core/api';
import type { ScheduleStatus } from '../../transport/contract';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { formatAgo, formatCount, formatTime } from '../format';
import { useResult } from '../hooks';

type Progress = CoreEvents['sync.progress'];
interface Outcome {
  source: 'redirector' | 'stripe';
  at: number;
  summary: string | null;
  error: AppError | null;
  missing: string[];
}

/** What is connected, when it last synced, what a sync is doing now, and a button to sync. */
export function SyncStatus() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [status, reload] = useResult(() => rpc.call('status.get', { workspace: ws.id }), [ws.id]);
  const [schedule, reloadSchedule] = useResult(() => rpc.call('shell.schedule', {}), []);
  const [feeds, setFeeds] = useState<Record<string, Progress>>({});
  const [running, setRunning] = useState(false);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);

  useEffect(
    () =>
      rpc.on('sync.progress', (p) => {
        if (p.workspaceId !== ws.id) return;
        setFeeds((prev) => ({ ...prev, [`${p.source}:${p.progress.feed}`]: p }));
      }),
    [rpc, ws.id],
  );
  // The scheduler may sync by itself: its state and the counts are read again every few seconds.
  useEffect(() => {
    const t = setInterval(() => {
      reloadSchedule();
      if (!running) reload();
    }, 5000);
    return () => clearInterval(t);
  }, [reload, reloadSchedule, running]);

  const here = status.state === 'ok' ? status.value.workspaces[0] : undefined;

  const syncNow = async () => {
    setRunning(true);
    setFeeds({});
    const done: Outcome[] = [];
    try {
      if (!here || here.redirector.connected || !here.stripe.connected) {
        const r = await rpc.call('sync.redirector', { workspace: ws.id });
        done.push(
          r.ok
            ? {
                source: 'redirector',
                at: Date.now(),
                summary: `${r.value.pushed} link changes pushed, ${formatCount(r.value.clicks)} new clicks, ${formatCount(r.value.pageviews)} pageviews, ${formatCount(r.value.identities)} identities${r.value.erased ? `, ${r.value.erased} erased` : ''}.`,
                error: null,
                missing: r.value.rejected.map((x) => `Link ${x.slug} was refused by the redirector: ${x.message}`),
              }
            : { source: 'redirector', at: Date.now(), summary: null, error: r.error, missing: [] },
        );
      }
      if (here?.stripe.connected) {
        const r = await rpc.call('sync.stripe', { workspace: ws.id });
        done.push(
          r.ok
            ? {
                source: 'stripe',
                at: Date.now(),
                summary: `${r.value.counts.charges.added} new charges (${r.value.counts.charges.updated} changed), ${r.value.counts.refunds.added} refunds, ${r.value.counts.disputes.added} disputes, ${r.value.counts.customers.added} customers, ${r.value.counts.invoices.added} invoices.`,
                error: null,
                missing: r.value.missing.map((m) => `Missing ${m.label} (${m.permission}): ${m.effect}. Tick it (Read) on the key in Stripe.`),
              }
            : { source: 'stripe', at: Date.now(), summary: null, error: r.error, missing: [] },
        );
      }
    } finally {
      setOutcomes(done);
      setRunning(false);
      reload();
      reloadSchedule();
    }
  };

  return (
    <section>
      <div className="row spread">
        <h1>Sync</h1>
        <button type="button" onClick={() => void syncNow()} disabled={running || status.state !== 'ok'}>
          {running ? 'Syncing…' : 'Sync now'}
        </button>
      </div>
      {status.state === 'loading' && <Loading what="sync status" />}
      {status.state === 'error' && <ErrorNote error={status.error} />}
      {here && (
        <div className="cards">
          <div className="card" data-source="redirector">
            <h2>Redirector</h2>
            {here.redirector.connected ? (
              <>
                <p>
                  <code>{here.workspace.redirectorUrl}</code>
                </p>
                <p title={formatTime(here.redirector.lastPullAt)}>Last pull: {formatAgo(here.redirector.lastPullAt)}</p>
              </>
            ) : (
              <p className="warning">
                Not connected: <a href="#/onboarding">connect a redirector</a> to count clicks.
              </p>
            )}
            <dl className="counts">
              <dt>Links</dt>
              <dd data-count="links">{formatCount(here.counts.links)}</dd>
              <dt>Clicks</dt>
              <dd data-count="clicks">{formatCount(here.counts.clicks)}</dd>
              <dt>Pageviews</dt>
              <dd data-count="pageviews">{formatCount(here.counts.pageviews)}</dd>
              <dt>Identities</dt>
              <dd data-count="identities">{formatCount(here.counts.identities)}</dd>
            </dl>
          </div>
          <div className="card" data-source="stripe">
            <h2>Stripe</h2>
            {here.stripe.connected ? (
              <p title={formatTime(here.stripe.lastPullAt)}>Last pull: {formatAgo(here.stripe.lastPullAt)}</p>
            ) : (
              <p className="warning">
                Not connected: <a href="#/onboarding">add a read-only Stripe key</a> to see revenue.
              </p>
            )}
            <dl className="counts">
              <dt>Charges</dt>
              <dd data-count="charges">{formatCount(here.counts.charges)}</dd>
              <dt>Refunds</dt>
              <dd data-count="refunds">{formatCount(here.counts.refunds)}</dd>
              <dt>Disputes</dt>
              <dd data-count="disputes">{formatCount(here.counts.disputes)}</dd>
              <dt>Customers</dt>
              <dd data-count="customers">{formatCount(here.counts.customers)}</dd>
            </dl>
          </div>
        </div>
      )}
      {Object.keys(feeds).length > 0 && (
        <div className="card" aria-label="Progress">
          <h2>{running ? 'In progress' : 'Last run'}</h2>
          <ul className="progress">
            {Object.values(feeds).map((p) => (
              <li key={`${p.source}:${p.progress.feed}`} className={p.progress.done ? 'done' : 'running'}>
                {p.source} · {p.progress.feed}: {formatCount(p.progress.received)} received, {formatCount(p.progress.changed)} new{p.progress.done ? ' ✓' : '…'}
              </li>
            ))}
          </ul>
        </div>
      )}
      {outcomes.map((o) => (
        <div key={o.source} className={`card outcome ${o.error ? 'failed' : 'ok'}`} data-outcome={o.source}>
          <h2>
            {o.source === 'redirector' ? 'Redirector' : 'Stripe'}: {o.error ? 'failed' : 'done'}
          </h2>
          {o.summary && <p>{o.summary}</p>}
          <ErrorNote error={o.error} />
          {o.missing.map((m) => (
            <p key={m} className="warning">
              {m}
            </p>
          ))}
        </div>
      ))}
      <Schedule schedule={schedule.state === 'ok' ? schedule.value : null} />
    </section>
  );
}

function Schedule({ schedule }: { schedule: ScheduleStatus[] | null }) {
  if (!schedule || schedule.length === 0) return null;
  return (
    <div className="card">
      <h2>Runs by itself</h2>
      <table className="table" aria-label="Schedule">
        <thead>
          <tr>
            <th>What</th>
            <th>Every</th>
            <th>Last run</th>
            <th>Next</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {schedule.map((j) => (
            <tr key={j.job} data-job={j.job}>
              <td>{j.label}</td>
              <td>{everyText(j.everyMs)}</td>
              <td title={formatTime(j.lastRunAt)}>{formatAgo(j.lastRunAt)}</td>
              <td>{j.nextRunAt ? formatTime(j.nextRunAt) : '—'}</td>
              <td>{j.running ? 'running…' : j.lastError ? <span className="error">{j.lastError}</span> : j.lastOkAt ? 'ok' : 'waiting'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function everyText(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  return `${Math.round(ms / 60_000)} minutes`;
}
