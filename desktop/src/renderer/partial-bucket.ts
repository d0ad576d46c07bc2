import { dayInZone } from '@revtrail/shared/attribution/days';
import type { Bucket, Series } from '../core/attribution/reports';

/**
 * The index of the series' bucket that is still filling, or null: the last bucket when the range ends today in
 * its own zone (the workspace's, in which the core cut the buckets), since today has only its hours so far and
 * would read as a drop. A range that ended before today has no partial bucket. The figures are not touched.
 */
export function partialIndex(series: Pick<Series, 'range' | 'points'>, now = Date.now()): number | null {
  const last = series.points.length - 1;
  if (last < 0) return null;
  return series.range.to === dayInZone(now, series.range.timeZone) && series.points[last]!.to === series.range.to ? last : null;
}

/**
 * How the partial bucket is named after its dates in a tooltip or table, and on the axis: "Today" under a day; a
 * week or month keeps its date there (with its year when the range spans years), its style and title say the rest.
 */
export const PARTIAL_WORDS: Record<Bucket, { tick: string | null; title: string }> = {
  day: { tick: 'Today', title: 'today, so far' },
  week: { tick: null, title: 'this week, so far' },
  month: { tick: null, title: 'this month, so far' },
};

export type SplitRow<T, K extends string> = T & Record<`${K}Whole` | `${K}SoFar`, number | null>;

/**
 * A line's points as two series for the chart: `<key>Whole` on the whole buckets (null on the partial one, so the
 * solid line stops at the last whole bucket), and `<key>SoFar` on the last whole bucket and the partial one only,
 * drawn dashed. The points keep their own figures, which the tooltip reads.
 */
export function splitAtPartial<T extends Record<K, number>, K extends string>(points: readonly T[], keys: readonly K[], partial: number | null): SplitRow<T, K>[] {
  return points.map((p, i) => {
    const row: Record<string, unknown> = { ...p };
    for (const k of keys) {
      row[`${k}Whole`] = partial === null || i < partial ? p[k] : null;
      row[`${k}SoFar`] = partial !== null && i >= partial - 1 ? p[k] : null;
    }
    return row as SplitRow<T, K>;
  });
}
