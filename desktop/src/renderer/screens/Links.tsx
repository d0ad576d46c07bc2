import { useState, type FormEvent } from 'react';
import type { LinkInput } from '@revtrail/shared/wire/link';
import { UTM_KEYS, type Utm, type UtmKey } from '@revtrail/shared/tracking-params';
import type { PartnerView } from '../../core/affiliates/handlers';
import type { LocalLink } from '../../core/api';
import type { LinkRow as LinkStats } from '../../core/attribution/reports';
import { useApp, useIsSample, useWorkspace } from '../app-context';
import { CopyButton } from '../components/CopyButton';
import { ErrorNote, Loading } from '../components/Notice';
import { QrCode } from '../components/QrCode';
import { PixelOrigins } from '../components/PixelOrigins';
import { LinkModeNote, SameOriginSetup } from '../components/SameOriginSetup';
import { formatCount, formatMoney } from '../format';
import { useAction, useMediaQuery, useResult } from '../hooks';
import { slugAdvice, SLUG_RULES } from '../slug-rules';

interface Draft {
  slug: string;
  destination: string;
  channel: string;
  campaign: string;
  partnerId: string;
  utm: Record<UtmKey, string>;
  enabled: boolean;
}

const emptyUtm = (): Record<UtmKey, string> => ({ utm_source: '', utm_medium: '', utm_campaign: '', utm_term: '', utm_content: '' });
const EMPTY: Draft = { slug: '', destination: '', channel: '', campaign: '', partnerId: '', utm: emptyUtm(), enabled: true };

function draftOf(l: LocalLink): Draft {
  const shown = l.pending ?? l.link;
  return {
    slug: l.slug,
    destination: shown?.destination ?? '',
    channel: shown?.channel ?? '',
    campaign: shown?.campaign ?? '',
    partnerId: shown?.partnerId ?? '',
    utm: { ...emptyUtm(), ...(shown?.utm ?? {}) },
    enabled: shown?.enabled ?? true,
  };
}

function inputOf(d: Draft): LinkInput {
  const utm: Utm = {};
  for (const k of UTM_KEYS) if (d.utm[k].trim()) utm[k] = d.utm[k].trim();
  return {
    destination: d.destination.trim(),
    channel: d.channel.trim(),
    campaign: d.campaign.trim() || null,
    partnerId: d.partnerId.trim() || null,
    utm,
    enabled: d.enabled,
  };
}

export const shortUrl = (redirectorUrl: string | null, slug: string) => (redirectorUrl ? `${redirectorUrl}/${slug}` : null);

