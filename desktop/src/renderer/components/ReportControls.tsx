import type { AttributionModel } from '@revtrail/shared/attribution/models';
import { plural } from '../format';
import type { ReportChoice } from '../report-range';

export const MODEL_LABELS: Record<AttributionModel, string> = {
  last_click: 'Last click',
  first_click: 'First click',
  linear: 'Linear',
  last_non_direct: 'Last non-direct',
};

export type { ReportChoice };

/**
 * Model, currency and range switches shared by the report screens. `currencies`: what the core can convert
 * to (reports.currencies); until it answers, only the current one is offered.
 */
export function ReportControls({
  value,
  onChange,
  currencies: offered,
  ranges = [7, 30, 90, 365],
  modelLabel = 'Model',
}: {
  value: ReportChoice;
  onChange(v: ReportChoice): void;
  currencies: readonly string[];
  ranges?: number[];
  /** What the model picker is called where it chooses something else than the one model shown. */
  modelLabel?: string;
}) {
  const currencies = offered.includes(value.currency) ? offered : [value.currency, ...offered];
  // A range from an address that is none of the usual ones is still offered (and shown) as chosen.
  const rangeList = ranges.includes(value.days) ? ranges : [...ranges, value.days].sort((a, b) => a - b);
  return (
    <div className="row controls" role="group" aria-label="Report options">
      <label className="inline">
        {modelLabel}{' '}
        <select name="model" value={value.model} onChange={(e) => onChange({ ...value, model: e.target.value as AttributionModel })}>
          {(Object.keys(MODEL_LABELS) as AttributionModel[]).map((m) => (
            <option key={m} value={m}>
              {MODEL_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <label className="inline">
        Currency{' '}
        <select name="currency" value={value.currency} onChange={(e) => onChange({ ...value, currency: e.target.value })}>
          {currencies.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label className="inline">
        Range{' '}
        <select name="range" value={value.days} onChange={(e) => onChange({ ...value, days: Number(e.target.value) })}>
          {rangeList.map((d) => (
            <option key={d} value={d}>
              Last {plural(d, 'day')}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
