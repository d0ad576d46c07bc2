import { useEffect, useState } from 'react';
import type { AppError } from '@revtrail/shared/result';
import type { CoreEvents, WorkspaceStatus } from '../../core/api';
import type { ResourceFailure } from '../../core/sync-state/repo';
import type { ScheduleStatus } from '../../transport/contract';
import { useApp, useIsSample, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { formatAgo, formatCount, formatTime, plural } from '../format';
import { useAction, useResult } from '../hooks';
import { jobState } from '../schedule-state';

type Progress = CoreEvents['sync.progress'];
type Source = 'redirector' | 'stripe';

/** A resource in the user's words: the link push is "link changes", a feed or Stripe resource its own name. */
const resourceName = (resource: string) => (resource === 'link-pushes' ? 'link changes' : resource);

const skippedText = (f: ResourceFailure) => `${resourceName(f.resource)} ${f.resource === 'link-pushes' ? 'were not sent' : 'were not read'}: ${f.message}`;

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
  const sample = useIsSample();
  const [status, reload] = useResult(() => rpc.call('status.get', { workspace: ws.id }), [ws.id]);
  const [schedule, reloadSchedule] = useResult(() => rpc.call('shell.schedule', {}), []);
  const [feeds, setFeeds] = useState<Record<string, Progress>>({});
  const [running, setRunning] = useState(false);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  // Kept here, not in the list: after the last change is discarded the list is gone, the notice stays.
  const [pushNotice, setPushNotice] = useState<string | null>(null);

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
  // Nothing to sync from: the sample (made up, nothing behind it) or a workspace not connected yet.
  const nothingConnected = here !== undefined && !here.redirector.connected && !here.stripe.connected;

  const syncNow = async () => {
    setRunning(true);
    setFeeds({});
    const done: Outcome[] = [];
    try {
      if (here?.redirector.connected) {
        const r = await rpc.call('sync.redirector', { workspace: ws.id });
        done.push(
          r.ok
            ? {
                source: 'redirector',
                at: Date.now(),
                summary: `${plural(r.value.pushed, 'link change')} pushed, ${plural(r.value.clicks, 'new click')}, ${plural(r.value.pageviews, 'pageview')}, ${plural(r.value.identities, 'identity', 'identities')}${r.value.erased ? `, ${formatCount(r.value.erased)} erased` : ''}.`,
                error: null,
                missing: [...r.value.skipped.map(skippedText), ...r.value.rejected.map((x) => `Link ${x.slug} was refused by the redirector: ${x.message} It is kept below.`)],
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
                summary: `${plural(r.value.counts.charges.added, 'new charge')} (${formatCount(r.value.counts.charges.updated)} changed), ${plural(r.value.counts.refunds.added, 'refund')}, ${plural(r.value.counts.disputes.added, 'dispute')}, ${plural(r.value.counts.customers.added, 'customer')}, ${plural(r.value.counts.invoices.added, 'invoice')}.`,
                error: null,
                missing: [...r.value.skipped.map(skippedText), ...r.value.missing.map((m) => `Missing ${m.label} (${m.permission}): ${m.effect}. Tick it (Read) on the key in Stripe.`)],
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
        {!sample && (
          <button type="button" onClick={() => void syncNow()} disabled={running || status.state !== 'ok' || nothingConnected}>
            {running ? 'Syncing…' : 'Sync now'}
          </button>
        )}
      </div>
      {sample ? (
        <p className="warning" data-note="sample">
          Sample workspace: its clicks, customers and payments are made up, and no redirector or Stripe account stands behind it, so there is
          nothing to sync. Connect your own in a workspace of your own (<a href="#/onboarding">Set up</a>).
        </p>
      ) : (
        nothingConnected && (
          <p className="warning">
            Nothing to sync yet: <a href="#/onboarding">connect a redirector</a> (clicks) and Stripe (payments) first.
          </p>
        )
      )}
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
            ) : sample ? (
              <p className="muted">None: the sample's clicks are made up.</p>
            ) : (
              <p className="warning">
                Not connected: <a href="#/onboarding">connect a redirector</a> to count clicks.
              </p>
            )}
            <FailedResources status={here} source="redirector" />
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
            ) : sample ? (
              <p className="muted">None: the sample's payments are made up.</p>
            ) : (
              <p className="warning">
                Not connected: <a href="#/onboarding">add a read-only Stripe key</a> to see revenue.
              </p>
            )}
            <FailedResources status={here} source="stripe" />
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
      {pushNotice && (
        <p className="notice" role="status">
          {pushNotice}
        </p>
      )}
      {here && here.linkPushes.length > 0 && (
        <LinkChanges
          status={here}
          onDone={(message) => {
            setPushNotice(message);
            reload();
          }}
        />
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
      <Schedule schedule={schedule.state === 'ok' ? schedule.value : null} here={here ?? null} />
    </section>
  );
}

/** The resources of one source whose last attempt failed: what happened, what to do, the last good pull. */
function FailedResources({ status, source }: { status: WorkspaceStatus; source: Source }) {
  const failed = status.resources.filter((r) => r.source === source && r.error);
  if (failed.length === 0) return null;
  return (
    <ul className="failed-resources" aria-label={`${source === 'stripe' ? 'Stripe' : 'Redirector'} resources not read`}>
      {failed.map((r) => (
        <li key={r.resource} className="warning" data-resource={r.resource}>
          <strong>{resourceName(r.resource)}</strong> {r.resource === 'link-pushes' ? 'not sent' : 'not read'} {formatAgo(r.lastAttemptAt)} (last success:{' '}
          <span title={formatTime(r.lastPullAt)}>{formatAgo(r.lastPullAt)}</span>): {r.error!.message}
        </li>
      ))}
    </ul>
  );
}

/**
 * Link changes made here that are not on the redirector: refused ones wait for the user (Retry sends the
 * same again, e.g. once the redirector's rules changed; Discard keeps the link as the redirector has it),
 * queued ones go at the next sync and say why the last try did not get through.
 */
function LinkChanges({ status, onDone }: { status: WorkspaceStatus; onDone: (message: string | null) => void }) {
  const { rpc } = useApp();
  const retry = useAction((slug: string) => rpc.call('links.retryPush', { workspace: status.workspace.id, slug }));
  const discard = useAction((slug: string) => rpc.call('links.discardPush', { workspace: status.workspace.id, slug }));
  const done = (slug: string) => (r: { ok: true; value: { message: string } } | { ok: false }) => onDone(r.ok ? `${slug}: ${r.value.message}` : null);
  return (
    <div className="card" aria-label="Link changes not on the redirector">
      <h2>Link changes not on the redirector</h2>
      <ErrorNote error={retry.error ?? discard.error} />
      <table className="table wrap-anywhere" aria-label="Link changes">
        <thead>
          <tr>
            <th>Link</th>
            <th>Change</th>
            <th>State</th>
            <th>
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {status.linkPushes.map((p) => (
            <tr key={p.slug} data-push={p.slug} data-state={p.state}>
              <td>
                <code>{p.slug}</code>
              </td>
              <td>
                {p.input.channel} → <code>{p.input.destination}</code>
              </td>
              <td className={p.state === 'refused' ? 'error' : 'muted'}>
                {p.state === 'refused'
                  ? `Refused by the redirector: ${p.reason ?? ''}`
                  : p.reason
                    ? `Goes at the next sync. Last try ${formatAgo(p.attemptedAt)}: ${p.reason}`
                    : 'Goes at the next sync.'}
              </td>
              <td>
                <div className="row">
                  <button type="button" className="small" disabled={retry.busy || discard.busy} onClick={() => void retry.act(p.slug).then(done(p.slug))}>
                    Retry
                  </button>
                  <button type="button" className="small secondary" disabled={retry.busy || discard.busy} onClick={() => void discard.act(p.slug).then(done(p.slug))}>
                    Discard
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobState({ job, here }: { job: ScheduleStatus; here: WorkspaceStatus | null }) {
  const state = jobState(job, here);
  return state.failed ? <span className="error">{state.text}</span> : <>{state.text}</>;
}

function Schedule({ schedule, here }: { schedule: ScheduleStatus[] | null; here: WorkspaceStatus | null }) {
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
              <td>
                <JobState job={j} here={here} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "day", "2 hours", "minute", "15 seconds": a job's period, in the unit it is a whole number of. */
function everyText(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  const [size, unit] = units.find(([u]) => ms % u === 0) ?? [1000, 'second'];
  const n = Math.round(ms / size);
  return n === 1 ? unit : plural(n, unit);
}
