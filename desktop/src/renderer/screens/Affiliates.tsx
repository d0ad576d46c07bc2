import { useState, type FormEvent } from 'react';
import { lastFinishedPeriod } from '@revtrail/shared/commission/period';
import { partnerIdFromName } from '@revtrail/shared/ids';
import type { LineState, PayoutMethod } from '@revtrail/shared/commission/index';
import type { PartnerView } from '../../core/affiliates/handlers';
import type { ExportFormat } from '../../core/affiliates/payouts';
import type { BatchSummary, Program } from '../../core/affiliates/types';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { saveFile } from '../download';
import { formatMoney, formatTime, plural } from '../format';
import { useAction, useResult } from '../hooks';

const TABS = ['partners', 'programs', 'commissions', 'payouts'] as const;
type Tab = (typeof TABS)[number];
const STATES: LineState[] = ['pending', 'approved', 'held', 'paid', 'reversed', 'flagged'];

/** The affiliate program: partners, programs, commissions with their states, payout runs. */
export function Affiliates() {
  const [tab, setTab] = useState<Tab>('partners');
  return (
    <section>
      <h1>Affiliates</h1>
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? '' : 'secondary'} onClick={() => setTab(t)}>
            {t.charAt(0).toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      {tab === 'partners' && <Partners />}
      {tab === 'programs' && <Programs />}
      {tab === 'commissions' && <Commissions />}
      {tab === 'payouts' && <Payouts />}
    </section>
  );
}

function describeRate(p: Program): string {
  const r = p.rules.rate;
  const rate = r.kind === 'percent' ? `${r.basisPoints / 100}%` : Object.entries(r.amounts).map(([c, a]) => formatMoney(a, c)).join(' / ');
  const d = p.rules.duration;
  const duration = d.kind === 'lifetime' ? 'for life' : d.kind === 'one_time' ? 'first payment only' : `for ${plural(d.count ?? 0, d.kind.slice(0, -1), d.kind)}`;
  return `${rate} of ${p.rules.basis} revenue, ${duration}; held ${plural(p.rules.holdingDays, 'day')}; ${p.rules.cookieDays}-day cookie, ${p.rules.binding.replace('_', ' ')} wins`;
}

