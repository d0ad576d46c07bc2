import { useState, type FormEvent, type ReactNode } from 'react';
import { STRIPE_WEBHOOK_EVENT_TYPES, type WebhookRefusal } from '@revtrail/shared/wire/stripe-hints';
import type { WebhookConnected, WebhookSetup } from '../../core/webhooks/handlers';
import { useApp, useWorkspace } from '../app-context';
import { CopyButton } from '../components/CopyButton';
import { ErrorNote, Loading } from '../components/Notice';
import { formatAgo, formatTime, plural } from '../format';
import { useAction, useDataVersion, useResult } from '../hooks';

/** Each refusal's name in a list; what it means comes from the core (REFUSAL_MEANING). */
const REFUSAL_LABELS: Record<WebhookRefusal, string> = {
  no_secret: 'No secret set',
  unsigned: 'Unsigned',
  bad_signature: 'Wrong signature',
  stale: 'Too old',
  too_large: 'Too large',
  not_an_event: 'Not an event',
};

/**
 * The Stripe webhook on the Settings screen, as `webhook.status` and `webhook.connect` give it: the endpoint and
 * the events to add in Stripe's dashboard, the signing secret(s), and what the redirector received and refused.
 * Read again after each sync, so a webhook's arrival shows without opening the screen again.
 */
export function StripeWebhook() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const version = useDataVersion();
  const [status, reload] = useResult(() => rpc.call('webhook.status', { workspace: ws.id }), [ws.id, version]);
  const connect = useAction((secrets: string[]) => rpc.call('webhook.connect', { workspace: ws.id, secrets }));
  const [done, setDone] = useState<WebhookConnected | null>(null);

  return (
    <section className="card" data-section="webhook" aria-label="Stripe webhook">
      <h2>Stripe webhook</h2>
      <p className="muted">
        Optional. With a webhook, Stripe tells the redirector as soon as a payment, refund or dispute changes, and Revtrail reads it within about 15 seconds
        while it is open, instead of at the hourly pull. A webhook only names what changed: Revtrail reads each payment from Stripe with its own key.
      </p>
      {status.state === 'loading' && <Loading what="the webhook" />}
      {status.state === 'error' && <ErrorNote error={status.error} />}
      {status.state === 'ok' && (
        <>
          <Endpoint setup={status.value} />
          <SecretForm
            setup={status.value}
            busy={connect.busy}
            onSubmit={async (secrets) => {
              setDone(null);
              const r = await connect.act(secrets);
              if (!r.ok) return false;
              setDone(r.value);
              reload();
              return true;
            }}
          />
          <ErrorNote error={connect.error} />
          {done && <Connected result={done} commandShown={!!status.value.endpoint?.setCommand && !status.value.endpoint.settable} />}
          <Arrivals setup={status.value} />
        </>
      )}
    </section>
  );
}

function Endpoint({ setup: s }: { setup: WebhookSetup }) {
  const notKept = s.endpoint ? STRIPE_WEBHOOK_EVENT_TYPES.filter((t) => !s.endpoint!.eventTypes.includes(t)) : [];
  return (
    <>
      <Step>1. Add the endpoint in Stripe</Step>
      <p>In Stripe&apos;s dashboard: Developers → Webhooks → Add endpoint, with this endpoint URL:</p>
      <div className="row">
        <code className="endpoint-url" data-webhook="url">
          {s.url}
        </code>
        <CopyButton text={s.url} label="Copy URL" />
      </div>
      {s.local && (
        <p className="warning">
          This redirector runs on this computer: Stripe cannot reach it from the internet, so its webhooks arrive only through a tunnel to this address (Stripe&apos;s CLI
          can forward them, and gives the signing secret to paste below). A deployed redirector needs none.
        </p>
      )}
      <div className="row spread">
        <p>Select these {plural(s.eventTypes.length, 'event')} (the ones Revtrail reads):</p>
        <CopyButton text={s.eventTypes.join('\n')} label="Copy the list" />
      </div>
      <ul className="event-types" aria-label="Events to select" style={{ columns: '18rem', margin: '0 0 0.8rem', paddingLeft: '1.2rem' }}>
        {s.eventTypes.map((t) => (
          <li key={t}>
            <code style={{ overflowWrap: 'anywhere' }}>{t}</code>
          </li>
        ))}
      </ul>
      {notKept.length > 0 && <p className="warning">The redirector is older than this Revtrail and does not keep {notKept.join(', ')}: deploy the current version.</p>}
    </>
  );
}

/** A step's heading inside the card: smaller than the card's own. */
const Step = ({ children }: { children: ReactNode }) => <h3 style={{ fontSize: '0.95rem', margin: '1.1rem 0 0.4rem' }}>{children}</h3>;

