import type { AttributionModel } from '@revtrail/shared/attribution/models';
import { plural } from '../format';

export const MODEL_LABELS: Record<AttributionModel, string> = {
  last_click: 'Last click',
  first_click: 'First click',
  linear: 'Linear',
  last_non_direct: 'Last non-direct',
};

export interface ReportChoice {
  model: AttributionModel;
  currency: string;
  days: number;
}

/**
 * Model, currency and range switches shared by the report screens. `currencies`: what the core can convert
 * to (reports.currencies); until it answers, only the current one is offered.
 */
export function ReportControls({
  value,
  onChange,
  currencies: offered,
  ranges = [7, 30, 90, 365],
}: {
  value: ReportChoice;
  onChange(v: ReportChoice): void;
  currencies: readonly string[];
  ranges?: number[];
}) {
  const currencies = offered.includes(value.currency) ? offered : [value.currency, ...offered];
  return (
    <div className="row controls" role="group" aria-label="Report options">
      <label className="inline">
        Model{' '}
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
          {ranges.map((d) => (
            <option key={d} value={d}>
              Last {plural(d, 'day')}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