function Programs() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [programs, reload] = useResult(() => rpc.call('programs.list', { workspace: ws.id }), [ws.id]);
  const [name, setName] = useState('');
  const [percent, setPercent] = useState('20');
  const [holdingDays, setHoldingDays] = useState('30');
  const [cookieDays, setCookieDays] = useState('30');
  const [basis, setBasis] = useState<'net' | 'gross'>('net');
  const add = useAction(() =>
    rpc.call('programs.add', { workspace: ws.id, name: name.trim(), rateBasisPoints: Math.round(Number(percent) * 100), basis, holdingDays: Number(holdingDays), cookieDays: Number(cookieDays) }),
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if ((await add.act()).ok) {
      setName('');
      reload();
    }
  };
  return (
    <>
      {programs.state === 'loading' && <Loading what="programs" />}
      {programs.state === 'error' && <ErrorNote error={programs.error} />}
      {programs.state === 'ok' && (
        <table className="table" aria-label="Programs">
          <thead>
            <tr>
              <th>Program</th>
              <th>Terms</th>
              <th>Since</th>
            </tr>
          </thead>
          <tbody>
            {programs.value.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{describeRate(p)}</td>
                <td>{formatTime(p.startsAt)}</td>
              </tr>
            ))}
            {programs.value.length === 0 && (
              <tr>
                <td colSpan={3} className="muted">
                  No program yet: add one, then partners to it.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <form className="card" onSubmit={(e) => void submit(e)} aria-label="New program">
        <h2>New program</h2>
        <div className="grid">
          <label>
            Name
            <input name="program-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} />
          </label>
          <label>
            Commission (%)
            <input name="percent" type="number" min={0.01} max={100} step={0.01} value={percent} onChange={(e) => setPercent(e.target.value)} required />
          </label>
          <label>
            Of
            <select name="basis" value={basis} onChange={(e) => setBasis(e.target.value as 'net' | 'gross')}>
              <option value="net">net revenue (refunds take their share back)</option>
              <option value="gross">gross revenue</option>
            </select>
          </label>
          <label>
            Holding days (refund window)
            <input name="holdingDays" type="number" min={0} max={365} value={holdingDays} onChange={(e) => setHoldingDays(e.target.value)} required />
          </label>
          <label>
            Cookie days
            <input name="cookieDays" type="number" min={1} max={396} value={cookieDays} onChange={(e) => setCookieDays(e.target.value)} required />
          </label>
        </div>
        <button type="submit" disabled={add.busy}>
          Add program
        </button>
        <ErrorNote error={add.error} />
      </form>
    </>
  );
}

function Balances({ p }: { p: PartnerView }) {
  if (p.balances.length === 0) return <span className="muted">—</span>;
  return (
    <>
      {p.balances.map((b) => (
        <div key={b.currency} data-currency={b.currency}>
          {formatMoney(b.approvedMinor, b.currency)} payable · {formatMoney(b.pendingMinor, b.currency)} pending
          {b.heldMinor ? ` · ${formatMoney(b.heldMinor, b.currency)} held` : ''} · {formatMoney(b.paidMinor, b.currency)} paid
          {b.flaggedMinor ? ` · ${formatMoney(b.flaggedMinor, b.currency)} flagged` : ''}
        </div>
      ))}
    </>
  );
}

type WiseReceiver = 'PERSON' | 'INSTITUTION';
const EMPTY_PARTNER = { id: '', name: '', email: '', method: 'paypal' as PayoutMethod, paypalEmail: '', program: '', wiseEmail: '', wiseName: '', wiseReceiver: 'PERSON' as WiseReceiver, wiseCurrency: '' };

/** The Wise batch file's columns for a partner (shared/commission/exports.ts): recipient email, holder name, type, target currency. */
const wiseOf = (f: typeof EMPTY_PARTNER) => ({
  email: f.wiseEmail.trim(),
  name: f.wiseName.trim() || null,
  receiverType: f.wiseReceiver,
  currency: f.wiseCurrency.trim() || null,
});

function paidBy(p: PartnerView): string {
  if (p.payoutMethod === 'paypal') return `PayPal ${p.paypalEmail ?? '(no address)'}`;
  if (p.payoutMethod === 'wise') return p.wise ? `Wise ${p.wise.email}${p.wise.currency ? ` in ${p.wise.currency}` : ''}` : 'Wise (no details)';
  return 'by hand';
}

function Partners() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [partners, reload] = useResult(() => rpc.call('partners.list', { workspace: ws.id }), [ws.id]);
  const [programs] = useResult(() => rpc.call('programs.list', { workspace: ws.id }), [ws.id]);
  const [f, setF] = useState(EMPTY_PARTNER);
  const add = useAction(() =>
    rpc.call('partners.add', {
      workspace: ws.id,
      name: f.name.trim(),
      email: f.email.trim(),
      method: f.method,
      ...(f.id.trim() ? { id: f.id.trim() } : {}),
      ...(f.method === 'paypal' && f.paypalEmail.trim() ? { paypalEmail: f.paypalEmail.trim() } : {}),
      ...(f.method === 'wise' ? { wise: wiseOf(f) } : {}),
      ...(f.program ? { program: f.program } : {}),
    }),
  );
  const setStatus = useAction((partner: string, status: 'active' | 'paused') => rpc.call('partners.update', { workspace: ws.id, partner, status }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if ((await add.act()).ok) {
      setF({ ...EMPTY_PARTNER, method: f.method, program: f.program });
      reload();
    }
  };
  const noPrograms = programs.state === 'ok' && programs.value.length === 0;
  return (
    <>
      {partners.state === 'loading' && <Loading what="partners" />}
      {partners.state === 'error' && <ErrorNote error={partners.error} />}
      {partners.state === 'ok' && (
        <table className="table" aria-label="Partners">
          <thead>
            <tr>
              <th>Partner</th>
              <th>Id (links carry it)</th>
              <th>Paid by</th>
              <th>Status</th>
              <th>Balance</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {partners.value.map((p) => (
              <tr key={p.id} data-partner={p.id}>
                <td>
                  {p.name}
                  <div className="muted">{p.email}</div>
                </td>
                <td>
                  <code>{p.id}</code>
                </td>
                <td>{paidBy(p)}</td>
                <td>{p.status}</td>
                <td>
                  <Balances p={p} />
                </td>
                <td>
                  {p.status !== 'closed' && (
                    <button type="button" className="small secondary" disabled={setStatus.busy} onClick={() => void setStatus.act(p.id, p.status === 'active' ? 'paused' : 'active').then(() => reload())}>
                      {p.status === 'active' ? 'Pause' : 'Resume'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {partners.value.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No partners yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <ErrorNote error={setStatus.error} />
      <form className="card" onSubmit={(e) => void submit(e)} aria-label="New partner">
        <h2>New partner</h2>
        {noPrograms && <p className="warning">Add a program first (Programs tab): it says what partners earn.</p>}
        <div className="grid">
          <label>
            Name
            <input name="partner-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} required />
          </label>
          <label>
            Email
            <input name="partner-email" type="email" value={f.email} onChange={(e) => setF({ ...f, email: e.target.value })} required />
          </label>
          <div className="field">
            <label>
              Id (optional; from the name otherwise)
              <input name="partner-id" value={f.id} onChange={(e) => setF({ ...f, id: e.target.value })} placeholder={f.name.trim() ? partnerIdFromName(f.name) : 'from the name'} aria-describedby="partner-id-rules" />
            </label>
            <p id="partner-id-rules" className="hint">
              What the partner's links carry: 1 to 30 letters, digits, - and _, starting with a letter or digit.
            </p>
          </div>
          <label>
            Program
            <select name="partner-program" value={f.program} onChange={(e) => setF({ ...f, program: e.target.value })}>
              <option value="">{programs.state === 'ok' && programs.value.length === 1 ? programs.value[0]!.name : '(the only program)'}</option>
              {programs.state === 'ok' &&
                programs.value.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
            </select>
          </label>
          <label>
            Paid by
            <select name="partner-method" value={f.method} onChange={(e) => setF({ ...f, method: e.target.value as PayoutMethod })}>
              <option value="paypal">PayPal</option>
              <option value="wise">Wise</option>
              <option value="manual">By hand</option>
            </select>
          </label>
          {f.method === 'paypal' && (
            <label>
              PayPal email
              <input name="partner-paypal" type="email" value={f.paypalEmail} onChange={(e) => setF({ ...f, paypalEmail: e.target.value })} required />
            </label>
          )}
        </div>
        {f.method === 'wise' && (
          <fieldset className="grid wise" aria-label="Wise details">
            <legend>What Wise's batch file needs for this partner</legend>
            <label>
              Wise email (the recipient's Wise account)
              <input name="wise-email" type="email" value={f.wiseEmail} onChange={(e) => setF({ ...f, wiseEmail: e.target.value })} placeholder={f.email} required />
            </label>
            <label>
              Account holder (if not the partner's name)
              <input name="wise-name" value={f.wiseName} onChange={(e) => setF({ ...f, wiseName: e.target.value })} placeholder={f.name} maxLength={200} />
            </label>
            <label>
              Recipient is
              <select name="wise-receiver" value={f.wiseReceiver} onChange={(e) => setF({ ...f, wiseReceiver: e.target.value as WiseReceiver })}>
                <option value="PERSON">a person</option>
                <option value="INSTITUTION">a business</option>
              </select>
            </label>
            <label>
              Receives in (currency code)
              <input name="wise-currency" value={f.wiseCurrency} onChange={(e) => setF({ ...f, wiseCurrency: e.target.value.toUpperCase() })} placeholder="the payout's currency" maxLength={3} />
            </label>
          </fieldset>
        )}
        <button type="submit" disabled={add.busy || noPrograms}>
          Add partner
        </button>
        <ErrorNote error={add.error} />
      </form>
    </>
  );
}

function Commissions() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [state, setState] = useState<LineState | ''>('');
  const [lines] = useResult(() => rpc.call('commissions.list', { workspace: ws.id, ...(state ? { state } : {}) }), [ws.id, state]);
  return (
    <>
      <label className="inline">
        State{' '}
        <select name="state" value={state} onChange={(e) => setState(e.target.value as LineState | '')}>
          <option value="">all</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {lines.state === 'loading' && <Loading what="commissions" />}
      {lines.state === 'error' && <ErrorNote error={lines.error} />}
      {lines.state === 'ok' && (
        <table className="table" aria-label="Commissions">
          <thead>
            <tr>
              <th>When</th>
              <th>Partner</th>
              <th>Line</th>
              <th>Charge</th>
              <th className="num">On</th>
              <th className="num">Amount</th>
              <th>State</th>
              <th>Payable from</th>
            </tr>
          </thead>
          <tbody>
            {lines.value.map((l) => (
              <tr key={l.id} data-line={l.kind} data-state={l.state}>
                <td>{formatTime(l.occurredAt)}</td>
                <td>{l.partnerId}</td>
                <td>
                  {l.kind}
                  {l.kind !== 'commission' ? ` (${l.cause})` : ''}
                  {l.selfReferral ? <div className="warning">self-referral: {l.selfReferral}</div> : null}
                </td>
                <td>
                  <code>{l.chargeId}</code>
                </td>
                <td className="num">{formatMoney(l.baseMinor, l.currency)}</td>
                <td className="num">{formatMoney(l.amountMinor, l.currency)}</td>
                <td>
                  <span className={`badge state-${l.state}`}>{l.state}</span>
                </td>
                <td>{formatTime(l.availableAt)}</td>
              </tr>
            ))}
            {lines.value.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No commission lines{state ? ` in state ${state}` : ''}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </>
  );
}

const FORMATS: { format: ExportFormat; label: string }[] = [
  { format: 'paypal', label: 'PayPal file' },
  { format: 'wise', label: 'Wise file' },
  { format: 'csv', label: 'CSV' },
  { format: 'statement-pdf', label: 'Statements (PDF)' },
  { format: 'statement-html', label: 'Statements (HTML)' },
];

/** The payout run opens on the last finished month of the workspace's time zone: the month in progress may still earn. */
function Payouts() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings] = useResult(() => rpc.call('settings.get', { workspace: ws.id }), [ws.id]);
  if (settings.state === 'loading') return <Loading what="payouts" />;
  if (settings.state === 'error') return <ErrorNote error={settings.error} />;
  return <PayoutRuns firstPeriod={lastFinishedPeriod(Date.now(), settings.value.timeZone)} />;
}

function PayoutRuns({ firstPeriod }: { firstPeriod: string }) {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [period, setPeriod] = useState(firstPeriod);
  const [batches, reload] = useResult(() => rpc.call('payouts.list', { workspace: ws.id }), [ws.id]);
  const [preview, reloadPreview] = useResult(() => rpc.call('payouts.preview', { workspace: ws.id, period }), [ws.id, period]);
  const create = useAction(() => rpc.call('payouts.create', { workspace: ws.id, period }));
  const run = async () => {
    if ((await create.act()).ok) {
      reload();
      reloadPreview();
    }
  };
  return (
    <>
      <div className="card" aria-label="Payout run">
        <h2>Pay partners for a month</h2>
        <label className="inline">
          Month{' '}
          <input name="period" type="month" value={period} onChange={(e) => setPeriod(e.target.value)} />
        </label>
        {preview.state === 'loading' && <Loading what="the preview" />}
        {preview.state === 'error' && <ErrorNote error={preview.error} />}
        {preview.state === 'ok' && (
          <>
            {preview.value.batches.length === 0 ? (
              <p className="muted">Nothing payable for {period}.</p>
            ) : (
              <ul aria-label="Preview">
                {preview.value.batches.map((b) => (
                  <li key={`${b.method}:${b.currency}`}>
                    {b.method}: {formatMoney(b.totalMinor, b.currency)} to {b.items.map((i) => `${i.name} (${formatMoney(i.amountMinor, b.currency)})`).join(', ')}
                  </li>
                ))}
              </ul>
            )}
            {preview.value.carried.map((c) => (
              <p key={`${c.partnerId}:${c.currency}`} className="muted">
                {c.name}: {c.message}
              </p>
            ))}
            <button type="button" disabled={create.busy || preview.value.batches.length === 0} onClick={() => void run()}>
              Create payout run
            </button>
          </>
        )}
        <ErrorNote error={create.error} />
      </div>
      {batches.state === 'loading' && <Loading what="payout runs" />}
      {batches.state === 'error' && <ErrorNote error={batches.error} />}
      {batches.state === 'ok' && batches.value.length > 0 && (
        <table className="table" aria-label="Payout runs">
          <thead>
            <tr>
              <th>Month</th>
              <th>Method</th>
              <th className="num">Total</th>
              <th className="num">Partners</th>
              <th>Paid</th>
              <th>Files</th>
            </tr>
          </thead>
          <tbody>
            {batches.value.map((b) => (
              <BatchRow key={b.id} batch={b} onChange={reload} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function BatchRow({ batch: b, onChange }: { batch: BatchSummary; onChange(): void }) {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [reference, setReference] = useState('');
  const exp = useAction((format: ExportFormat) => rpc.call('payouts.export', { workspace: ws.id, batch: b.id, format }));
  const paid = useAction(() => rpc.call('payouts.markPaid', { workspace: ws.id, batch: b.id, reference: reference.trim() }));
  const download = async (format: ExportFormat) => {
    const r = await exp.act(format);
    if (r.ok) for (const f of r.value.files) saveFile(f);
  };
  const formats = FORMATS.filter((f) => (f.format === 'paypal' ? b.method === 'paypal' : f.format === 'wise' ? b.method === 'wise' : true));
  return (
    <tr data-batch={b.id}>
      <td>{b.period}</td>
      <td>{b.method}</td>
      <td className="num">{formatMoney(b.totalMinor, b.currency)}</td>
      <td className="num">{b.itemCount}</td>
      <td>
        {b.paidAt ? (
          `${formatTime(b.paidAt)} (${b.reference ?? ''})`
        ) : (
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void paid.act().then((r) => (r.ok ? onChange() : undefined));
            }}
          >
            <input name="reference" placeholder="Payment reference" value={reference} onChange={(e) => setReference(e.target.value)} required aria-label="Payment reference" />
            <button type="submit" className="small" disabled={paid.busy}>
              Mark paid
            </button>
          </form>
        )}
        <ErrorNote error={paid.error} />
      </td>
      <td className="actions">
        {formats.map((f) => (
          <button key={f.format} type="button" className="small secondary" disabled={exp.busy} onClick={() => void download(f.format)}>
            {f.label}
          </button>
        ))}
        <ErrorNote error={exp.error} />
      </td>
    </tr>
  );
}
