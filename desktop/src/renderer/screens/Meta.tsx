import { useState, type FormEvent } from 'react';
import type { MetaStatus } from '../../core/meta/handlers';
import type { MetaEventState, MetaEventView } from '../../core/meta/outbox-repo';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { formatAgo, formatCount, formatTime } from '../format';
import { useAction, useResult } from '../hooks';

const STATE_BADGE: Record<MetaEventState, string> = { pending: 'pending', sending: 'pending', sent: 'live', skipped: 'off', failed: 'refused' };

/**
 * Meta Conversions API forwarding, on the Settings screen: the connection (pixel id, access token, test event
 * code), the switch (off until the user turns it on) and what was sent.
 */
export function MetaForwarding() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [status, reload] = useResult(() => rpc.call('meta.status', { workspace: ws.id }), [ws.id]);
  const [events, reloadEvents] = useResult(() => rpc.call('meta.events', { workspace: ws.id, limit: 100 }), [ws.id]);
  const connect = useAction((input: { pixelId: string; token: string; testEventCode: string | null }) => rpc.call('meta.connect', { workspace: ws.id, ...input }));
  const toggle = useAction((on: boolean) => rpc.call('meta.setForwarding', { workspace: ws.id, on }));
  const send = useAction(() => rpc.call('meta.send', { workspace: ws.id }));
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () => {
    reload();
    reloadEvents();
  };

  if (status.state === 'loading') return <Loading what="Meta settings" />;
  if (status.state === 'error') return <ErrorNote error={status.error} />;
  const s = status.value;

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setNotice(null);
    const form = e.currentTarget;
    const f = new FormData(form);
    const code = String(f.get('testEventCode') ?? '').trim();
    const r = await connect.act({ pixelId: String(f.get('pixelId') ?? ''), token: String(f.get('token') ?? ''), testEventCode: code === '' ? null : code });
    if (!r.ok) return;
    form.reset();
    setNotice(r.value.enabled ? 'Saved.' : 'Saved. Forwarding stays off until you turn it on.');
    refresh();
  };

  return (
    <section className="card" data-section="meta" aria-label="Meta Conversions API">
      <h2>Meta Conversions API</h2>
      <p className="muted">
        Off unless you turn it on. When it is on, each payment whose visitor came from a Meta ad (a click with <code>fbclid</code>, or Meta&apos;s own
        cookies on your site) is sent from this computer to Meta as a Purchase: its amount and currency, the page, Meta&apos;s click and browser ids,
        the browser of the click, a SHA-256 of the visitor id and of the buyer&apos;s email. Nothing else, and no email itself. Events more than 7 days
        old are not sent: Meta refuses them.
      </p>
      <label className="inline" style={{ gap: '0.5rem' }}>
        <input type="checkbox" role="switch" name="forwarding" checked={s.enabled} disabled={!s.connected || toggle.busy} onChange={(e) => (setNotice(null), void toggle.act(e.target.checked).then(refresh))} />
        Send purchases to Meta
      </label>
      {!s.connected && <p className="muted">Connect Meta below first: its pixel id and an access token.</p>}
      <ErrorNote error={toggle.error} />
      {s.pausedReason && (
        <p className="warning" role="alert">
          {s.pausedReason}
        </p>
      )}
      <StatusLine status={s} />

      <form onSubmit={(e) => void submit(e)} aria-label="Meta connection">
        <div className="grid">
          <label>
            Pixel (dataset) id
            <input name="pixelId" inputMode="numeric" defaultValue={s.pixelId ?? ''} placeholder="1234567890123456" required key={s.pixelId ?? ''} />
          </label>
          <label>
            Access token {s.connected && <span className="muted">(saved; paste a new one to replace it)</span>}
            <input name="token" type="password" autoComplete="off" required placeholder="EAA…" />
          </label>
          <label>
            Test event code (optional)
            <input name="testEventCode" defaultValue={s.testEventCode ?? ''} placeholder="TEST12345" key={s.testEventCode ?? ''} />
          </label>
        </div>
        <p className="muted">
          Events Manager → your pixel → Settings → Conversions API → Generate access token. The token is kept in this computer&apos;s secret store, never in
          the database. With a test event code, events show under Test events instead of counting. Graph API {s.apiVersion}
          {s.graphBase !== 'https://graph.facebook.com' ? ` at ${s.graphBase} (a stand-in, set from the command line)` : ''}.
        </p>
        <button type="submit" disabled={connect.busy}>
          {s.connected ? 'Save connection' : 'Connect Meta'}
        </button>
        <ErrorNote error={connect.error} />
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
      </form>

      <div className="row spread" style={{ marginTop: '1rem' }}>
        <h2 style={{ margin: 0 }}>Sent to Meta</h2>
        <div className="row">
          <button type="button" className="secondary small" disabled={send.busy || !s.enabled} onClick={() => void send.act().then(refresh)}>
            {send.busy ? 'Sending…' : 'Send due events now'}
          </button>
          <button type="button" className="secondary small" onClick={refresh}>
            Refresh
          </button>
        </div>
      </div>
      <ErrorNote error={send.error} />
      {events.state === 'loading' && <Loading what="events" />}
      {events.state === 'error' && <ErrorNote error={events.error} />}
      {events.state === 'ok' && <SentToMeta events={events.value} />}
    </section>
  );
}

