import { useState, type FormEvent } from 'react';
import type { PersonFound } from '../../core/privacy/handlers';
import { useApp, useWorkspace } from '../app-context';
import { CustomerNamesSetting } from '../components/CustomerNamesSetting';
import { ErrorNote, Loading } from '../components/Notice';
import { saveFile } from '../download';
import { formatCount, formatTime, plural } from '../format';
import { useAction, useResult } from '../hooks';

// Each kind is the core's own argument name (core/privacy/subject.ts), as the CLI's --email/--visitor/--customer/--telegram.
type By = 'email' | 'visitor' | 'customer' | 'telegram';

const BY_LABELS: Record<By, string> = { email: 'Email address', visitor: 'Visitor id (rt_vid cookie)', customer: 'Stripe customer (cus_…)', telegram: 'Telegram user id' };
const PLACEHOLDER: Record<By, string> = { email: 'name@example.com', visitor: '22 characters', customer: 'cus_…', telegram: 'digits, like 724365116' };

const TABLE_LABELS: Record<string, string> = {
  clicks: 'Clicks',
  pageviews: 'Page views',
  identities: 'Email identifications',
  stripe_customers: 'Stripe customers',
  stripe_charges: 'Payments',
  stripe_refunds: 'Refunds',
  stripe_disputes: 'Disputes',
  stripe_subscriptions: 'Subscriptions',
  stripe_invoices: 'Invoices',
  stripe_invoice_payments: 'Invoice payments',
  attribution_ledger: 'Attribution rows (journey)',
  affiliate_bindings: 'Partner bindings',
  affiliate_lines: 'Commission lines',
  telegram_starts: 'Telegram bot starts',
  telegram_payments: 'Telegram payments',
};

