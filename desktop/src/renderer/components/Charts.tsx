import { Bar, BarChart, CartesianGrid, Cell, DefaultLegendContent, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import type { Series } from '../../core/attribution/reports';
import { BUCKET_WORDS, bucketTick, bucketTitle, formatAxisMoney, moneyTicks, niceTicks, spansYears } from '../chart-format';
import { formatCount, formatMoney } from '../format';
import { PARTIAL_WORDS, partialIndex, splitAtPartial } from '../partial-bucket';

// Distinct at a glance and each at least 3:1 against the card (WCAG's contrast for graphics).
export const PALETTE = ['#3a5ccc', '#c2570c', '#1a7f4b', '#c2417a', '#7048c2', '#8a6d00', '#0f7c93', '#5b6170', '#c23a3a', '#4d7a1f'];
const TRAFFIC = { clicks: '#3a5ccc', visitors: '#c2570c' };
/** The dashes of today's part of a chart, so a partial day never reads as a drop in traffic or revenue. */
const SO_FAR_DASH = '5 4';
const SO_FAR_INK = '#5b6170';

type Point = Series['points'][number];
type Row = Point & Record<string, number | string | Record<string, number>>;

/** Legend text in the page's own colour: a label in the series' colour could not be read (orange on white). */
const legendText = (value: string) => <span className="legend-label">{value}</span>;

/**
 * The legend under the plot, outside the chart: drawn by recharts' own legend content (the same list, icons and
 * labels), but recharts' Legend inside a chart reports its measured size to the chart, which then lays out and
 * draws every bar, axis and grid line again (about a third of the dashboard's render after its data came, in a
 * Chromium trace); here the plot simply takes the box's height left above the legend.
 */
function ChartLegend({ items }: { items: { value: string; color: string; type: 'rect' | 'line' | 'plainline'; payload?: { strokeDasharray: string } }[] }) {
  return (
    <div className="chart-legend">
      <DefaultLegendContent payload={items} formatter={legendText} layout="horizontal" align="center" verticalAlign="bottom" iconSize={14} />
    </div>
  );
}

/** The bucket under the pointer or the keyboard's focus: its days with their year, and only the series that are not zero. */
function TooltipBox({
  active,
  payload,
  bucket,
  partialFrom,
  lines,
}: Pick<TooltipContentProps<number, string>, 'active' | 'payload'> & { bucket: Series['bucket']; partialFrom: string | null; lines: (p: Point) => { name: string; value: string; color: string }[] }) {
  const point = payload?.[0]?.payload as Point | undefined;
  if (!active || !point) return null;
  const shown = lines(point);
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-title">{bucketName(point, bucket, partialFrom)}</p>
      {shown.length === 0 ? (
        <p className="muted">Nothing</p>
      ) : (
        <ul>
          {shown.map((l) => (
            <li key={l.name}>
              <span className="swatch" style={{ background: l.color }} aria-hidden="true" /> {l.name} <strong>{l.value}</strong>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A bucket's full name: its dates, and "(today, so far)" after the partial bucket's. */
const bucketName = (p: Pick<Point, 'from' | 'to'>, bucket: Series['bucket'], partialFrom: string | null) =>
  `${bucketTitle(p.from, p.to, bucket)}${p.from === partialFrom ? ` (${PARTIAL_WORDS[bucket].title})` : ''}`;

/** The partial bucket of a series as the charts mark it: its first day, its axis tick and its legend line. */
function partialOf(series: Series) {
  const index = partialIndex(series);
  const from = index === null ? null : series.points[index]!.from;
  const tick = (d: string, withYear: boolean) => ((d === from ? PARTIAL_WORDS[series.bucket].tick : null) ?? bucketTick(d, series.bucket, withYear));
  return { index, from, tick };
}

/** Net revenue per channel, stacked, one bar per bucket; refunds larger than a bucket's sales go below zero. */
export function RevenueChart({ series }: { series: Series }) {
  const { currency, bucket, channels } = series;
  const withYear = spansYears(series.range.from, series.range.to);
  const data: Row[] = series.points.map((p) => ({ ...p, ...p.netByChannel }));
  const partial = partialOf(series);
  const color = (c: string) => PALETTE[channels.indexOf(c) % PALETTE.length]!;
  // Stacked with stackOffset="sign": a bucket reaches down to the sum of its negative channels.
  const sum = (p: Point, sign: 1 | -1) => Object.values(p.netByChannel).reduce((a, n) => (n * sign > 0 ? a + n : a), 0);
  const ticks = moneyTicks(Math.min(0, ...series.points.map((p) => sum(p, -1))), Math.max(0, ...series.points.map((p) => sum(p, 1))), currency);
  return (
    <div
      className="chart"
      data-chart="daily"
      data-bucket={bucket}
      data-partial={partial.from ?? undefined}
      role="group"
      aria-label={`Net revenue per channel, ${BUCKET_WORDS[bucket]}${partial.from ? `; the last bar is ${PARTIAL_WORDS[bucket].title}` : ''}`}
    >
      <div className="chart-plot">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }} stackOffset="sign">
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="from" tickFormatter={(d: string) => partial.tick(d, withYear)} minTickGap={16} />
            <YAxis tickFormatter={(v: number) => formatAxisMoney(v, currency)} width={72} ticks={ticks} domain={[ticks[0]!, ticks.at(-1)!]} interval={0} />
            <Tooltip
              cursor={{ fillOpacity: 0.15 }}
              content={(p) => (
                <TooltipBox
                  {...p}
                  bucket={bucket}
                  partialFrom={partial.from}
                  lines={(pt) => {
                    const rows = channels.filter((c) => (pt.netByChannel[c] ?? 0) !== 0).map((c) => ({ name: c, value: formatMoney(pt.netByChannel[c]!, currency), color: color(c) }));
                    return rows.length > 1 ? [...rows, { name: 'Total', value: formatMoney(pt.netMinor, currency), color: 'transparent' }] : rows;
                  }}
                />
              )}
            />
            {channels.map((c) => (
              <Bar key={c} dataKey={c} name={c} stackId="net" fill={color(c)} isAnimationActive={false}>
                {/* Cells up to the partial bucket only (recharts pairs them with the bars by index): it is paler with a dashed outline. */}
                {partial.index !== null &&
                  data
                    .slice(0, partial.index + 1)
                    .map((_, i) => (i === partial.index ? <Cell key={i} fillOpacity={0.4} stroke={color(c)} strokeWidth={1.5} strokeDasharray={SO_FAR_DASH} /> : <Cell key={i} />))}
              </Bar>
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <ChartLegend
        items={[
          ...channels.map((c) => ({ value: c, color: color(c), type: 'rect' as const })),
          ...(partial.from ? [{ value: `Pale, dashed: ${PARTIAL_WORDS[bucket].title}`, color: SO_FAR_INK, type: 'plainline' as const, payload: { strokeDasharray: SO_FAR_DASH } }] : []),
        ]}
      />
    </div>
  );
}

/** Clicks and distinct visitors per bucket. */
export function TrafficChart({ series }: { series: Series }) {
  const { bucket } = series;
  const withYear = spansYears(series.range.from, series.range.to);
  const dots = series.points.length <= 31;
  const ticks = niceTicks(0, Math.max(0, ...series.points.map((p) => p.clicks)));
  const partial = partialOf(series);
  // Each line twice: solid over the whole buckets, dashed from the last whole one to the partial one.
  const data = splitAtPartial(series.points, ['clicks', 'visitors'], partial.index);
  // The partial point's own dot, hollow and larger, drawn even when the other points have none (long ranges).
  const soFarDot = (color: string) =>
    function SoFarDot({ cx, cy, index }: { cx?: number; cy?: number; index?: number }) {
      return index === partial.index && cx !== undefined && cy !== undefined ? <circle cx={cx} cy={cy} r={4.5} fill="#fff" stroke={color} strokeWidth={2} /> : <g />;
    };
  return (
    <div
      className="chart"
      data-chart="traffic"
      data-bucket={bucket}
      data-partial={partial.from ?? undefined}
      role="group"
      aria-label={`Clicks and visitors, ${BUCKET_WORDS[bucket]}${partial.from ? `; the dashed end is ${PARTIAL_WORDS[bucket].title}` : ''}`}
    >
      <div className="chart-plot">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="from" tickFormatter={(d: string) => partial.tick(d, withYear)} minTickGap={16} />
            <YAxis width={56} tickFormatter={(v: number) => formatCount(v)} ticks={ticks} domain={[0, ticks.at(-1)!]} interval={0} />
            <Tooltip
              content={(p) => (
                <TooltipBox
                  {...p}
                  bucket={bucket}
                  partialFrom={partial.from}
                  lines={(pt) =>
                    [
                      { name: 'Clicks', value: formatCount(pt.clicks), color: TRAFFIC.clicks, n: pt.clicks },
                      { name: 'Visitors', value: formatCount(pt.visitors), color: TRAFFIC.visitors, n: pt.visitors },
                    ].filter((l) => l.n !== 0)
                  }
                />
              )}
            />
            <Line dataKey="clicksWhole" name="Clicks" stroke={TRAFFIC.clicks} strokeWidth={2} dot={dots} isAnimationActive={false} />
            <Line dataKey="visitorsWhole" name="Visitors" stroke={TRAFFIC.visitors} strokeWidth={2} dot={dots} isAnimationActive={false} />
            {partial.index !== null && (
              <Line className="so-far" dataKey="clicksSoFar" name="Clicks" stroke={TRAFFIC.clicks} strokeWidth={2} strokeDasharray={SO_FAR_DASH} dot={soFarDot(TRAFFIC.clicks)} isAnimationActive={false} />
            )}
            {partial.index !== null && (
              <Line className="so-far" dataKey="visitorsSoFar" name="Visitors" stroke={TRAFFIC.visitors} strokeWidth={2} strokeDasharray={SO_FAR_DASH} dot={soFarDot(TRAFFIC.visitors)} isAnimationActive={false} />
            )}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <ChartLegend
        items={[
          { value: 'Clicks', color: TRAFFIC.clicks, type: 'line' },
          { value: 'Visitors', color: TRAFFIC.visitors, type: 'line' },
          ...(partial.from ? [{ value: `Dashed: ${PARTIAL_WORDS[bucket].title}`, color: SO_FAR_INK, type: 'plainline' as const, payload: { strokeDasharray: SO_FAR_DASH } }] : []),
        ]}
      />
    </div>
  );
}

/** The charts' figures as a table, for a screen reader, the keyboard, or copying a number. */
export function SeriesTable({ series }: { series: Series }) {
  const partial = partialOf(series);
  return (
    <details className="series-table">
      <summary>Show the figures as a table</summary>
      <table className="table" aria-label="Figures per bucket">
        <thead>
          <tr>
            <th>{series.bucket === 'day' ? 'Day' : series.bucket === 'week' ? 'Week' : 'Month'}</th>
            <th className="num">Net revenue</th>
            <th className="num">Clicks</th>
            <th className="num">Visitors</th>
          </tr>
        </thead>
        <tbody>
          {series.points.map((p) => (
            <tr key={p.from} data-bucket={p.from} data-partial={p.from === partial.from ? '' : undefined}>
              <td>{bucketName(p, series.bucket, partial.from)}</td>
              <td className="num">{formatMoney(p.netMinor, series.currency)}</td>
              <td className="num">{formatCount(p.clicks)}</td>
              <td className="num">{formatCount(p.visitors)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
