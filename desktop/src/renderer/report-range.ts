import { addDays, dayInZone, daysBetween } from '@revtrail/shared/attribution/days';
import { isAttributionModel, type AttributionModel } from '@revtrail/shared/attribution/models';
import type { ReportFilter } from '../core/attribution/reports-repo';
import { plural } from './format';

/** The last `days` days up to today in `timeZone`, as the reports take them. */
export function lastDays(days: number, timeZone: string, now = Date.now()): { from: string; to: string; tz: string } {
  const to = dayInZone(now, timeZone);
  return { from: addDays(to, -(days - 1)), to, tz: timeZone };
}

/**
 * A report's range as its heading says it, read from the range the report answered with (never from what
 * was asked): "last 90 days" when it ends today in its zone, else its first and last day.
 */
export function rangeLabel(range: { from: string; to: string; timeZone: string }, now = Date.now()): string {
  const days = daysBetween(range.from, range.to).length;
  if (range.to === dayInZone(now, range.timeZone)) return days === 1 ? 'today' : `last ${plural(days, 'day')}`;
  return `${range.from} to ${range.to}`;
}

/** The model, currency and range a report screen shows. */
export interface ReportChoice {
  model: AttributionModel;
  currency: string;
  days: number;
}

/** What the report screens keep in their address: the range, model and currency chosen, and a filter. */
export interface ReportQuery {
  /** Null: nothing chosen yet, the workspace's own model and currency over the last 30 days. */
  choice: ReportChoice | null;
  filter: ReportFilter | null;
}

const FILTERS: readonly ReportFilter['by'][] = ['channel', 'link', 'campaign', 'partner'];

/** The query of an address (`days`, `model`, `currency`, `by`, `value`); what is not valid there is left out. */
export function readReportQuery(params: URLSearchParams): ReportQuery {
  const days = Number(params.get('days'));
  const model = params.get('model');
  const currency = params.get('currency');
  const choice =
    Number.isInteger(days) && days >= 1 && days <= 3660 && model !== null && isAttributionModel(model) && currency !== null && /^[A-Z]{3}$/.test(currency)
      ? { days, model, currency }
      : null;
  const by = params.get('by') as ReportFilter['by'] | null;
  const value = params.get('value');
  // A channel always has a name; the others may be "none" (value absent).
  const filter = by !== null && FILTERS.includes(by) && (value !== null || by !== 'channel') ? { by, value: value === '' ? null : value } : null;
  return { choice, filter };
}

export function reportParams(q: ReportQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (q.choice) {
    p.set('days', String(q.choice.days));
    p.set('model', q.choice.model);
    p.set('currency', q.choice.currency);
  }
  if (q.filter) {
    p.set('by', q.filter.by);
    if (q.filter.value !== null) p.set('value', q.filter.value);
  }
  return p;
}