/** A person's access, export and erasure request, here and on the redirector, and the log of requests handled. */
export function Privacy() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [by, setBy] = useState<By>('email');
  const [value, setValue] = useState('');
  const [found, setFound] = useState<PersonFound | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [log, reloadLog] = useResult(() => rpc.call('privacy.log', { workspace: ws.id }), [ws.id]);
  const subject = () => ({ workspace: ws.id, [by]: value });
  const find = useAction(() => rpc.call('privacy.find', subject()));
  const exportData = useAction(() => rpc.call('privacy.export', subject()));
  const erase = useAction(() => rpc.call('privacy.erase', subject()));
  const busy = find.busy || exportData.busy || erase.busy;

  const onFind = async (e: FormEvent) => {
    e.preventDefault();
    setNotice(null);
    const r = await find.act();
    setFound(r.ok ? r.value : null);
    reloadLog();
  };
  const onExport = async () => {
    setNotice(null);
    const r = await exportData.act();
    if (r.ok) {
      for (const f of r.value.files) saveFile(f);
      setFound(r.value.found);
      setNotice(`Downloaded ${r.value.files.map((f) => f.name).join(' and ')}: send both to the person.`);
    }
    reloadLog();
  };
  const onErase = async () => {
    if (!window.confirm('Erase everything held about this person, here and on the redirector? Payments stay as accounting records, without the person. This cannot be undone.')) return;
    setNotice(null);
    const r = await erase.act();
    if (r.ok) {
      setFound(null);
      setNotice(r.value.message);
    }
    reloadLog();
  };

  return (
    <section>
      <h1>Privacy</h1>
      <form className="card" onSubmit={(e) => void onFind(e)} aria-label="Privacy request">
        <h2>A person’s request</h2>
        <p className="muted">
          Find, export or erase everything held about one person, on this computer and on your redirector. An email is looked up by its hash under this workspace’s key; it is
          never stored; a Telegram user id (the number, not the @username) is looked up the same way.
        </p>
        <div className="grid">
          <label>
            Find by
            <select name="by" value={by} onChange={(e) => setBy(e.target.value as By)}>
              {(Object.keys(BY_LABELS) as By[]).map((b) => (
                <option key={b} value={b}>
                  {BY_LABELS[b]}
                </option>
              ))}
            </select>
          </label>
          <label>
            {BY_LABELS[by]}
            <input name="identifier" value={value} onChange={(e) => setValue(e.target.value)} placeholder={PLACEHOLDER[by]} required autoComplete="off" />
          </label>
        </div>
        <div className="row">
          <button type="submit" disabled={busy}>
            Find
          </button>
          <button type="button" className="secondary" disabled={busy || value.trim() === ''} onClick={() => void onExport()}>
            Export (JSON + HTML)
          </button>
          <button type="button" className="secondary" disabled={busy || value.trim() === ''} onClick={() => void onErase()}>
            Erase…
          </button>
        </div>
        <ErrorNote error={find.error ?? exportData.error ?? erase.error} />
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        {found && <FoundTable found={found} />}
      </form>
      <CustomerNamesSetting />
      <div className="card">
        <h2>Requests handled</h2>
        <p className="muted">Each find, export and erasure, with counts only: no email, id or other personal data.</p>
        {log.state === 'loading' && <Loading what="the request log" />}
        {log.state === 'error' && <ErrorNote error={log.error} />}
        {log.state === 'ok' && log.value.length === 0 && <p className="muted">None yet.</p>}
        {log.state === 'ok' && log.value.length > 0 && (
          <table className="table" aria-label="Requests handled">
            <thead>
              <tr>
                <th>When</th>
                <th>Request</th>
                <th>By</th>
                <th className="num">Found here</th>
                <th className="num">Erased here</th>
                <th>Redirector</th>
              </tr>
            </thead>
            <tbody>
              {log.value.map((q) => (
                <tr key={q.id}>
                  <td>{formatTime(q.at)}</td>
                  <td>{q.kind}</td>
                  <td>{q.scope}</td>
                  <td className="num">{formatCount(Object.values(q.found).reduce((a, b) => a + b, 0))}</td>
                  <td className="num">{q.erased ? formatCount(Object.values(q.erased).reduce((a, b) => a + b, 0)) : '—'}</td>
                  <td>{q.cloud === null ? 'none connected' : q.cloud.reached ? 'reached' : 'not reached'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

function FoundTable({ found }: { found: PersonFound }) {
  const rows = Object.entries(found.local);
  return (
    <div data-section="found">
      <p>
        <strong>{formatCount(found.total)}</strong> {found.total === 1 ? 'record' : 'records'} found (linked: {plural(found.linked.visitors, 'browser')}, {plural(found.linked.emails, 'email hash', 'email hashes')}, {plural(found.linked.customers, 'Stripe customer')}
        {found.linked.telegrams > 0 ? `, ${plural(found.linked.telegrams, 'Telegram user')}` : ''}).
      </p>
      <table className="table" aria-label="Found">
        <thead>
          <tr>
            <th>What</th>
            <th className="num">On this computer</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([t, n]) => (
            <tr key={t}>
              <td>{TABLE_LABELS[t] ?? t}</td>
              <td className="num">{formatCount(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        {found.cloud === null
          ? 'No redirector connected.'
          : found.cloud.reached
            ? `On the redirector: ${Object.entries(found.cloud.counts).map(([k, n]) => plural(n, CLOUD_KIND_ONE[k] ?? k, CLOUD_KIND_MANY[k] ?? k)).join(', ') || 'nothing'}.`
            : `The redirector was not asked: ${found.cloud.problem}`}
      </p>
    </div>
  );
}

/** The redirector counts a person's items by feed name; one of each reads in the singular. */
const CLOUD_KIND_ONE: Record<string, string> = { clicks: 'click', pageviews: 'pageview', identities: 'identity', telegramStarts: 'Telegram bot start', telegramPayments: 'Telegram payment' };
const CLOUD_KIND_MANY: Record<string, string> = { telegramStarts: 'Telegram bot starts', telegramPayments: 'Telegram payments' };
