import { daysBetween } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import { clickDayCellsOf, clickDaysOf, sumCells, type TrafficBasis, type TrafficRow } from './click-days';
import type { CellGroup } from './click-days-repo';
import { clicksByCampaign, clicksByChannel, clicksByPartner, clicksBySlug, clickTotals, trafficByBucket, type ReportFilter } from './reports-repo';
import { VisitorUnion } from './visitor-sketch';

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
  /** Reads shared by the reports of one call (reports.ts's dashboardReport): the range's cells read and merged once. */
  shared?: Map<string, unknown>;
}

export type TrafficGroup = 'channel' | 'slug' | 'campaign' | 'partner';

const EXACT: TrafficBasis = { visitors: 'exact', visitorsFrom: null };

const rollups = (db: Db, range: TrafficRange, by: CellGroup, opts: TrafficOptions) => (opts.rollups === false ? null : clickDaysOf(db, range, by));

/** A link's cells of the range (one channel, campaign and partner of it: '' for none) merged over the days. */
interface Combo {
  slug: string;
  channel: string;
  campaign: string;
  partner: string;
  clicks: number;
  union: VisitorUnion;
}
interface RangeCells {
  combos: Combo[];
  days: Map<string, { clicks: number; union: VisitorUnion }>;
  basis: TrafficBasis;
}

/**
 * The range's cells merged once per link combination and per day, for every grouping of one call's reports: a
 * group's union is then the union of its combinations' (addUnion: the same entries, so the same count as adding
 * its cells one by one). undefined: not shared, or not read yet and `read` false; null: the rollups cannot answer.
 */
function sharedCells(db: Db, range: TrafficRange, opts: TrafficOptions, read: boolean): RangeCells | null | undefined {
  if (!opts.shared || opts.rollups === false) return undefined;
  const id = `cells ${JSON.stringify([range.from, range.to, range.timeZone, range.filter?.by ?? null, range.filter?.value ?? null])}`;
  if (opts.shared.has(id)) return opts.shared.get(id) as RangeCells | null;
  if (!read) return undefined;
  const found = clickDayCellsOf(db, range);
  let value: RangeCells | null = null;
  if (found) {
    const combos = new Map<string, Combo>();
    const days = new Map<string, { clicks: number; union: VisitorUnion }>();
    for (const [day, slug, channel, campaign, partner, clicks, visitors] of found.cells) {
      const key = `${slug}\u0000${channel}\u0000${campaign}\u0000${partner}`;
      let c = combos.get(key);
      if (!c) combos.set(key, (c = { slug, channel, campaign, partner, clicks: 0, union: new VisitorUnion() }));
      let d = days.get(day);
      if (!d) days.set(day, (d = { clicks: 0, union: new VisitorUnion() }));
      c.clicks += clicks;
      d.clicks += clicks;
      if (visitors !== null) {
        c.union.add(visitors);
        d.union.add(visitors);
      }
    }
    value = { combos: [...combos.values()], days, basis: found.basis };
  }
  opts.shared.set(id, value);
  return value;
}

/** The combinations grouped as sumCells groups the cells: a link's row carries the greatest channel of its cells, other rows their key. */
function groupCombos(combos: readonly Combo[], group: TrafficGroup | 'all'): TrafficRow[] {
  const keyOf = (c: Combo) => (group === 'channel' ? c.channel : group === 'slug' ? c.slug : group === 'campaign' ? c.campaign || null : group === 'partner' ? c.partner || null : null);
  const groups = new Map<string | null, { clicks: number; channel: string; union: VisitorUnion }>();
  for (const c of combos) {
    const k = keyOf(c);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { clicks: 0, channel: '', union: new VisitorUnion() }));
    g.clicks += c.clicks;
    if (group === 'slug' && c.channel > g.channel) g.channel = c.channel;
    g.union.addUnion(c.union);
  }
  return [...groups].map(([k, g]) => ({ key: k, clicks: g.clicks, visitors: Math.min(g.clicks, g.union.count()), channel: g.channel || (k ?? '') }));
}

/** Clicks and distinct visitors per channel, link, campaign or partner of the range's clicks. */
export function trafficBy(db: Db, range: TrafficRange, group: TrafficGroup, opts: TrafficOptions = {}): { rows: TrafficRow[]; basis: TrafficBasis } {
  const shared = sharedCells(db, range, opts, true);
  if (shared) return { rows: groupCombos(shared.combos, group), basis: shared.basis };
  const days = shared === null ? null : rollups(db, range, group, opts);
  if (days) return { rows: sumCells(days.rows), basis: days.basis };
  const { start, end, filter } = range;
  if (group === 'slug') return { rows: clicksBySlug(db, start, end, filter), basis: EXACT };
  const counted = group === 'channel' ? clicksByChannel(db, start, end, filter) : group === 'campaign' ? clicksByCampaign(db, start, end, filter) : clicksByPartner(db, start, end, filter);
  // The channel of a channel's row is itself; the other groups' rows do not read it.
  return { rows: counted.map((c) => ({ ...c, channel: c.key ?? '' })), basis: EXACT };
}

/** The range's clicks and distinct visitors in all. */
export function trafficTotal(db: Db, range: TrafficRange, opts: TrafficOptions = {}): { clicks: number; visitors: number; basis: TrafficBasis } {
  // Only a range read already for its groupings: a total alone (the previous period's) reads less without.
  const shared = sharedCells(db, range, opts, false);
  if (shared) {
    const [total] = groupCombos(shared.combos, 'all');
    return { clicks: total?.clicks ?? 0, visitors: total?.visitors ?? 0, basis: shared.basis };
  }
  const days = shared === null ? null : rollups(db, range, 'all', opts);
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
  const shared = sharedCells(db, range, opts, true);
  if (shared) {
    const merged = new Map<string, { clicks: number; union: VisitorUnion }>();
    for (const b of buckets) {
      for (const day of daysBetween(b.from, b.to)) {
        const d = shared.days.get(day);
        if (!d) continue;
        let m = merged.get(b.label);
        if (!m) merged.set(b.label, (m = { clicks: 0, union: new VisitorUnion() }));
        m.clicks += d.clicks;
        m.union.addUnion(d.union);
      }
    }
    return { rows: [...merged].map(([day, m]) => ({ day, clicks: m.clicks, visitors: Math.min(m.clicks, m.union.count()) })), basis: shared.basis };
  }
  const days = shared === null ? null : rollups(db, range, 'day', opts);
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