/** Tracking links: create, edit, disable; copy the link, its pixel snippet and a QR code. */
export function Links() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const sample = useIsSample();
  const [links, reload] = useResult(() => rpc.call('links.list', { workspace: ws.id }), [ws.id]);
  const [partners] = useResult(() => rpc.call('partners.list', { workspace: ws.id }), [ws.id]);
  // Per-link stats of the last 30 days, in the workspace's model and currency.
  const [stats] = useResult(() => rpc.call('reports.links', { workspace: ws.id }), [ws.id]);
  const statsOf = (slug: string) => (stats.state === 'ok' ? (stats.value.rows.find((r) => r.slug === slug) ?? null) : undefined);
  const [editing, setEditing] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const save = useAction((slug: string, link: LinkInput) => rpc.call('links.save', { workspace: ws.id, slug, link }));

  const submit = async (d: Draft) => {
    // The last save's notice is not this one's: it goes, so no green line stays above a new red one.
    setNotice(null);
    const r = await save.act(d.slug.trim(), inputOf(d));
    if (!r.ok) return;
    setNotice(`${r.value.slug}: ${r.value.message}`);
    setEditing(null);
    setShown(r.value.slug);
    reload();
  };
  const toggle = async (l: LocalLink) => {
    const d = draftOf(l);
    const r = await save.act(l.slug, inputOf({ ...d, enabled: !d.enabled }));
    // Once on the redirector its message says which; a change saved only here says it.
    if (r.ok) setNotice(`${l.slug}: ${r.value.pushed ? '' : `${d.enabled ? 'disabled' : 'enabled'}. `}${r.value.message}`);
    reload();
  };

  return (
    <section>
      <div className="row spread">
        <h1>Links</h1>
        {!editing && (
          <button type="button" onClick={() => setEditing({ ...EMPTY, utm: emptyUtm() })}>
            New link
          </button>
        )}
      </div>
      {sample ? (
        <p className="warning" data-note="sample">
          Sample data: these links are made up and no redirector serves them, so none of them is live. Your own links go in a workspace of
          your own (<a href="#/onboarding">Set up</a>).
        </p>
      ) : (
        !ws.redirectorUrl && (
          <p className="warning">
            No redirector yet: links are saved here and go live once one is connected (<a href="#/onboarding">Set up</a>).
          </p>
        )
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {editing && (
        <LinkForm
          draft={editing}
          isNew={editing.slug === ''}
          busy={save.busy}
          partners={partners.state === 'ok' ? partners.value : null}
          onSubmit={(d) => void submit(d)}
          onCancel={() => {
            setEditing(null);
            save.clear();
          }}
        />
      )}
      <ErrorNote error={save.error} />
      <SameOriginSetup links={links.state === 'ok' ? links.value : null} />
      {links.state === 'loading' && <Loading what="links" />}
      {links.state === 'error' && <ErrorNote error={links.error} />}
      {links.state === 'ok' && links.value.length === 0 && !editing && <p className="muted">No links yet. Create one, open it, and watch the click arrive.</p>}
      {links.state === 'ok' && links.value.length > 0 && (
        <table className="table links-table" aria-label="Links">
          <thead>
            <tr>
              <th>Slug</th>
              <th>Channel</th>
              <th className="wide-only">Campaign</th>
              <th className="wide-only">Partner</th>
              <th className="wide-only">Destination</th>
              <th>State</th>
              <th className="num" title="Last 30 days">Clicks</th>
              <th className="num" title="Last 30 days">Customers</th>
              <th className="num" title="Last 30 days, net of refunds and disputes">Net revenue</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {links.value.map((l) => {
              const s = l.pending ?? l.link;
              const url = shortUrl(ws.redirectorUrl, l.slug);
              return (
                <LinkRow
                  key={l.slug}
                  link={l}
                  open={shown === l.slug}
                  onOpen={() => setShown(shown === l.slug ? null : l.slug)}
                  onEdit={() => setEditing(draftOf(l))}
                  onToggle={() => void toggle(l)}
                  url={url}
                  stats={statsOf(l.slug)}
                  live={ws.redirectorUrl !== null}
                  sample={sample}
                  cells={[s?.channel ?? '', s?.campaign ?? '', s?.partnerId ?? '', s?.destination ?? '']}
                />
              );
            })}
          </tbody>
        </table>
      )}
      <PixelOrigins />
    </section>
  );
}

/** Below this width Campaign, Partner and Destination leave the table for the row's details (styles.css). */
const NARROW = '(max-width: 1000px)';

/** The first four cells after the slug: Channel always, the next three only where the window is wide. */
const CELL_CLASSES = ['truncate', 'truncate wide-only', 'truncate wide-only', 'truncate wide-only'];

/**
 * Where a link stands. Only a redirector makes a link live: without one (the sample's links, made up, or a
 * workspace not connected yet) it is not, whatever it says about itself.
 */
function linkState(l: LocalLink, enabled: boolean, live: boolean, sample: boolean): { text: string; badge: string; title?: string } {
  if (sample) return { text: 'not live', badge: 'off', title: 'A made-up link of the sample workspace: no redirector serves it.' };
  if (l.refused) return { text: 'refused by the redirector', badge: 'refused', title: `${l.refused} Retry or discard it on the Sync screen.` };
  if (!live) return { text: 'not live', badge: 'pending', title: 'Saved here; it goes live once a redirector is connected (Set up).' };
  if (l.pending) return { text: 'not yet on the redirector', badge: 'pending' };
  return enabled ? { text: 'live', badge: 'live' } : { text: 'disabled', badge: 'off' };
}

function LinkRow(props: {
  link: LocalLink;
  url: string | null;
  stats: LinkStats | null | undefined;
  cells: string[];
  live: boolean;
  sample: boolean;
  open: boolean;
  onOpen(): void;
  onEdit(): void;
  onToggle(): void;
}) {
  const st = props.stats;
  const { link: l, url } = props;
  const enabled = (l.pending ?? l.link)?.enabled ?? true;
  const state = linkState(l, enabled, props.live, props.sample);
  // The details span the columns shown: a narrow window hides three (styles.css, .wide-only).
  const narrow = useMediaQuery(NARROW);
  return (
    <>
      <tr data-slug={l.slug}>
        <td className="truncate" title={l.slug}>
          <button type="button" className="link" onClick={props.onOpen} aria-expanded={props.open}>
            {l.slug}
          </button>
        </td>
        {props.cells.map((c, i) => (
          <td key={i} className={CELL_CLASSES[i]} title={c}>
            {c}
          </td>
        ))}
        <td>
          <span className={`badge ${state.badge}`} title={state.title}>
            {state.text}
          </span>
        </td>
        <td className="num" data-cell="clicks">
          {st === undefined ? '…' : formatCount(st?.clicks ?? 0)}
        </td>
        <td className="num" data-cell="customers">
          {st === undefined ? '…' : formatCount(st?.customers ?? 0)}
        </td>
        <td className="num" data-cell="net">
          {st === undefined ? '…' : st ? formatMoney(st.netMinor, st.currency) : '—'}
        </td>
        <td className="actions">
          {url && <CopyButton text={url} label="Copy link" />}
          <button type="button" className="small secondary" onClick={props.onEdit}>
            Edit
          </button>
          <button type="button" className="small secondary" onClick={props.onToggle}>
            {enabled ? 'Disable' : 'Enable'}
          </button>
        </td>
      </tr>
      {props.open && (
        <tr className="details">
          <td colSpan={narrow ? 7 : 10}>
            <LinkModeNote link={l} />
            <p className="narrow-only muted">
              {[props.cells[1] && `Campaign ${props.cells[1]}`, props.cells[2] && `partner ${props.cells[2]}`, props.cells[3] && `to ${props.cells[3]}`].filter(Boolean).join(' · ')}
            </p>
            {url ? (
              <div className="link-details">
                <QrCode text={url} />
                <div>
                  <p>
                    Link: <a href={url} target="_blank" rel="noreferrer"><code className="short-url">{url}</code></a> <CopyButton text={url} label="Copy link" />
                  </p>
                  <p className="muted">
                    The pixel that tells which visitor signed up goes on your site once, for every link: see Pixel, below the links.
                  </p>
                </div>
              </div>
            ) : (
              <p className="muted">{props.sample ? 'A made-up link: it has no address.' : "Connect a redirector to get this link's address."}</p>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

function LinkForm(props: { draft: Draft; isNew: boolean; busy: boolean; partners: PartnerView[] | null; onSubmit(d: Draft): void; onCancel(): void }) {
  const { isNew, busy, partners, onSubmit, onCancel } = props;
  const [d, setD] = useState<Draft>(props.draft);
  // The slug's advice shows once the user left the field or tried to save, then follows each keystroke.
  const [slugTouched, setSlugTouched] = useState(false);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((prev) => ({ ...prev, [k]: v }));
  const advice = isNew ? slugAdvice(d.slug.trim()) : null;
  const showAdvice = slugTouched && advice !== null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (advice) {
      setSlugTouched(true);
      return;
    }
    onSubmit(d);
  };
  // A partner the link names that is not in the list (removed, or set elsewhere) stays choosable as it is.
  const unknownPartner = d.partnerId && partners && !partners.some((p) => p.id === d.partnerId) ? d.partnerId : null;
  const noPartners = partners !== null && partners.length === 0 && !unknownPartner;
  return (
    <form className="card link-form" onSubmit={submit} aria-label={isNew ? 'New link' : `Edit ${d.slug}`}>
      <h2>{isNew ? 'New link' : `Edit ${d.slug}`}</h2>
      <div className="grid">
        <div className="field">
          <label>
            Slug (the part after the domain)
            <input
              name="slug"
              value={d.slug}
              onChange={(e) => set('slug', e.target.value)}
              onBlur={() => setSlugTouched(d.slug !== '')}
              readOnly={!isNew}
              placeholder="spring-sale"
              aria-invalid={showAdvice}
              aria-describedby={isNew ? `slug-rules${showAdvice ? ' slug-advice' : ''}` : undefined}
            />
          </label>
          {isNew && (
            <p id="slug-rules" className="hint">
              {SLUG_RULES}
            </p>
          )}
          {showAdvice && (
            <p id="slug-advice" className="field-error" role="alert">
              {advice}
            </p>
          )}
        </div>
        <label>
          Destination
          <input name="destination" type="url" value={d.destination} onChange={(e) => set('destination', e.target.value)} placeholder="https://brand.com/pricing" required />
        </label>
        <label>
          Channel
          <input name="channel" value={d.channel} onChange={(e) => set('channel', e.target.value)} placeholder="Newsletter" maxLength={64} required />
        </label>
        <label>
          Campaign
          <input name="campaign" value={d.campaign} onChange={(e) => set('campaign', e.target.value)} placeholder="spring" maxLength={128} />
        </label>
        <div className="field">
          <label>
            Partner (affiliate links only)
            <select name="partnerId" value={d.partnerId} onChange={(e) => set('partnerId', e.target.value)} aria-describedby={noPartners ? 'partner-hint' : undefined}>
              <option value="">No partner</option>
              {partners?.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id}){p.status === 'active' ? '' : `, ${p.status}`}
                </option>
              ))}
              {unknownPartner && <option value={unknownPartner}>{unknownPartner} (not a partner here)</option>}
            </select>
          </label>
          {noPartners && (
            <p id="partner-hint" className="hint">
              No partners yet: add them on the <a href="#/affiliates">Affiliates</a> screen first.
            </p>
          )}
        </div>
        {UTM_KEYS.map((k) => (
          <label key={k}>
            {k}
            <input name={k} value={d.utm[k]} onChange={(e) => set('utm', { ...d.utm, [k]: e.target.value })} />
          </label>
        ))}
        <label className="inline">
          <input name="enabled" type="checkbox" checked={d.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled
        </label>
      </div>
      <div className="row">
        <button type="submit" disabled={busy}>
          {isNew ? 'Create link' : 'Save'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
