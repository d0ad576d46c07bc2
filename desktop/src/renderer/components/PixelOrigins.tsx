import { useState, type FormEvent } from 'react';
import type { PixelOrigins as Origins } from '../../core/pixel/handlers';
import { useApp, useIsSample, useWorkspace } from '../app-context';
import { formatAgo, formatCount, formatTime, plural } from '../format';
import { useAction, useResult } from '../hooks';
import { CopyButton } from './CopyButton';
import { ErrorNote, Loading } from './Notice';

export const pixelSnippet = (redirectorUrl: string) => `<script async src="${redirectorUrl}/p.js" data-auto-identify></script>`;

/**
 * The Links screen's pixel panel: the snippet, the sites allowed to send its events (the deployment's and those
 * allowed here), and the sites the redirector refused, each with a one-click fix. Allowing a site takes effect
 * on the redirector at once, with no restart.
 */
export function PixelOrigins() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const sample = useIsSample();
  const [origins, reload] = useResult(() => rpc.call('pixel.origins', { workspace: ws.id }), [ws.id, ws.redirectorUrl]);
  const [changed, setChanged] = useState<Origins | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [site, setSite] = useState('');
  const allow = useAction((origin: string) => rpc.call('pixel.allowOrigin', { workspace: ws.id, origin }));
  const remove = useAction((origin: string) => rpc.call('pixel.removeOrigin', { workspace: ws.id, origin }));
  if (sample || !ws.redirectorUrl) return null;

  const shown = changed ?? (origins.state === 'ok' ? origins.value : null);
  const act = async (run: typeof allow.act, origin: string, done: (o: string) => string) => {
    setNotice(null);
    const r = await run(origin);
    if (!r.ok) return false;
    setChanged(r.value);
    setNotice(done(origin));
    return true;
  };
  const check = () => {
    setChanged(null);
    setNotice(null);
    reload();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await act(allow.act, site.trim(), (o) => `${o} may send pixel events now.`)) setSite('');
  };
  const busy = allow.busy || remove.busy;

  return (
    <section className="card" aria-label="Pixel">
      <h2>Pixel</h2>
      <p>Put the pixel on every page of your site (before &lt;/head&gt;); it records pageviews and the email people sign up with:</p>
      <pre className="snippet">{pixelSnippet(ws.redirectorUrl)}</pre>
      <CopyButton text={pixelSnippet(ws.redirectorUrl)} label="Copy pixel snippet" />
      <h3>Sites allowed to send its events</h3>
      {origins.state === 'loading' && !changed && <Loading what="the allowed sites" />}
      {origins.state === 'error' && !changed && <ErrorNote error={origins.error} />}
      {shown && (
        <>
          {shown.deployment.length + shown.allowed.length === 0 ? (
            <p className="muted">None yet: the redirector refuses the pixel on every site until its site is allowed here.</p>
          ) : (
            <ul aria-label="Allowed sites">
              {shown.deployment.map((o) => (
                <li key={o} data-origin={o}>
                  <code>{o}</code> <span className="muted">(set where the redirector is deployed)</span>
                </li>
              ))}
              {shown.allowed.map((o) => (
                <li key={o} data-origin={o}>
                  <code>{o}</code>{' '}
                  <button type="button" className="small secondary" disabled={busy} onClick={() => void act(remove.act, o, (x) => `${x} may no longer send pixel events.`)}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form className="row" onSubmit={(e) => void submit(e)} aria-label="Allow a site">
            <label>
              Allow another site (its address: scheme, host and port)
              <input name="pixel-origin" value={site} onChange={(e) => setSite(e.target.value)} placeholder="https://brand.com" required />
            </label>
            <button type="submit" disabled={busy}>
              Allow
            </button>
          </form>
          <Refused origins={shown} busy={busy} onAllow={(o) => void act(allow.act, o, (x) => `${x} may send pixel events now: its next pageview is counted.`)} />
        </>
      )}
      <ErrorNote error={allow.error ?? remove.error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <p>
        <button type="button" className="small secondary" onClick={check}>
          Check again
        </button>
      </p>
    </section>
  );
}

function Refused({ origins, busy, onAllow }: { origins: Origins; busy: boolean; onAllow(origin: string): void }) {
  if (origins.refused.length === 0 && origins.otherRefused === 0) return <p className="muted">No site's pixel has been refused.</p>;
  return (
    <div data-panel="refused-origins">
      <p className="warning">
        The redirector refused the pixel on {plural(origins.refused.length, 'site')} not allowed yet: their pageviews and sign-ups were not
        counted. Allow a site that is yours:
      </p>
      <ul aria-label="Refused sites">
        {origins.refused.map((r) => (
          <li key={r.origin} data-origin={r.origin}>
            <code>{r.origin}</code>: {plural(r.count, 'event')} refused, the last <span title={formatTime(r.lastAt)}>{formatAgo(r.lastAt)}</span>.{' '}
            <button type="button" className="small" disabled={busy} onClick={() => onAllow(r.origin)}>
              Allow {r.origin}
            </button>
          </li>
        ))}
      </ul>
      {origins.otherRefused > 0 && <p className="muted">And {formatCount(origins.otherRefused)} more from other addresses, too many to list one by one.</p>}
    </div>
  );
}