function SecretForm({ setup: s, busy, onSubmit }: { setup: WebhookSetup; busy: boolean; onSubmit(secrets: string[]): Promise<boolean> }) {
  // A deployed redirector takes its secret from its deployment: here it is only checked, with the endpoint.
  const deployed = s.endpoint !== null && !s.endpoint.settable;
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const secrets = [f.get('secret'), f.get('previousSecret')].map((v) => String(v ?? '').trim()).filter((v) => v !== '');
    if (await onSubmit(secrets)) form.reset();
  };
  const set = s.endpoint?.secrets ?? 0;
  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Webhook signing secret">
      <Step>2. {deployed ? 'Set its signing secret on the redirector' : 'Give Revtrail its signing secret'}</Step>
      <p className="muted">
        In Stripe, on the endpoint&apos;s page: Signing secret → Reveal. It starts with <code>whsec_</code>.
        {deployed
          ? ' This redirector takes it from where it is deployed, not from here.'
          : ' It is kept in this computer\u2019s secret store and given to the redirector, never shown again.'}
      </p>
      {deployed && s.endpoint?.setCommand && <SetCommand command={s.endpoint.setCommand} />}
      {deployed && (
        <p className="muted">
          To check the secret before you set it, and that the endpoint answers, paste it here: it does not leave this computer and is not kept.
        </p>
      )}
      <div className="grid">
        <label>
          Signing secret
          <input name="secret" type="password" autoComplete="off" spellCheck={false} placeholder="whsec_…" required />
          {!deployed && set > 0 && <span className="hint">One is set: paste a new one to replace it.</span>}
        </label>
        <label>
          Previous signing secret (optional)
          <input name="previousSecret" type="password" autoComplete="off" spellCheck={false} placeholder="whsec_…" />
          <span className="hint">Only while Stripe rolls the secret: the old one, so events signed with either are taken until it expires.</span>
        </label>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? (deployed ? 'Checking…' : 'Saving…') : deployed ? 'Check' : 'Save'}
      </button>
    </form>
  );
}

function SetCommand({ command }: { command: string }) {
  return (
    <>
      <p>On the machine that deploys the redirector, run this with the secret in place of whsec_... (&quot;whsec_new,whsec_old&quot; while rolling it):</p>
      <div className="row">
        <pre className="snippet" data-webhook="set-command" style={{ flex: 1, margin: 0 }}>
          {command}
        </pre>
        <CopyButton text={command} label="Copy" />
      </div>
    </>
  );
}

/**
 * What webhook.connect did: taken now, saved for the local redirector, or (deployed) where to set it and the
 * endpoint check. `commandShown`: the form already shows the deployment's command, so it is not said twice.
 */
function Connected({ result: r, commandShown }: { result: WebhookConnected; commandShown: boolean }) {
  const pointsAbove = r.outcome === 'deploy' && r.setCommand !== null && commandShown;
  return (
    <div data-webhook="connected" data-outcome={r.outcome}>
      <p className="notice" role="status">
        {pointsAbove ? 'The secret looks right. Nothing of it was kept here: set it with the command above.' : r.message}
      </p>
      {r.outcome === 'deploy' && r.setCommand && !pointsAbove && <SetCommand command={r.setCommand} />}
      {r.endpointCheck && (
        <p className={r.endpointCheck.ok ? 'notice' : 'warning'} data-webhook="endpoint-check">
          Endpoint check: {r.endpointCheck.message}
          {r.endpointCheck.ok && ' The check itself shows below as one unsigned delivery refused.'}
        </p>
      )}
    </div>
  );
}

function Arrivals({ setup: s }: { setup: WebhookSetup }) {
  const e = s.endpoint;
  const deployed = e !== null && !e.settable;
  const refusedTotal = s.refused.reduce((n, x) => n + x.count, 0);
  return (
    <>
      <Step>3. What has arrived</Step>
      {!e && <p className="warning">{s.problem ?? 'The redirector could not be asked.'}</p>}
      {s.savedForLocalRedirector && <p className="muted">A signing secret saved on this computer waits for the local redirector: it takes it when Revtrail starts.</p>}
      {e && (
        <>
          {e.secretProblem && <p className="warning">The signing secret configured on the redirector was set aside: {e.secretProblem}</p>}
          <dl className="counts">
            <dt>Signing secret</dt>
            <dd data-webhook="secrets" className={e.secrets === 0 ? 'warning' : undefined}>
              {e.secrets === 0 ? (deployed ? 'none yet: set it where the redirector is deployed' : 'none yet: save it above') : e.secrets === 2 ? 'two (while rolling: events signed with either are taken)' : 'set'}
            </dd>
            <dt>Last webhook</dt>
            <dd data-webhook="last" title={e.lastReceivedAt === null ? undefined : formatTime(e.lastReceivedAt)}>
              {e.lastReceivedAt === null ? 'never' : `${formatAgo(e.lastReceivedAt)} (${formatTime(e.lastReceivedAt)})`}
            </dd>
            <dt>Received</dt>
            <dd data-webhook="received">
              {plural(e.received, 'event')}
              {e.duplicates > 0 && `, plus ${plural(e.duplicates, 'redelivery', 'redeliveries')} kept once`}
              {e.ignored > 0 && `, plus ${plural(e.ignored, 'event')} about what Revtrail does not read`}
            </dd>
            <dt>Refused</dt>
            <dd data-webhook="refused">
              {refusedTotal === 0 ? 'none' : `${plural(refusedTotal, 'delivery', 'deliveries')} (nothing kept)`}
              {s.lastRefused && `, ${refusedTotal === 1 ? 'on' : 'the last on'} ${formatTime(s.lastRefused.at)}`}
            </dd>
          </dl>
          {s.refused.length > 0 && (
            <ul aria-label="Refused deliveries">
              {s.refused.map((x) => (
                <li key={x.reason} data-reason={x.reason}>
                  <strong>{REFUSAL_LABELS[x.reason] ?? x.reason}</strong> ({plural(x.count, 'delivery', 'deliveries')}): {x.meaning}.
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <p className="muted" data-webhook="read">
        {s.lastReadAt === null ? 'Revtrail has not looked for new webhooks yet' : `Revtrail last looked for new webhooks ${formatAgo(s.lastReadAt)}`}
        {s.waiting > 0 ? `; ${plural(s.waiting, 'change')} still to read from Stripe` : ''}.{' '}
        {s.mode === null ? 'Stripe is not connected: webhooks are read once it is.' : `Only ${s.mode}-mode events are read: the connected Stripe key is a ${s.mode} key.`}
      </p>
    </>
  );
}
