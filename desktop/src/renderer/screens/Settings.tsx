import { useEffect, useState, type FormEvent } from 'react';
import type { AttributionModel, ChannelRule } from '@revtrail/shared/attribution/index';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { MODEL_LABELS } from '../components/ReportControls';
import { formatAgo, formatCount, formatTime } from '../format';
import { useAction, useResult } from '../hooks';

const zones = (): string[] => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC']);

/** How this workspace attributes and reports, and the exchange rates it converts with. */
export function Settings() {
  return (
    <section>
      <h1>Settings</h1>
      <AttributionSettingsForm />
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
    setNotice(r.value.rebuilt ? `Saved; the attribution was rebuilt (${formatCount(r.value.rebuilt.rows)} ledger rows).` : 'Saved.');
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
          <input name="currency" value={draft.currency} onChange={(e) => set('currency', e.target.value)} maxLength={3} pattern="[A-Za-z]{3}" required />
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
          Last attribution build {formatAgo(s.lastBuild.builtAt)}: {formatCount(s.lastBuild.rows)} rows in {s.lastBuild.tookMs} ms ({s.lastBuild.windowDays}-day window, {s.lastBuild.currency}).
        </p>
      )}
    </form>
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
            {fx.value.source ? ` (${fx.value.source})` : ''}, {formatCount(fx.value.currencies)} currencies, {formatCount(fx.value.days)} days of history.
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
