import { useState, type FormEvent } from 'react';
import type { LocalLink } from '../../core/api';
import { DEFAULT_PREFIX, type SameOriginCheck } from '../../core/same-origin/setting';
import { useApp, useIsSample, useWorkspace } from '../app-context';
import { formatAgo, formatCount, plural } from '../format';
import { useAction } from '../hooks';
import { linkMode, sameOriginPixel, type LinkMode } from '../same-origin-mode';
import { CopyButton } from './CopyButton';
import { ErrorNote } from './Notice';

const DOCS = 'redirector/docs/same-origin.md';
const destinationOf = (l: LocalLink) => (l.pending ?? l.link)?.destination ?? null;

/**
 * Same-origin mode on the Links screen: the merchant's site and prefix that forward to the redirector, the
 * pixel snippet through them, a check of the forwarding, and how many links go out in that mode.
 */
export function SameOriginSetup({ links }: { links: LocalLink[] | null }) {
  const { rpc, refreshWorkspaces } = useApp();
  const ws = useWorkspace();
  const sample = useIsSample();
  const setting = ws.sameOrigin ?? null;
  const current = setting ? new URL(setting.base) : null;
  const [site, setSite] = useState(current?.origin ?? '');
  const [prefix, setPrefix] = useState(current?.pathname ?? DEFAULT_PREFIX);
  const [check, setCheck] = useState<SameOriginCheck | null>(setting?.lastCheck?.base === setting?.base ? (setting?.lastCheck ?? null) : null);
  // Open while set up and not passing; then as the user leaves it.
  const [open, setOpen] = useState(setting !== null && check?.ok !== true);
  const save = useAction((value: string | null) => rpc.call('sameOrigin.set', { workspace: ws.id, site: value, prefix }));
  const run = useAction(() => rpc.call('sameOrigin.check', { workspace: ws.id }));
  if (sample || !ws.redirectorUrl) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await save.act(site);
    if (!r.ok) return;
    await refreshWorkspaces();
    const checked = await run.act();
    setCheck(checked.ok ? checked.value : null);
    await refreshWorkspaces();
  };
  const again = async () => {
    const checked = await run.act();
    if (checked.ok) setCheck(checked.value);
    await refreshWorkspaces();
  };
  const turnOff = async () => {
    const r = await save.act(null);
    if (!r.ok) return;
    setCheck(null);
    await refreshWorkspaces();
  };
  const modes = (links ?? []).map((l) => linkMode(setting, l.slug, destinationOf(l)));
  const same = modes.filter((m) => m.mode === 'same-origin').length;

  return (
    <details className="card" open={open} onToggle={(e) => setOpen(e.currentTarget.open)} aria-label="Same-origin mode">
      <summary>
        <strong>Same-origin mode</strong>{' '}
        <span className="muted">
          {setting
            ? `${check?.ok ? 'on' : check ? 'set up, check failed' : 'set up, not checked'}: ${plural(same, 'link')} of ${formatCount(modes.length)} through ${current!.host}`
            : 'off: links and the pixel use the tracking domain'}
        </span>
      </summary>
      <p className="hint">
        Safari keeps the visitor cookie only 7 days when the pixel sets it from the tracking domain (visitors who came without one of your
        links). With your site forwarding a prefix to the redirector, links and the pixel run on your site&apos;s own address and the cookie
        lasts the whole attribution window, in every browser. Set the proxy secret on the redirector and add the recipe for your server or
        platform first: {DOCS}.
      </p>
      <form className="row" onSubmit={(e) => void submit(e)} aria-label="Same-origin site">
        <label>
          Your site&apos;s address
          <input name="site" type="url" value={site} onChange={(e) => setSite(e.target.value)} placeholder="https://brand.com" required />
        </label>
        <label>
          Prefix
          <input name="prefix" value={prefix} onChange={(e) => setPrefix(e.target.value)} placeholder={DEFAULT_PREFIX} />
        </label>
        <button type="submit" disabled={save.busy || run.busy}>
          {setting ? 'Save and check' : 'Set up and check'}
        </button>
        {setting && (
          <button type="button" className="secondary" disabled={run.busy} onClick={() => void again()}>
            Check again
          </button>
        )}
        {setting && (
          <button type="button" className="secondary" disabled={save.busy} onClick={() => void turnOff()}>
            Turn off
          </button>
        )}
      </form>
      <ErrorNote error={save.error ?? run.error} />
      {run.busy && <p className="muted">Checking through {site || 'your site'}…</p>}
      {check && !run.busy && <CheckList check={check} />}
      {setting && (
        <>
          <p>Pixel snippet through your site, on every page (in place of the tracking domain&apos;s):</p>
          <pre className="snippet">{sameOriginPixel(setting.base)}</pre>
          <CopyButton text={sameOriginPixel(setting.base)} label="Copy same-origin pixel snippet" />
        </>
      )}
    </details>
  );
}

function CheckList({ check }: { check: SameOriginCheck }) {
  const failed = check.items.filter((i) => !i.ok);
  return (
    <div className="checklist" data-check={check.ok ? 'ok' : 'failed'}>
      <p>
        Checked {formatAgo(check.at)}:{' '}
        {check.ok ? 'links and the pixel work through your site, and the cookie is set on its own address.' : `${plural(failed.length, 'thing')} to fix, then check again.`}
      </p>
      <ul aria-label="Same-origin check">
        {check.items.map((i) => (
          <li key={i.name} className={i.ok ? 'ok' : 'missing'}>
            <span aria-hidden="true">{i.ok ? '✓' : '✗'}</span> {i.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

const WHY: Record<Extract<LinkMode, { mode: 'tracking-domain' }>['why'], string> = {
  'not-set-up': 'same-origin mode is not set up (above)',
  'other-site': 'its destination is not on your same-origin site',
  'no-destination': 'it has no destination yet',
};

/** A link's mode, in its row's details: the address to share, and why it is in that mode. */
export function LinkModeNote({ link }: { link: LocalLink }) {
  const ws = useWorkspace();
  const sample = useIsSample();
  if (sample || !ws.redirectorUrl) return null;
  const mode = linkMode(ws.sameOrigin, link.slug, destinationOf(link));
  if (mode.mode === 'tracking-domain') {
    return (
      <p className="muted" data-mode="tracking-domain">
        Mode: tracking domain, because {WHY[mode.why]}. In Safari a cookie the pixel sets from there lasts 7 days.
      </p>
    );
  }
  return (
    <p data-mode="same-origin" data-checked={mode.checked}>
      Mode: same-origin.{' '}
      <a href={mode.url} target="_blank" rel="noreferrer">
        <code className="short-url">{mode.url}</code>
      </a>{' '}
      <CopyButton text={mode.url} label="Copy same-origin link" />{' '}
      {mode.checked === 'ok' ? (
        <span className="muted">The cookie is set on your site&apos;s own address for the whole window.</span>
      ) : (
        <span className="warning">{mode.checked === 'failed' ? 'The last check failed: fix the forwarding first.' : 'Not checked yet: check it above first.'}</span>
      )}
    </p>
  );
}
