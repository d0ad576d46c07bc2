import { ATTRIBUTION_MODELS, type AttributionModel } from '@revtrail/shared/attribution/models';
import { currencyExponent } from '@revtrail/shared/money';
import type { ModelsRow } from '../../core/attribution/reports';
import { useApp, useWorkspace } from '../app-context';
import { ErrorNote, Loading } from '../components/Notice';
import { MODEL_LABELS, ReportControls, type ReportChoice } from '../components/ReportControls';
import { UnconvertedNote } from '../components/UnconvertedNote';
import { formatMoney } from '../format';
import { hashOf, useHashLocation } from '../hash-route';
import { useDataVersion, useResult } from '../hooks';
import { lastDays, rangeLabel, readReportQuery, reportParams } from '../report-range';

const MODEL_MEANING: Record<AttributionModel, string> = {
  last_click: 'the last link clicked before paying gets it all',
  first_click: 'the first link clicked (within the window) gets it all',
  linear: 'every click and visit in the window gets an equal share',
  last_non_direct: 'the last touch that was not a direct visit gets it all',
};

/** A difference from the chosen model worth a look: at least 10% of the larger figure and one whole unit. */
const notable = (value: number, base: number, unit: number) => Math.abs(value - base) >= unit && Math.abs(value - base) >= 0.1 * Math.max(Math.abs(value), Math.abs(base));

/**
 * The same range under the four attribution models, per channel: which channels a model flatters. Each
 * figure that differs notably from the chosen model's is marked higher or lower.
 */
export function ModelComparison() {
  const { rpc } = useApp();
  const ws = useWorkspace();
  const [settings] = useResult(() => rpc.call('settings.get', { workspace: ws.id }), [ws.id]);
  const [currencies] = useResult(() => rpc.call('reports.currencies', { workspace: ws.id }), [ws.id]);
  const [location, go] = useHashLocation();
  const { choice } = readReportQuery(location.params);
  const shown = choice ?? (settings.state === 'ok' ? { model: settings.value.model, currency: settings.value.currency, days: 30 } : null);
  const timeZone = settings.state === 'ok' ? settings.value.timeZone : null;
  const version = useDataVersion();
  const query = choice && timeZone ? { ...lastDays(choice.days, timeZone), model: choice.model, currency: choice.currency } : {};
  const [models] = useResult(() => rpc.call('reports.models', { workspace: ws.id, ...query }), [ws.id, choice?.days, choice?.model, choice?.currency, timeZone, version]);
  const setChoice = (c: ReportChoice) => go(hashOf('models', null, reportParams({ choice: c, filter: null })), { replace: true });

  return (
    <section>
      <div className="row spread">
        <h1>Model comparison</h1>
        {shown && (
          <div className="row">
            <ReportControls value={shown} onChange={setChoice} currencies={currencies.state === 'ok' ? currencies.value.currencies : []} modelLabel="Compare with" />
            <a href={hashOf('dashboard', null, reportParams({ choice: shown, filter: null }))}>Dashboard</a>
          </div>
        )}
      </div>
      <p className="lead">
        Who gets the credit for a payment depends on the model. Here is the same money under each of them, per channel: a channel that looks strong only under one model
        is worth a second look.
      </p>
      {settings.state === 'error' && <ErrorNote error={settings.error} />}
      {models.state === 'loading' && <Loading what="the comparison" />}
      {models.state === 'error' && <ErrorNote error={models.error} />}
      {models.state === 'ok' && (
        <div className="card">
          <h2>
            Net revenue by model, {rangeLabel(models.value.range)} ({models.value.currency})
          </h2>
          {models.value.rows.length === 0 ? (
            <p className="muted">No revenue in these days yet.</p>
          ) : (
            <ComparisonTable rows={models.value.rows} base={models.value.range.model} currency={models.value.currency} totals={models.value.totals} />
          )}
          <UnconvertedNote unconverted={models.value.unconverted} currency={models.value.currency} />
        </div>
      )}
      <div className="card">
        <h2>The models</h2>
        <ul className="plain">
          {ATTRIBUTION_MODELS.map((m) => (
            <li key={m}>
              <strong>{MODEL_LABELS[m]}</strong>: {MODEL_MEANING[m]}.
            </li>
          ))}
        </ul>
        <p className="muted">The window (how far back a click counts) is set in Settings. Money with no click or visit before it is Direct under every model.</p>
      </div>
    </section>
  );
}

function ComparisonTable({ rows, base, currency, totals }: { rows: ModelsRow[]; base: AttributionModel; currency: string; totals: Record<AttributionModel, { netMinor: number; conversions: number }> }) {
  const unit = 10 ** currencyExponent(currency);
  return (
    <>
      <div className="table-scroll">
        <table className="table comparison" aria-label="Model comparison">
          <thead>
            <tr>
              <th>Channel</th>
              {ATTRIBUTION_MODELS.map((m) => (
                <th key={m} className="num">
                  {MODEL_LABELS[m]}
                  {m === base ? ' (chosen)' : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.channel} data-channel={r.channel}>
                <td>{r.channel}</td>
                {ATTRIBUTION_MODELS.map((m) => {
                  const v = r.models[m];
                  const b = r.models[base];
                  const diff = m !== base && notable(v.netMinor, b.netMinor, unit) ? (v.netMinor > b.netMinor ? 'higher' : 'lower') : null;
                  return (
                    <td key={m} className={`num${m === base ? ' base' : ''}${diff ? ` ${diff}` : ''}`} data-model={m} data-diff={diff ?? undefined}>
                      {formatMoney(v.netMinor, currency)}
                      {diff && <span className="diff-mark"> {diff === 'higher' ? '▲' : '▼'}<span className="visually-hidden">{diff} than {MODEL_LABELS[base]}</span></span>}
                      <span className="sub">{formatConversions(v.conversions)}</span>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              {ATTRIBUTION_MODELS.map((m) => (
                <td key={m} className="num">
                  {formatMoney(totals[m].netMinor, currency)}
                  <span className="sub">{formatConversions(totals[m].conversions)}</span>
                </td>
              ))}
            </tr>
          </tfoot>
        </table>
      </div>
      <p className="muted">
        ▲ and ▼: at least 10% more or less than under {MODEL_LABELS[base]}. Each total is the same money shared out differently; conversions under Linear are
        fractions, since a payment is split between its touches.
      </p>
    </>
  );
}

const formatConversions = (n: number) =>
  `${new Intl.NumberFormat(undefined, { maximumFractionDigits: n % 1 === 0 ? 0 : 2 }).format(n)} ${n === 1 ? 'conversion' : 'conversions'}`;
