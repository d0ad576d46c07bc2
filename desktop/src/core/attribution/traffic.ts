import { daysBetween } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import { clickDaysOf, sumCells, type TrafficBasis, type TrafficRow } from './click-days';
import type { CellGroup } from './click-days-repo';
import { clicksByCampaign, clicksByChannel, clicksByPartner, clicksBySlug, clickTotals, trafficByBucket, type ReportFilter } from './reports-repo';

// The clicks and visitors of a report: from the per-day rollups when they can answer the range (click-days.ts),
// else counted from the clicks (reports-repo.ts), the same figures but for the visitors, which the rollups estimate.

export type { TrafficBasis, TrafficRow } from './click-days';

export interface TrafficRange {
  from: string;
  to: string;
  timeZone: string;
  /** [start, end) in UTC ms: the range's midnights in its zone. */
  start: number;
  end: number;
  filter?: ReportFilter | null;
}

/** false: count the clicks themselves even where the rollups could answer (tests compare the two). */
export interface TrafficOptions {
  rollups?: boolean;
}

export type TrafficGroup = 'channel' | 'slug' | 'campaign' | 'partner';

const EXACT: TrafficBasis = { visitors: 'exact', visitorsFrom: null };

const rollups = (db: Db, range: TrafficRange, by: CellGroup, opts: TrafficOptions) => (opts.rollups === false ? null : clickDaysOf(db, range, by));

/** Clicks and distinct visitors per channel, link, campaign or partner of the range's clicks. */
export function trafficBy(db: Db, range: TrafficRange, group: TrafficGroup, opts: TrafficOptions = {}): { rows: TrafficRow[]; basis: TrafficBasis } {
  const days = rollups(db, range, group, opts);
  if (days) return { rows: sumCells(days.rows), basis: days.basis };
  const { start, end, filter } = range;
  if (group === 'slug') return { rows: clicksBySlug(db, start, end, filter), basis: EXACT };
  const counted = group === 'channel' ? clicksByChannel(db, start, end, filter) : group === 'campaign' ? clicksByCampaign(db, start, end, filter) : clicksByPartner(db, start, end, filter);
  // The channel of a channel's row is itself; the other groups' rows do not read it.
  return { rows: counted.map((c) => ({ ...c, channel: c.key ?? '' })), basis: EXACT };
}

/** The range's clicks and distinct visitors in all. */
export function trafficTotal(db: Db, range: TrafficRange, opts: TrafficOptions = {}): { clicks: number; visitors: number; basis: TrafficBasis } {
  const days = rollups(db, range, 'all', opts);
  if (days) {
    const [total] = sumCells(days.rows);
    return { clicks: total?.clicks ?? 0, visitors: total?.visitors ?? 0, basis: days.basis };
  }
  return { ...clickTotals(db, range.start, range.end, range.filter), basis: EXACT };
}

/** Clicks and distinct visitors per bucket (its label, first and last day, [start, end) in UTC ms); buckets without clicks are absent. */
export function trafficByBuckets(
  db: Db,
  range: TrafficRange,
  buckets: readonly { label: string; from: string; to: string; start: number; end: number }[],
  opts: TrafficOptions = {},
): { rows: { day: string; clicks: number; visitors: number }[]; basis: TrafficBasis } {
  const days = rollups(db, range, 'day', opts);
  if (days) {
    const labels = new Map<string, string>();
    for (const b of buckets) for (const day of daysBetween(b.from, b.to)) labels.set(day, b.label);
    const rows = sumCells(
      days.rows.filter((r) => labels.has(r.key!)),
      (day) => labels.get(day!)!,
    );
    return { rows: rows.map((r) => ({ day: r.key!, clicks: r.clicks, visitors: r.visitors })), basis: days.basis };
  }
  return { rows: trafficByBucket(db, buckets.map((b) => [b.label, b.start, b.end]), range.filter), basis: EXACT };
}