function StatusLine({ status: s }: { status: MetaStatus }) {
  const c = s.counts;
  const waiting = c.pending + c.sending;
  return (
    <p data-meta-counts>
      {formatCount(c.sent)} sent · {formatCount(waiting)} waiting{waiting > 0 && s.nextDueAt ? ` (next try ${formatAgo(s.nextDueAt)})` : ''} · {formatCount(c.failed)} refused by Meta ·{' '}
      {formatCount(c.skipped)} skipped
      {s.enabled && s.enabledAt ? <span className="muted"> · on since {formatTime(s.enabledAt)}</span> : null}
    </p>
  );
}

/** Each event as it went (or will go): hashes and ids only, never an email, and Meta's answer or the reason it waits. */
function SentToMeta({ events }: { events: MetaEventView[] }) {
  if (events.length === 0) return <p className="muted">Nothing yet: events appear here once a synced payment came from a Meta ad.</p>;
  return (
    <table className="table" aria-label="Events sent to Meta">
      <thead>
        <tr>
          <th>Event id</th>
          <th>State</th>
          <th className="num">Value</th>
          <th>Purchase</th>
          <th>Sent</th>
          <th>Meta&apos;s answer</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.eventId} data-event={e.eventId}>
            <td>
              <code>{e.eventId}</code>
              <div className="muted">{e.chargeId}</div>
            </td>
            <td>
              <span className={`badge ${STATE_BADGE[e.state]}`}>{e.state}</span>
              {e.attempts > 1 && <div className="muted">{e.attempts} tries</div>}
            </td>
            <td className="num">
              {e.payload.custom_data.value} {e.payload.custom_data.currency}
            </td>
            <td title={formatTime(e.eventTime)}>{formatAgo(e.eventTime)}</td>
            <td title={formatTime(e.sentAt)}>{e.sentAt ? formatAgo(e.sentAt) : '—'}</td>
            <td>
              {e.reason && <div className={e.state === 'failed' ? 'error' : 'muted'}>{e.reason}</div>}
              {answerLine(e)}
              <details>
                <summary>Payload{e.state === 'sent' ? ' as sent' : ''}</summary>
                <pre className="snippet">{JSON.stringify(e.payload, null, 2)}</pre>
                <p className="muted">
                  {e.emSent ? `Email: a SHA-256 hash${e.state === 'sent' ? ' went with it (deleted here once sent)' : ''}. ` : 'No email hash. '}
                  {e.userAgentSent ? `Browser: the click's user agent${e.state === 'sent' ? ' went with it (deleted here once sent)' : ''}.` : 'No user agent.'}
                </p>
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function answerLine(e: MetaEventView) {
  const a = e.answer as { status: number | null; events_received?: number; fbtrace_id?: string | null; error?: { code: number | null; fbtrace_id: string | null } } | null;
  if (!a) return null;
  if (a.events_received !== undefined) {
    return (
      <div>
        Received ({formatCount(a.events_received)} in its request){a.fbtrace_id ? <span className="muted"> · trace {a.fbtrace_id}</span> : null}
      </div>
    );
  }
  const what = a.error?.code !== null && a.error?.code !== undefined ? `error code ${a.error.code}` : a.status !== null ? `HTTP ${a.status}` : 'no answer';
  return (
    <div className="muted">
      Last answer: {what}
      {a.error?.fbtrace_id ? ` · trace ${a.error.fbtrace_id}` : ''}
    </div>
  );
}
