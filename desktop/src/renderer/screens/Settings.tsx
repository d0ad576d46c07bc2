import { useEffect, useState, type FormEvent } from 'react';
import type { AttributionModel, ChannelRule } from '@revtrail/shared/attribution/index';
import type { ReportCurrencies } from '../../core/attribution/currencies';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { MODEL_LABELS } from '../components/ReportControls';
import { formatAgo, formatTime, plural } from '../format';
import { useAction, useResult } from '../hooks';
import { MetaForwarding } from './Meta';
import { StripeWebhook } from './StripeWebhook';

const zones = (): string[] => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC']);

/** How this workspace attributes and reports, and the exchange rates it converts with. */
export function Settings() {
  return (
    <section>
      <h1>Settings</h1>
      <AttributionSettingsForm />
      <DataSettingsForm />
      <StripeWebhook />
      <MetaForwarding />
      <ExchangeRates />
    </section>
  );
}

interface Draft {
  model: AttributionModel;
  windowDays: string;
  currency: string;
  timeZone: string;
  rules: string;
}

function AttributionSettingsForm() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings, reload] = useResult(() => rpc.call('settings.get', { workspace: ws.id }), [ws.id]);
  const [currencies] = useResult(() => rpc.call('reports.currencies', { workspace: ws.id }), [ws.id]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [rulesProblem, setRulesProblem] = useState<string | null>(null);
  const save = useAction((input: { model: AttributionModel; windowDays: number; currency: string; timeZone: string; channelRules?: ChannelRule[] | null }) =>
    rpc.call('settings.set', { workspace: ws.id, ...input }),
  );
  useEffect(() => {
    if (settings.state !== 'ok') return;
    const s = settings.value;
    setDraft({ model: s.model, windowDays: String(s.windowDays), currency: s.currency, timeZone: s.timeZone, rules: JSON.stringify(s.channelRules, null, 2) });
  }, [settings]);

  if (settings.state === 'loading' || !draft) return <Loading what="settings" />;
  if (settings.state === 'error') return <ErrorNote error={settings.error} />;
  const s = settings.value;
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft({ ...draft, [k]: v });

  const submit = async (e: FormEvent, resetRules = false) => {
    e.preventDefault();
    setNotice(null);
    setRulesProblem(null);
    let channelRules: ChannelRule[] | null | undefined;
    if (resetRules) channelRules = null;
    else if (draft.rules.trim() !== JSON.stringify(s.channelRules, null, 2)) {
      try {
        channelRules = JSON.parse(draft.rules) as ChannelRule[];
      } catch (x) {
        setRulesProblem(`The channel rules are not valid JSON: ${(x as Error).message}`);
        return;
      }
    }
    const r = await save.act({ model: draft.model, windowDays: Number(draft.windowDays), currency: draft.currency.trim().toUpperCase(), timeZone: draft.timeZone, ...(channelRules !== undefined ? { channelRules } : {}) });
    if (!r.ok) return;
    setNotice(r.value.rebuilt ? `Saved; the attribution was rebuilt (${plural(r.value.rebuilt.rows, 'ledger row')}).` : 'Saved.');
    reload();
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-label="Attribution settings">
      <h2>Attribution</h2>
      <div className="grid">
        <label>
          Default model
          <select name="model" value={draft.model} onChange={(e) => set('model', e.target.value as AttributionModel)}>
            {(Object.keys(MODEL_LABELS) as AttributionModel[]).map((m) => (
              <option key={m} value={m}>
                {MODEL_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Attribution window (days)
          <input name="windowDays" type="number" min={1} max={365} value={draft.windowDays} onChange={(e) => set('windowDays', e.target.value)} required />
        </label>
        <label>
          Reporting currency
          <CurrencySelect value={draft.currency} onChange={(c) => set('currency', c)} offered={currencies.state === 'ok' ? currencies.value : null} />
          <span className="hint">The ones Revtrail can convert to: the euro, those the ECB publishes rates for, and your payments&apos; own.</span>
        </label>
        <label>
          Time zone (days in reports)
          <select name="timeZone" value={draft.timeZone} onChange={(e) => set('timeZone', e.target.value)}>
            {(zones().includes(draft.timeZone) ? zones() : [draft.timeZone, ...zones()]).map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label>
        Channel rules (JSON: which UTM sources, mediums, referrers and click ids make each channel, first match wins){s.customRules ? '' : ' — the shipped default'}
        <textarea name="channelRules" rows={10} value={draft.rules} onChange={(e) => set('rules', e.target.value)} spellCheck={false} />
      </label>
      <div className="row">
        <button type="submit" disabled={save.busy}>
          Save
        </button>
        {s.customRules && (
          <button type="button" className="secondary" disabled={save.busy} onClick={(e) => void submit(e, true)}>
            Back to the default channel rules
          </button>
        )}
      </div>
      {rulesProblem && <p className="error">{rulesProblem}</p>}
      <ErrorNote error={save.error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {s.lastBuild && (
        <p className="muted">
          Last attribution build {formatAgo(s.lastBuild.builtAt)}: {plural(s.lastBuild.rows, 'row')} in {s.lastBuild.tookMs} ms ({s.lastBuild.windowDays}-day window, {s.lastBuild.currency}).
        </p>
      )}
    </form>
  );
}

/**
 * Only currencies the reports can convert to (reports.currencies; the core refuses others): the workspace's own
 * payment currencies first. Until it answers, only the current one.
 */
function CurrencySelect({ value, onChange, offered }: { value: string; onChange(c: string): void; offered: ReportCurrencies | null }) {
  const all = offered?.currencies ?? [];
  const own = offered?.own.filter((c) => all.includes(c)) ?? [];
  const rest = all.filter((c) => !own.includes(c));
  const missing = all.includes(value) ? [] : [value];
  const options = (list: readonly string[]) =>
    list.map((c) => (
      <option key={c} value={c}>
        {c}
      </option>
    ));
  return (
    <select name="currency" value={value} onChange={(e) => onChange(e.target.value)}>
      {options(missing)}
      {own.length > 0 ? (
        <>
          <optgroup label="Your payments' currencies">{options(own)}</optgroup>
          <optgroup label={offered?.ecbDay ? `Euro and ECB rates (${offered.ecbDay})` : 'Euro and ECB rates'}>{options(rest)}</optgroup>
        </>
      ) : (
        options(rest)
      )}
    </select>
  );
}

function ExchangeRates() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [fx, reload] = useResult(() => rpc.call('fx.status', { workspace: ws.id }), [ws.id]);
  const refresh = useAction(() => rpc.call('fx.refresh', { workspace: ws.id, force: true }));
  return (
    <div className="card" data-section="fx">
      <h2>Exchange rates (ECB)</h2>
      {fx.state === 'loading' && <Loading what="rates" />}
      {fx.state === 'error' && <ErrorNote error={fx.error} />}
      {fx.state === 'ok' && (
        <>
          <p>
            Newest rates: <strong>{fx.value.newestDay ?? 'none'}</strong>
            {fx.value.source ? ` (${fx.value.source})` : ''}, {plural(fx.value.currencies, 'currency', 'currencies')}, {plural(fx.value.days, 'day')} of history.
          </p>
          <p className="muted" title={formatTime(fx.value.lastSuccessAt)}>
            Last download {formatAgo(fx.value.lastSuccessAt)}; Revtrail downloads them once a day by itself.
          </p>
          {fx.value.lastError && <p className="warning">The last download failed: {fx.value.lastError}</p>}
        </>
      )}
      <button type="button" className="secondary" disabled={refresh.busy} onClick={() => void refresh.act().then(() => reload())}>
        {refresh.busy ? 'Downloading…' : 'Download the rates now'}
      </button>
      <ErrorNote error={refresh.error} />
    </div>
  );
}

/** How long data is kept here and on the redirector, which Stripe metadata is kept, and the backups. */
function DataSettingsForm() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings, reload] = useResult(() => rpc.call('privacy.settings', { workspace: ws.id }), [ws.id]);
  const [cloud, reloadCloud] = useResult(() => rpc.call('privacy.cloudSettings', { workspace: ws.id }), [ws.id]);
  const save = useAction((input: { retentionDays: number; metadataKeys: string[]; backupDir: string | null; backupKeep: number }) => rpc.call('privacy.saveSettings', { workspace: ws.id, ...input }));
  const saveCloud = useAction((retentionDays: number) => rpc.call('privacy.saveCloudSettings', { workspace: ws.id, retentionDays }));
  const [notice, setNotice] = useState<string | null>(null);
  if (settings.state === 'loading') return <Loading what="data settings" />;
  if (settings.state === 'error') return <ErrorNote error={settings.error} />;
  const s = settings.value;
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setNotice(null);
    const f = new FormData(e.currentTarget);
    const dir = String(f.get('backupDir') ?? '').trim();
    const r = await save.act({
      retentionDays: Number(f.get('retentionDays')),
      metadataKeys: String(f.get('metadataKeys') ?? '').split(',').map((k) => k.trim()).filter(Boolean),
      backupDir: dir === '' ? null : dir,
      backupKeep: Number(f.get('backupKeep')),
    });
    if (!r.ok) return;
    const cloudDays = f.get('cloudRetentionDays');
    if (cloud.state === 'ok' && cloudDays !== null && Number(cloudDays) !== cloud.value.retentionDays) {
      const c = await saveCloud.act(Number(cloudDays));
      if (!c.ok) return;
      reloadCloud();
    }
    setNotice('Saved.');
    reload();
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-label="Data and privacy settings" key={JSON.stringify(s)}>
      <h2>Data and privacy</h2>
      <div className="grid">
        <label>
          Keep clicks, page views and identities here (days)
          <input name="retentionDays" type="number" min={30} max={3650} defaultValue={s.retentionDays} required />
        </label>
        <label>
          Keep them on the redirector (days)
          {cloud.state === 'ok' ? (
            <input name="cloudRetentionDays" type="number" min={1} max={3650} defaultValue={cloud.value.retentionDays} required />
          ) : (
            <span className="muted">{cloud.state === 'loading' ? '…' : cloud.error.message}</span>
          )}
        </label>
        <label>
          Stripe metadata keys kept (comma-separated; every other key is dropped)
          <input name="metadataKeys" defaultValue={s.metadataKeys.join(', ')} />
        </label>
        <label>
          Backup folder (empty: beside the workspace)
          <input name="backupDir" defaultValue={s.backupDir ?? ''} placeholder="/path/to/backups" />
        </label>
        <label>
          Backups kept
          <input name="backupKeep" type="number" min={1} max={365} defaultValue={s.backupKeep} required />
        </label>
      </div>
      <p className="muted">
        Payments, refunds and commissions are accounting records and stay. Last purge {formatAgo(s.lastPurgeAt)}; last backup {formatAgo(s.lastBackupAt)} (encrypted, every {plural(s.backupEveryHours, 'hour')}).
      </p>
      <button type="submit" disabled={save.busy || saveCloud.busy}>
        Save
      </button>
      <ErrorNote error={save.error ?? saveCloud.error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
    </form>
  );
}
